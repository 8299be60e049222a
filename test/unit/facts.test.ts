// Each pipeline fact lives once, in config/facts: a version literal or a topic name written
// anywhere else in the code (outside tests and docs) fails here, naming the file and the line.
// Manifests that a package manager reads verbatim cannot import the facts; they must agree.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { AIRFLOW_CONSTRAINTS, DEAD_LETTER_TOPIC, USERS_TOPIC, VERSIONS } from '../../config/facts';

const ROOT = path.resolve(__dirname, '../..');
/** Never scanned: tests, docs, the facts themselves, generated and third-party trees, measured results. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'test', 'docs', 'cdktf.out', 'dist', '.rtds', 'results', 'constraints']);
const SKIP_FILES = new Set(['config/facts/versions.ts', 'config/facts/topics.ts', 'package-lock.json', 'workloads/package-lock.json']);
/** Read by npm, pip and Maven as they are: checked for agreement below instead. */
const MANIFESTS = new Set(['package.json', 'workloads/package.json', 'spark-apps/requirements.txt', 'spark-apps/jars/pom.xml', 'scripts/services/apicurio/pom.xml']);
/**
 * Second copies this branch could not remove, with why. The list must match what the scan finds,
 * so a new copy fails and a removed one must be taken off.
 */
const KNOWN_COPIES: Record<string, string> = {};

/** The version literals and topic names the scan looks for (short ones like '15' would match anything). */
const NEEDLES: Array<{ fact: string; re: RegExp }> = [
  ...Object.entries(VERSIONS)
    .filter(([, v]) => /^v?\d+\.\d+\.\d+/.test(v) || /^\d+\.\d+$/.test(v) && v.length >= 5)
    .map(([k, v]) => ({ fact: `VERSIONS.${k} (${v})`, re: new RegExp(`(?<![\\w.])${v.replace(/\./g, '\\.')}(?![\\w]|\\.\\d)`) })),
  { fact: `the users topic (${USERS_TOPIC})`, re: new RegExp(`\\b${USERS_TOPIC}\\b`) },
  { fact: `the dead-letter topic (${DEAD_LETTER_TOPIC})`, re: new RegExp(`\\b${DEAD_LETTER_TOPIC}\\b`) },
];

/** The project's files as git sees them (tracked, or new and not ignored): no state files, no caches. */
function files(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return listed.split('\n').filter(Boolean).filter((rel) => {
    const parts = rel.split('/');
    if (parts.slice(0, -1).some((d) => SKIP_DIRS.has(d) || d.startsWith('.'))) return false;
    const name = parts[parts.length - 1];
    return !rel.endsWith('.md') && !SKIP_FILES.has(rel) && !name.startsWith('.') && fs.existsSync(path.join(ROOT, rel));
  });
}

describe('each pipeline fact lives once, in config/facts', () => {
  const found = new Map<string, string[]>();
  for (const file of files()) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    if (text.includes('\u0000')) continue;
    text.split('\n').forEach((line, i) => {
      for (const n of NEEDLES) if (n.re.test(line)) (found.get(file) ?? found.set(file, []).get(file)!).push(`${file}:${i + 1}: ${n.fact}: ${line.trim().slice(0, 120)}`);
    });
  }

  it('no version literal or topic name appears in code outside tests and config/facts', () => {
    const stray = [...found.entries()].filter(([f]) => !MANIFESTS.has(f) && !(f in KNOWN_COPIES)).flatMap(([, lines]) => lines);
    expect(stray).toEqual([]);
  });

  it('the known leftovers are exactly the ones listed, each with its reason', () => {
    const leftovers = [...found.keys()].filter((f) => f in KNOWN_COPIES).sort();
    expect(leftovers).toEqual(Object.keys(KNOWN_COPIES).sort());
  });

  it('the scan sees the code it guards (a broken walk would pass everything)', () => {
    const scanned = files();
    for (const f of ['config/index.ts', 'constructs/components/kafka.ts', 'scripts/services/kafka.ts', 'scripts/deploy/images.ts', 'images/postgres/Dockerfile', 'workloads/Dockerfile', 'bench/bench.ts', 'dags/user_pipeline.py'])
      expect({ f, scanned: scanned.includes(f) }).toEqual({ f, scanned: true });
    expect(NEEDLES.map((n) => n.fact)).toEqual(expect.arrayContaining([`VERSIONS.kafka (${VERSIONS.kafka})`, `VERSIONS.apicurio (${VERSIONS.apicurio})`, `VERSIONS.node (${VERSIONS.node})`]));
  });

  it('manifests that package managers read verbatim agree with config/facts', () => {
    const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
    expect(JSON.parse(read('package.json')).devDependencies.node).toBe(VERSIONS.node);
    expect(read('spark-apps/requirements.txt')).toMatch(new RegExp(`^pyspark==${VERSIONS.spark.replace(/\./g, '\\.')}$`, 'm'));
    expect(read('spark-apps/jars/pom.xml')).toContain(`<spark.version>${VERSIONS.spark}</spark.version>`);
    expect(read('scripts/services/apicurio/pom.xml')).toContain(`<apicurio.version>${VERSIONS.apicurio}</apicurio.version>`);
    expect(fs.existsSync(path.join(ROOT, AIRFLOW_CONSTRAINTS))).toBe(true);
    expect(read(AIRFLOW_CONSTRAINTS)).toMatch(new RegExp(`^apache-airflow==${VERSIONS.airflow.replace(/\./g, '\\.')}$`, 'm'));
    // The root package.json and the workloads image's share every runtime version.
    const root = JSON.parse(read('package.json')).dependencies;
    for (const [name, version] of Object.entries(JSON.parse(read('workloads/package.json')).dependencies as Record<string, string>))
      expect({ name, version }).toEqual({ name, version: root[name] });
  });
});

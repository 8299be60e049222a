// Spark for the local services and the local job: PySpark from PyPI in a cached venv (which
// carries bin/, jars/ and the launcher scripts) and the job's connector jars resolved ahead with mvn.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { COPY_DEPENDENCIES, VERSIONS } from '../../config/facts';
import { runMaven } from './maven';
import { ensureVenv, VenvSpec, venvDir } from './python-env';
import { withFileLockSync } from './process';
import { ServiceContext } from './service';

export const SPARK_VERSION = VERSIONS.spark;
const REPO = path.resolve(__dirname, '..', '..');
export const SPARK_APPS = path.join(REPO, 'spark-apps');
const JARS_POM = path.join(SPARK_APPS, 'jars', 'pom.xml');

/** Where Spark's cached pieces live: `<cache>/spark-<version>/{venv,jars}`. */
export function sparkCacheDir(ctx: Pick<ServiceContext, 'cacheDir'>): string {
  return path.join(ctx.cacheDir, `spark-${SPARK_VERSION}`);
}

/** The PySpark venv: the job's requirements (pyspark, fastavro, pyarrow, pandas) and pytest for its tests. */
function sparkVenv(ctx: Pick<ServiceContext, 'cacheDir'>): VenvSpec {
  const requirements = path.join(SPARK_APPS, 'requirements.txt');
  const testRequirements = path.join(REPO, 'test', 'python', 'requirements.txt');
  return { base: path.join(sparkCacheDir(ctx), 'venv'), pipArgs: ['-r', requirements, '-r', testRequirements], inputs: [requirements, testRequirements] };
}

/** Builds the PySpark venv when missing; returns its python. */
export function provisionPySpark(ctx: ServiceContext): string {
  return ensureVenv(ctx, 'spark', sparkVenv(ctx));
}

/** The PySpark venv's python (the driver's and the executors'), provisioned or not. */
export function sparkPython(ctx: Pick<ServiceContext, 'cacheDir'>): string {
  return path.join(venvDir(sparkVenv(ctx)), 'bin', 'python');
}

/** SPARK_HOME inside the venv (the pyspark package carries bin/, sbin/ and jars/). */
export function sparkHome(ctx: Pick<ServiceContext, 'cacheDir'>): string {
  const lib = path.join(venvDir(sparkVenv(ctx)), 'lib');
  const pythonDir = fs.existsSync(lib) ? fs.readdirSync(lib).find((d) => d.startsWith('python3')) : undefined;
  if (!pythonDir) throw new Error(`PySpark is not provisioned in ${sparkCacheDir(ctx)}: run \`npm run services:up -- --only spark\``);
  return path.join(lib, pythonDir, 'site-packages', 'pyspark');
}

/** `artifact-1.2.3.jar` -> [`artifact`, `1.2.3`]. */
export function splitJarName(file: string): [string, string] {
  const m = /^(.+?)-(\d[^-]*(?:-[A-Za-z0-9.]+)*)\.jar$/.exec(file);
  return m ? [m[1], m[2]] : [file.replace(/\.jar$/, ''), ''];
}

/** Numeric-aware version order: 1.1.10 > 1.1.8.4. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
    if (c !== 0) return c;
  }
  return 0;
}

// Spark itself provides the Scala runtime and logging: a second copy only risks conflicts.
const PROVIDED_BY_SPARK = new Set(['scala-library', 'scala-reflect', 'slf4j-api', 'spark-tags_2.12']);

/**
 * The jars to pass with --jars: the resolved set minus what Spark already ships at the same
 * or a newer version (that is on every classpath anyway).
 */
export function jarsBeyondSpark(resolved: readonly string[], sparkJars: readonly string[]): string[] {
  const shipped = new Map(sparkJars.map((j) => splitJarName(j)));
  return resolved.filter((jar) => {
    const [artifact, version] = splitJarName(jar);
    if (PROVIDED_BY_SPARK.has(artifact)) return false;
    const theirs = shipped.get(artifact);
    return theirs === undefined || compareVersions(version, theirs) > 0;
  });
}

/**
 * Resolves spark-apps/jars/pom.xml into `<cache>/spark-<v>/jars-<pom hash>` (one directory per pom,
 * like the venv, so a checkout with another pom never empties the one a running job reads);
 * returns the jar paths.
 */
export function provisionConnectorJars(ctx: ServiceContext): string[] {
  const digest = createHash('sha256').update(fs.readFileSync(JARS_POM)).digest('hex');
  const dir = path.join(sparkCacheDir(ctx), `jars-${digest.slice(0, 12)}`);
  const stamp = path.join(dir, '.rtds-stamp');
  const ready = () => fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest;
  if (!ready()) {
    withFileLockSync(`${dir}.lock`, () => {
      if (ready()) return;
      const started = Date.now();
      ctx.log(`spark: resolving the connector jars of ${path.relative(REPO, JARS_POM)} with mvn`);
      const resolved = `${dir}.resolved`;
      fs.rmSync(resolved, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
      runMaven(ctx, REPO, ['-f', JARS_POM, COPY_DEPENDENCIES, `-DoutputDirectory=${resolved}`, '-DincludeScope=runtime'], 'spark jars');
      const keep = jarsBeyondSpark(
        fs.readdirSync(resolved).filter((f) => f.endsWith('.jar')),
        fs.readdirSync(path.join(sparkHome(ctx), 'jars')),
      );
      fs.mkdirSync(dir, { recursive: true });
      for (const jar of keep) fs.renameSync(path.join(resolved, jar), path.join(dir, jar));
      fs.rmSync(resolved, { recursive: true, force: true });
      fs.writeFileSync(stamp, digest + '\n');
      ctx.log(`spark: ${keep.length} connector jars ready in ${Math.round((Date.now() - started) / 1000)} s`);
    });
  }
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jar'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function javaMajor(): number {
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  let text: string;
  try {
    // java -version writes to stderr.
    text = execFileSync('sh', ['-c', `"${java}" -version 2>&1`], { encoding: 'utf8' });
  } catch {
    throw new Error(`\`${java} -version\` failed: install a Java 17 JDK (Debian: apt-get install openjdk-17-jdk-headless) or set JAVA_HOME`);
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) throw new Error(`could not read the Java version from \`${java} -version\`: ${text.trim()}`);
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}


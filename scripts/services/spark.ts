// Local Spark: PySpark from PyPI in a cached venv, the job's connector jars resolved ahead with
// mvn, and a real standalone master + worker (spark-class) on loopback. Also the spark-submit
// line for spark-apps/users_stream.py, used by the e2e tests and the local pipeline.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LocalEndpoints } from './endpoints';
import { runMaven } from './maven';
import { assertPortFree, isAlive, readPid, spawnDaemon, stopPid, waitFor } from './process';
import { DaemonService, ServiceContext, ServicePort, ServiceStatus, portFromEnv } from './service';

export const SPARK_VERSION = '3.5.7';
const REPO = path.resolve(__dirname, '..', '..');
const SPARK_APPS = path.join(REPO, 'spark-apps');
const JARS_POM = path.join(SPARK_APPS, 'jars', 'pom.xml');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies';

// ---------------------------------------------------------------------------------------------
// Python virtual environments (shared with airflow.ts).
// ---------------------------------------------------------------------------------------------

/** The interpreter venvs are made from: `RTDS_PYTHON`, else python3.11, else python3. */
export function basePython(): string {
  const candidates = process.env.RTDS_PYTHON ? [process.env.RTDS_PYTHON] : ['python3.11', 'python3'];
  for (const candidate of candidates) {
    try {
      const version = execFileSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      const [major, minor] = version.split('.').map(Number);
      if (major === 3 && minor >= 9 && minor <= 12) return candidate;
    } catch {
      /* try the next one */
    }
  }
  throw new Error(
    `no Python 3.9-3.12 found (tried ${candidates.join(', ')}): install python3.11 (Debian: apt-get install python3 python3-venv) or set RTDS_PYTHON`,
  );
}

export interface VenvSpec {
  /** Directory of the venv, inside the cache. */
  readonly dir: string;
  /** Lines given to `pip install` (requirement specifiers or `-r file` / `-c file` pairs). */
  readonly pipArgs: readonly string[];
  /** Files whose content decides whether the venv is current (requirements, constraints). */
  readonly inputs: readonly string[];
}

/** The venv's python; builds the venv when missing or when its inputs changed (a stamp holds their hash). */
export function ensureVenv(ctx: ServiceContext, name: string, spec: VenvSpec): string {
  const python = path.join(spec.dir, 'bin', 'python');
  const stamp = path.join(spec.dir, '.rtds-stamp');
  const hash = createHash('sha256');
  // Paths inside the checkout count by name only, so every clone shares one cached venv.
  hash.update(spec.pipArgs.map((a) => (path.isAbsolute(a) && a.startsWith(REPO + path.sep) ? path.relative(REPO, a) : a)).join('\n'));
  for (const input of spec.inputs) hash.update(fs.readFileSync(input));
  const digest = hash.digest('hex');
  if (fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest) return python;
  const started = Date.now();
  ctx.log(`${name}: building the Python venv ${spec.dir}`);
  fs.rmSync(spec.dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(spec.dir), { recursive: true });
  const base = basePython();
  try {
    run(base, ['-m', 'venv', spec.dir], `${name}: python -m venv`);
  } catch (err) {
    // Debian's python3 comes without ensurepip until python3-venv is installed.
    if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/apt-get')) throw err;
    ctx.log(`${name}: installing Debian package python3-venv`);
    execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'python3-venv'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    fs.rmSync(spec.dir, { recursive: true, force: true });
    run(base, ['-m', 'venv', spec.dir], `${name}: python -m venv`);
  }
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...spec.pipArgs], `${name}: pip install`);
  fs.writeFileSync(stamp, digest + '\n');
  ctx.log(`${name}: venv ready in ${Math.round((Date.now() - started) / 1000)} s`);
  return python;
}

function run(command: string, args: readonly string[], what: string, env?: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(command, [...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      env: env ?? process.env,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${what} failed\n${out || e.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// PySpark venv and connector jars.
// ---------------------------------------------------------------------------------------------

/** Where Spark's cached pieces live: `<cache>/spark-<version>/{venv,jars}`. */
export function sparkCacheDir(ctx: Pick<ServiceContext, 'cacheDir'>): string {
  return path.join(ctx.cacheDir, `spark-${SPARK_VERSION}`);
}

/** The PySpark venv (pyspark, fastavro for the job, pytest for its tests); returns its python. */
export function provisionPySpark(ctx: ServiceContext): string {
  const requirements = path.join(SPARK_APPS, 'requirements.txt');
  const testRequirements = path.join(REPO, 'test', 'python', 'requirements.txt');
  return ensureVenv(ctx, 'spark', {
    dir: path.join(sparkCacheDir(ctx), 'venv'),
    pipArgs: ['-r', requirements, '-r', testRequirements],
    inputs: [requirements, testRequirements],
  });
}

/** SPARK_HOME inside the venv (the pyspark package carries bin/, sbin/ and jars/). */
export function sparkHome(ctx: Pick<ServiceContext, 'cacheDir'>): string {
  const lib = path.join(sparkCacheDir(ctx), 'venv', 'lib');
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

/** Resolves spark-apps/jars/pom.xml into `<cache>/spark-<v>/jars` (cached by the pom's hash); returns the jar paths. */
export function provisionConnectorJars(ctx: ServiceContext): string[] {
  const dir = path.join(sparkCacheDir(ctx), 'jars');
  const stamp = path.join(dir, '.rtds-stamp');
  const digest = createHash('sha256').update(fs.readFileSync(JARS_POM)).digest('hex');
  if (!(fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest)) {
    const started = Date.now();
    ctx.log(`spark: resolving the connector jars of ${path.relative(REPO, JARS_POM)} with mvn`);
    const resolved = path.join(sparkCacheDir(ctx), 'jars-resolved');
    fs.rmSync(resolved, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    runMaven(ctx, REPO, ['-f', JARS_POM, DEPENDENCY_PLUGIN, `-DoutputDirectory=${resolved}`, '-DincludeScope=runtime'], 'spark jars');
    const keep = jarsBeyondSpark(
      fs.readdirSync(resolved).filter((f) => f.endsWith('.jar')),
      fs.readdirSync(path.join(sparkHome(ctx), 'jars')),
    );
    fs.mkdirSync(dir, { recursive: true });
    for (const jar of keep) fs.renameSync(path.join(resolved, jar), path.join(dir, jar));
    fs.rmSync(resolved, { recursive: true, force: true });
    fs.writeFileSync(stamp, digest + '\n');
    ctx.log(`spark: ${keep.length} connector jars ready in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jar'))
    .sort()
    .map((f) => path.join(dir, f));
}

function javaMajor(): number {
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

// ---------------------------------------------------------------------------------------------
// The master + worker service.
// ---------------------------------------------------------------------------------------------

export class Spark extends DaemonService {
  readonly name = 'spark';
  protected readonly stopGraceSeconds = 20;

  version(): string {
    return SPARK_VERSION;
  }

  ports(_ctx?: ServiceContext): readonly ServicePort[] {
    return [
      { name: 'master', port: portFromEnv('RTDS_SPARK_PORT', 17077), env: 'RTDS_SPARK_PORT' },
      { name: 'ui', port: portFromEnv('RTDS_SPARK_UI_PORT', 18090), env: 'RTDS_SPARK_UI_PORT' },
      { name: 'worker-ui', port: portFromEnv('RTDS_SPARK_WORKER_UI_PORT', 18091), env: 'RTDS_SPARK_WORKER_UI_PORT' },
    ];
  }

  private port(ctx: ServiceContext, name: string): number {
    return this.ports(ctx).find((p) => p.name === name)!.port;
  }

  masterUrl(ctx: ServiceContext): string {
    return `spark://127.0.0.1:${this.port(ctx, 'master')}`;
  }

  uiUrl(ctx: ServiceContext): string {
    return `http://127.0.0.1:${this.port(ctx, 'ui')}`;
  }

  workerPidFile(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'worker.pid');
  }

  workerLogFile(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'worker.log');
  }

  async provision(ctx: ServiceContext): Promise<void> {
    provisionPySpark(ctx);
    // Resolving the jars installs Maven and a JDK 17 from Debian when they are missing (maven.ts).
    provisionConnectorJars(ctx);
    const major = javaMajor();
    if (major < 11 || major > 17) {
      throw new Error(`Spark ${SPARK_VERSION} needs Java 11 or 17, found Java ${major}: set JAVA_HOME to a JDK 17`);
    }
  }

  private env(ctx: ServiceContext): Record<string, string> {
    const python = path.join(sparkCacheDir(ctx), 'venv', 'bin', 'python');
    return {
      SPARK_HOME: sparkHome(ctx),
      SPARK_LOCAL_IP: '127.0.0.1',
      SPARK_LOG_DIR: this.dataDir(ctx),
      SPARK_WORKER_DIR: path.join(this.dataDir(ctx), 'work'),
      PYSPARK_PYTHON: python,
      PYSPARK_DRIVER_PYTHON: python,
      SPARK_NO_DAEMONIZE: '1',
    };
  }

  async start(ctx: ServiceContext): Promise<void> {
    for (const p of this.ports(ctx)) await assertPortFree('spark', p.name, p.port, p.env);
    const sparkClass = path.join(sparkHome(ctx), 'bin', 'spark-class');
    const env = this.env(ctx);
    fs.mkdirSync(env.SPARK_WORKER_DIR, { recursive: true });
    const started = Date.now();
    const master = spawnDaemon({
      command: sparkClass,
      args: [
        'org.apache.spark.deploy.master.Master',
        '--host', '127.0.0.1',
        '--port', String(this.port(ctx, 'master')),
        '--webui-port', String(this.port(ctx, 'ui')),
      ],
      logFile: this.logFile(ctx),
      pidFile: this.pidFile(ctx),
      env,
    });
    await waitFor('spark master', () => this.masterState(ctx).then((s) => s !== undefined), {
      timeoutMs: 60_000,
      alive: () => isAlive(master),
      hint: () => this.logTail(ctx),
    });
    const worker = spawnDaemon({
      command: sparkClass,
      args: [
        'org.apache.spark.deploy.worker.Worker',
        this.masterUrl(ctx),
        '--host', '127.0.0.1',
        '--webui-port', String(this.port(ctx, 'worker-ui')),
        // More cores than the machine has, so the pipeline's stream and a test's can run side by side.
        '--cores', process.env.RTDS_SPARK_WORKER_CORES || '4',
        '--memory', process.env.RTDS_SPARK_WORKER_MEMORY || '3g',
        '--work-dir', env.SPARK_WORKER_DIR,
      ],
      logFile: this.workerLogFile(ctx),
      pidFile: this.workerPidFile(ctx),
      env,
    });
    await waitFor('spark worker', () => this.healthy(ctx), {
      timeoutMs: 60_000,
      alive: () => isAlive(worker),
      hint: () => fs.readFileSync(this.workerLogFile(ctx), 'utf8').trimEnd().split('\n').slice(-20).join('\n'),
    });
    ctx.log(`spark: master + worker up in ${((Date.now() - started) / 1000).toFixed(1)} s (${this.uiUrl(ctx)})`);
  }

  /** The master's JSON status (`status`, `aliveworkers`...), undefined when it does not answer. */
  async masterState(ctx: ServiceContext): Promise<{ status: string; aliveworkers: number; activeapps: unknown[] } | undefined> {
    try {
      const res = await fetch(`${this.uiUrl(ctx)}/json/`, { signal: AbortSignal.timeout(2000) });
      return res.ok ? ((await res.json()) as { status: string; aliveworkers: number; activeapps: unknown[] }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Healthy when the master is ALIVE with at least one live worker. */
  async healthy(ctx: ServiceContext): Promise<boolean> {
    const state = await this.masterState(ctx);
    return state !== undefined && state.status === 'ALIVE' && state.aliveworkers >= 1;
  }

  async status(ctx: ServiceContext): Promise<ServiceStatus> {
    const base = await super.status(ctx);
    const worker = readPid(this.workerPidFile(ctx));
    if (base.state === 'running' && (worker === undefined || !isAlive(worker))) {
      return { ...base, state: 'unhealthy', detail: `the worker is not running (see ${this.workerLogFile(ctx)})` };
    }
    return base;
  }

  async stop(ctx: ServiceContext): Promise<void> {
    await stopPid(this.workerPidFile(ctx), this.stopGraceSeconds * 1000);
    await super.stop(ctx);
  }

  async endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>> {
    return { spark: { masterUrl: this.masterUrl(ctx), uiUrl: this.uiUrl(ctx) } };
  }
}

export const spark = new Spark();

// ---------------------------------------------------------------------------------------------
// Submitting the users stream.
// ---------------------------------------------------------------------------------------------

export interface UsersStreamOptions {
  /** Name of its directory under `<home>` (pid, log), so tests can run their own next to the pipeline's. @default `users-stream` */
  readonly instance?: string;
  /** Checkpoint directory. @default `<home>/users-stream/checkpoint` */
  readonly checkpointDir?: string;
  /** Kafka topic to read. @default `users_created` */
  readonly topic?: string;
  /** Dead-letter topic. @default `users_created_dlq` */
  readonly deadLetterTopic?: string;
  /** Executor memory. @default `1g` */
  readonly executorMemory?: string;
  /** Cores the job takes from the worker. @default 2 */
  readonly cores?: number;
  /** Extra environment for the job (e.g. TRIGGER_SECONDS, MAX_OFFSETS_PER_TRIGGER). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SubmitCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

/** The spark-submit command (client mode on the local master) and environment for users_stream.py. */
export function usersStreamSubmit(
  ctx: ServiceContext,
  endpoints: LocalEndpoints,
  opts: UsersStreamOptions = {},
): SubmitCommand {
  if (!endpoints.spark) throw new Error('endpoints.json has no "spark" entry: run `npm run services:up -- --only spark` first');
  const home = sparkHome(ctx);
  const jars = provisionConnectorJars(ctx);
  const python = path.join(sparkCacheDir(ctx), 'venv', 'bin', 'python');
  const c = endpoints.cassandra;
  return {
    command: path.join(home, 'bin', 'spark-submit'),
    args: [
      '--master', endpoints.spark.masterUrl,
      '--deploy-mode', 'client',
      '--name', 'users_stream',
      '--jars', jars.join(','),
      '--conf', `spark.executor.memory=${opts.executorMemory ?? '1g'}`,
      '--conf', `spark.cores.max=${opts.cores ?? 2}`,
      '--conf', 'spark.driver.host=127.0.0.1',
      '--conf', 'spark.ui.enabled=false',
      path.join(SPARK_APPS, 'users_stream.py'),
    ],
    env: {
      SPARK_HOME: home,
      SPARK_LOCAL_IP: '127.0.0.1',
      PYSPARK_PYTHON: python,
      PYSPARK_DRIVER_PYTHON: python,
      KAFKA_BOOTSTRAP_SERVERS: endpoints.kafka.bootstrapServers,
      SCHEMA_REGISTRY_URL: endpoints.schemaRegistry.url,
      KAFKA_TOPIC: opts.topic ?? 'users_created',
      DEAD_LETTER_TOPIC: opts.deadLetterTopic ?? 'users_created_dlq',
      CASSANDRA_HOST: c.contactPoints.map((p) => p.split(':')[0]).join(','),
      CASSANDRA_PORT: String(c.port),
      CASSANDRA_USERNAME: c.username,
      CASSANDRA_PASSWORD: c.password,
      CASSANDRA_LOCAL_DC: c.localDataCenter,
      CHECKPOINT_DIR: opts.checkpointDir ?? path.join(ctx.home, opts.instance ?? 'users-stream', 'checkpoint'),
      ...opts.env,
    },
  };
}

/** pid and log files of the submitted users stream. */
export function usersStreamFiles(ctx: Pick<ServiceContext, 'home'>, instance = 'users-stream'): { pidFile: string; logFile: string } {
  const dir = path.join(ctx.home, instance);
  return { pidFile: path.join(dir, 'pid'), logFile: path.join(dir, 'log') };
}

/** Submits users_stream.py detached; returns the driver's pid. */
export function startUsersStream(ctx: ServiceContext, endpoints: LocalEndpoints, opts: UsersStreamOptions = {}): number {
  const submit = usersStreamSubmit(ctx, endpoints, opts);
  const files = usersStreamFiles(ctx, opts.instance);
  const running = readPid(files.pidFile);
  if (running !== undefined && isAlive(running)) {
    throw new Error(`the users stream is already running (pid ${running}, ${files.pidFile}): stop it first`);
  }
  return spawnDaemon({ command: submit.command, args: submit.args, env: submit.env, ...files });
}

/** Stops the users stream driver (and with it its executors). */
export async function stopUsersStream(ctx: Pick<ServiceContext, 'home'>, instance = 'users-stream', graceMs = 20_000): Promise<void> {
  await stopPid(usersStreamFiles(ctx, instance).pidFile, graceMs);
}

// `ts-node scripts/services/spark.ts provision|start|stop|python|jars`: Spark alone, without the
// services CLI (python-tests.sh uses `python` to get the venv's interpreter and `jars` for the
// connector jars its Spark session tests put on the classpath).
if (require.main === module) {
  void (async () => {
    const { createContext } = await import('./lifecycle');
    const ctx = createContext({ log: (m) => process.stderr.write(`${m}\n`) });
    const command = process.argv[2];
    if (command === 'provision') await spark.provision(ctx);
    else if (command === 'python') process.stdout.write(provisionPySpark(ctx) + '\n');
    else if (command === 'jars') process.stdout.write(provisionConnectorJars(ctx).join(',') + '\n');
    else if (command === 'start') await spark.start(ctx);
    else if (command === 'stop') await spark.stop(ctx);
    else throw new Error(`usage: spark.ts provision|python|jars|start|stop (got "${command ?? ''}")`);
  })().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}

// Local Apache Airflow 3: its own cached venv installed against the committed constraints file,
// its metadata in the local PostgreSQL (own role and database), and the api-server, scheduler
// and dag-processor as three detached processes on loopback, reading the repo's dags/.
import { AIRFLOW_DEFAULTS, POSTGRES_DEFAULTS } from '../../config';
import { AIRFLOW_CONSTRAINTS, LOCAL_PORTS, localPort, VERSIONS } from '../../config/facts';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { LocalEndpoints, PostgresEndpoint, readPartialEndpoints, workloadEnv } from './endpoints';
import { assertPortFree, isAlive, readPid, spawnDaemon, stopPid, waitFor } from './process';
import { DaemonService, ServiceContext, ServicePort, ServiceStatus, servicePort } from './service';
import { basePython, ensureVenv, VenvSpec, venvDir } from './python-env';

export const AIRFLOW_VERSION = VERSIONS.airflow;
const PYTHON_VERSION = VERSIONS.airflowPython;
const REPO = path.resolve(__dirname, '..', '..');
const CONSTRAINTS = path.join(REPO, AIRFLOW_CONSTRAINTS);
/** What the DAG imports: psycopg2 (postgres), confluent-kafka (apache-kafka), cassandra-driver (apache-cassandra). */
const PROVIDERS = [
  'apache-airflow-providers-postgres',
  'apache-airflow-providers-apache-kafka',
  'apache-airflow-providers-apache-cassandra',
  'apache-airflow-providers-standard',
];
const DB_ROLE = POSTGRES_DEFAULTS.airflowUser;
const DB_NAME = POSTGRES_DEFAULTS.airflowDatabase;
const ADMIN = AIRFLOW_DEFAULTS.adminUser;
/** Processes besides the api-server (whose pid is the service's main pid). */
const COMPONENTS = ['scheduler', 'dag-processor'] as const;

export class Airflow extends DaemonService {
  readonly name = 'airflow';
  protected readonly stopGraceSeconds = 20;

  version(): string {
    return AIRFLOW_VERSION;
  }

  dependsOn(): readonly string[] {
    return ['postgres'];
  }

  ports(_ctx?: ServiceContext): readonly ServicePort[] {
    return [servicePort('api', LOCAL_PORTS.airflow)];
  }

  url(ctx: ServiceContext): string {
    return `http://127.0.0.1:${this.mainPort(ctx)}`;
  }

  /** Airflow, its providers and pytest, pinned by the constraints file. */
  private venvSpec(ctx: Pick<ServiceContext, 'cacheDir'>): VenvSpec {
    const testRequirements = path.join(REPO, 'test', 'python', 'requirements.txt');
    return {
      base: path.join(ctx.cacheDir, `airflow-${AIRFLOW_VERSION}`, 'venv'),
      pipArgs: [`apache-airflow==${AIRFLOW_VERSION}`, ...PROVIDERS, '-r', testRequirements, '-c', CONSTRAINTS],
      inputs: [CONSTRAINTS, testRequirements],
    };
  }

  venvDir(ctx: Pick<ServiceContext, 'cacheDir'>): string {
    return venvDir(this.venvSpec(ctx));
  }

  /** The `airflow` executable of the venv. */
  airflowBin(ctx: Pick<ServiceContext, 'cacheDir'>): string {
    return path.join(this.venvDir(ctx), 'bin', 'airflow');
  }

  airflowHome(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'home');
  }

  /** Builds the venv with `pip install apache-airflow==<v> <providers> -c constraints/...`; returns its python. */
  provisionVenv(ctx: ServiceContext): string {
    const python = basePython();
    const version = execFileSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim();
    if (version !== PYTHON_VERSION) {
      throw new Error(
        `Airflow's constraints file ${path.relative(REPO, CONSTRAINTS)} is for Python ${PYTHON_VERSION}, but ${python} is ${version}: set RTDS_PYTHON to a python${PYTHON_VERSION}`,
      );
    }
    return ensureVenv(ctx, 'airflow', this.venvSpec(ctx));
  }

  async provision(ctx: ServiceContext): Promise<void> {
    this.provisionVenv(ctx);
  }

  private postgres(ctx: ServiceContext): PostgresEndpoint {
    const pg = readPartialEndpoints(ctx.home).postgres;
    if (!pg) throw new Error('airflow needs PostgreSQL: endpoints.json has no "postgres" entry (run `npm run services:up -- --only postgres`)');
    return pg;
  }

  /**
   * Airflow's configuration as environment: metadata DB, dags/, loopback API, generated
   * secrets, and the pipeline's variables for the DAG's tasks (they inherit the scheduler's).
   */
  airflowEnv(ctx: ServiceContext): Record<string, string> {
    const pg = this.postgres(ctx);
    const endpoints = readPartialEndpoints(ctx.home);
    const pipeline =
      endpoints.postgres && endpoints.kafka && endpoints.schemaRegistry && endpoints.cassandra
        ? workloadEnv(endpoints as LocalEndpoints)
        : {};
    const dbPassword = encodeURIComponent(ctx.secrets.get('airflow.db'));
    const passThrough = Object.fromEntries(
      Object.entries(process.env).filter(([k, v]) => k.startsWith('PIPELINE_') && v !== undefined) as [string, string][],
    );
    return {
      AIRFLOW_HOME: this.airflowHome(ctx),
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: `postgresql+psycopg2://${DB_ROLE}:${dbPassword}@${pg.host}:${pg.port}/${DB_NAME}`,
      AIRFLOW__CORE__DAGS_FOLDER: path.join(REPO, 'dags'),
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__PARALLELISM: '4',
      AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `${this.url(ctx)}/execution/`,
      AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS: `${ADMIN}:admin`,
      AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: this.passwordsFile(ctx),
      AIRFLOW__API__HOST: '127.0.0.1',
      AIRFLOW__API__PORT: String(this.mainPort(ctx)),
      AIRFLOW__API__WORKERS: '1',
      AIRFLOW__API__SECRET_KEY: ctx.secrets.get('airflow.api-secret-key'),
      AIRFLOW__API_AUTH__JWT_SECRET: ctx.secrets.get('airflow.jwt-secret'),
      AIRFLOW__LOGGING__BASE_LOG_FOLDER: path.join(this.dataDir(ctx), 'task-logs'),
      AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL: '30',
      // Tasks of a crashed scheduler are found and retried within a minute, not the default five.
      AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL: '30',
      AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT: '60',
      INGEST_URL: process.env.INGEST_URL || `http://127.0.0.1:${localPort(LOCAL_PORTS.ingest)}`,
      ...pipeline,
      ...passThrough,
    };
  }

  private passwordsFile(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'passwords.json');
  }

  /** `airflow` and the environment to run it with (tests spawn `airflow dags test` from this). */
  airflowCommand(ctx: ServiceContext, extraEnv: Record<string, string> = {}): { command: string; env: Record<string, string>; cwd: string } {
    fs.mkdirSync(this.dataDir(ctx), { recursive: true });
    return { command: this.airflowBin(ctx), env: { ...this.airflowEnv(ctx), ...extraEnv }, cwd: this.dataDir(ctx) };
  }

  /** Runs `airflow <args>` with the service's environment; throws with the output tail. */
  runAirflow(ctx: ServiceContext, args: readonly string[], extraEnv: Record<string, string> = {}): string {
    const { command, env, cwd } = this.airflowCommand(ctx, extraEnv);
    try {
      return execFileSync(command, [...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, ...env },
        cwd,
      });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
      throw new Error(`airflow ${args.join(' ')} failed\n${out || e.message}`);
    }
  }

  /** Creates (or re-passwords) Airflow's role and database through the PostgreSQL superuser. */
  async ensureDatabase(ctx: ServiceContext): Promise<void> {
    const pg = this.postgres(ctx);
    const client = new Client({ host: pg.host, port: pg.port, user: pg.superuser.user, password: pg.superuser.password, database: 'postgres' });
    await client.connect();
    try {
      const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [DB_ROLE]);
      const password = ctx.secrets.get('airflow.db').replace(/'/g, "''");
      await client.query(`${role.rowCount ? 'ALTER' : 'CREATE'} ROLE ${DB_ROLE} LOGIN PASSWORD '${password}'`);
      const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME]);
      if (!db.rowCount) await client.query(`CREATE DATABASE ${DB_NAME} OWNER ${DB_ROLE}`);
    } finally {
      await client.end();
    }
  }

  /** Database, schema migration and the admin's generated password: everything `start` needs. */
  async prepareMetadata(ctx: ServiceContext): Promise<void> {
    fs.mkdirSync(this.airflowHome(ctx), { recursive: true });
    await this.ensureDatabase(ctx);
    const started = Date.now();
    this.runAirflow(ctx, ['db', 'migrate']);
    ctx.log(`airflow: metadata database migrated in ${Math.round((Date.now() - started) / 1000)} s`);
    // The simple auth manager reads the admin's password from this file (it never generates one here).
    fs.writeFileSync(this.passwordsFile(ctx), JSON.stringify({ [ADMIN]: ctx.secrets.get('airflow.admin') }) + '\n', { mode: 0o600 });
  }

  componentPidFile(ctx: ServiceContext, component: string): string {
    return path.join(this.dataDir(ctx), `${component}.pid`);
  }

  async start(ctx: ServiceContext): Promise<void> {
    for (const p of this.ports(ctx)) await assertPortFree('airflow', p.name, p.port, p.env);
    await this.prepareMetadata(ctx);
    const env = this.airflowEnv(ctx);
    const started = Date.now();
    const api = spawnDaemon({
      command: this.airflowBin(ctx),
      args: ['api-server'],
      logFile: this.logFile(ctx),
      pidFile: this.pidFile(ctx),
      env,
    });
    for (const component of COMPONENTS) this.startComponent(ctx, component, env);
    await waitFor('airflow', () => this.healthy(ctx), {
      timeoutMs: 180_000,
      intervalMs: 1000,
      alive: () => isAlive(api),
      hint: () => this.logTail(ctx),
    });
    ctx.log(`airflow: api-server, scheduler and dag-processor up in ${Math.round((Date.now() - started) / 1000)} s (${this.url(ctx)})`);
  }

  private startComponent(ctx: ServiceContext, component: (typeof COMPONENTS)[number], env = this.airflowEnv(ctx)): void {
    spawnDaemon({
      command: this.airflowBin(ctx),
      args: [component],
      logFile: path.join(this.dataDir(ctx), `${component}.log`),
      pidFile: this.componentPidFile(ctx, component),
      env,
    });
  }

  private deadComponents(ctx: ServiceContext): Array<(typeof COMPONENTS)[number]> {
    return COMPONENTS.filter((c) => {
      const pid = readPid(this.componentPidFile(ctx, c));
      return pid === undefined || !isAlive(pid);
    });
  }

  /** A crashed scheduler or dag-processor is started again beside the running api-server (`services:up`). */
  async recover(ctx: ServiceContext): Promise<boolean> {
    const api = readPid(this.pidFile(ctx));
    if (api === undefined || !isAlive(api)) return false;
    const dead = this.deadComponents(ctx);
    for (const component of dead) {
      ctx.log(`airflow: the ${component} is not running; starting it again`);
      this.startComponent(ctx, component);
    }
    return dead.length > 0;
  }

  /** Healthy when the API answers and reports the metadata DB, scheduler and dag-processor healthy. */
  async healthy(ctx: ServiceContext): Promise<boolean> {
    try {
      const res = await fetch(`${this.url(ctx)}/api/v2/monitor/health`, { signal: AbortSignal.timeout(3000) });
      if (!res.ok) return false;
      const body = (await res.json()) as Record<string, { status?: string | null } | undefined>;
      return ['metadatabase', 'scheduler', 'dag_processor'].every((k) => body[k]?.status === 'healthy');
    } catch {
      return false;
    }
  }

  async status(ctx: ServiceContext): Promise<ServiceStatus> {
    const base = await super.status(ctx);
    const down = this.deadComponents(ctx);
    if (base.state === 'running' && down.length) {
      return { ...base, state: 'unhealthy', detail: `${down.join(' and ')} not running (see ${this.dataDir(ctx)})` };
    }
    return base;
  }

  async stop(ctx: ServiceContext): Promise<void> {
    for (const component of COMPONENTS) await stopPid(this.componentPidFile(ctx, component), this.stopGraceSeconds * 1000);
    await super.stop(ctx);
  }

  async endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>> {
    return { airflow: { url: this.url(ctx), username: ADMIN, password: ctx.secrets.get('airflow.admin') } };
  }
}

export const airflow = new Airflow();

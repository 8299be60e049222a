// Local Spark: a real standalone master + worker (spark-class) on loopback, from the PySpark
// venv and connector jars of spark-dist.ts.
import * as fs from 'fs';
import * as path from 'path';
import { LOCAL_PORTS } from '../../config/facts';
import { LocalEndpoints } from './endpoints';
import { assertPortFree, isAlive, readPid, spawnDaemon, stopPid, waitFor } from './process';
import { DaemonService, ServiceContext, ServicePort, ServiceStatus, servicePort } from './service';
import { javaMajor, provisionConnectorJars, provisionPySpark, SPARK_VERSION, sparkHome, sparkPython } from './spark-dist';

export class Spark extends DaemonService {
  readonly name = 'spark';
  protected readonly stopGraceSeconds = 20;

  version(): string {
    return SPARK_VERSION;
  }

  ports(_ctx?: ServiceContext): readonly ServicePort[] {
    return [
      servicePort('master', LOCAL_PORTS.sparkMaster),
      servicePort('ui', LOCAL_PORTS.sparkMasterUi),
      servicePort('worker-ui', LOCAL_PORTS.sparkWorkerUi),
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
    const python = sparkPython(ctx);
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
    const env = this.env(ctx);
    fs.mkdirSync(env.SPARK_WORKER_DIR, { recursive: true });
    const started = Date.now();
    const master = spawnDaemon({
      command: path.join(sparkHome(ctx), 'bin', 'spark-class'),
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
    await this.startWorker(ctx);
    ctx.log(`spark: master + worker up in ${((Date.now() - started) / 1000).toFixed(1)} s (${this.uiUrl(ctx)})`);
  }

  /** Starts the worker against the running master and waits until the master counts it. */
  private async startWorker(ctx: ServiceContext): Promise<void> {
    const env = this.env(ctx);
    const worker = spawnDaemon({
      command: path.join(sparkHome(ctx), 'bin', 'spark-class'),
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
  }

  /** A crashed worker is started again beside the running master (`services:up` after a worker crash). */
  async recover(ctx: ServiceContext): Promise<boolean> {
    const master = readPid(this.pidFile(ctx));
    const worker = readPid(this.workerPidFile(ctx));
    if (master === undefined || !isAlive(master) || (worker !== undefined && isAlive(worker))) return false;
    ctx.log('spark: the worker is not running; starting it again');
    await this.startWorker(ctx);
    return true;
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


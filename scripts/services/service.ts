// The interface every local service implements, and the context the CLI hands to it.
// Spark and Airflow (scripts/services/spark.ts, airflow.ts) implement the same interface.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LocalPort, localPort } from '../../config/facts';
import { KafkaMode, LocalEndpoints } from './endpoints';
import { Secrets } from './secrets';
import { isAlive, readPid, stopPid } from './process';

export type ServiceState = 'running' | 'stopped' | 'unhealthy' | 'stale-pid';

export interface ServiceStatus {
  readonly state: ServiceState;
  /** The service's main port. */
  readonly port: number;
  readonly version: string;
  readonly pid?: number;
  /** Why it is not `running`, when known. */
  readonly detail?: string;
}

/** A named port of a service, overridable by its environment variable. */
export interface ServicePort {
  /** e.g. `client`, `ui`. The first port listed is the service's main port. */
  readonly name: string;
  readonly port: number;
  /** Variable that overrides it, e.g. `RTDS_KAFKA_PORT`. */
  readonly env: string;
}

export interface ServiceContext {
  /** `.rtds` (or `RTDS_HOME`): data, logs, secrets.json, endpoints.json. */
  readonly home: string;
  /** `${XDG_CACHE_HOME:-~/.cache}/rtdatastream`: downloads and builds, shared by every clone. */
  readonly cacheDir: string;
  /** Which Kafka runs: 3.9 with ZooKeeper, or 4.x with KRaft. */
  readonly kafkaMode: KafkaMode;
  /** Generated passwords, persisted in `<home>/secrets.json` (mode 0600). */
  readonly secrets: Secrets;
  /** Progress line for the CLI (stderr). */
  log(message: string): void;
}

export interface LocalService {
  /** Service name as used by `--only`, e.g. `postgres`, `schema-registry`. */
  readonly name: string;
  /** Names of services that must be healthy before this one starts. */
  dependsOn(ctx: ServiceContext): readonly string[];
  /** Whether this service takes part in this context (ZooKeeper only runs in zookeeper mode). */
  enabled(ctx: ServiceContext): boolean;
  version(ctx: ServiceContext): string;
  ports(ctx: ServiceContext): readonly ServicePort[];
  /** Downloads or builds everything into `ctx.cacheDir`; a no-op when already cached. */
  provision(ctx: ServiceContext): Promise<void>;
  /** Starts the process detached (it outlives the CLI) and returns once it is healthy. */
  start(ctx: ServiceContext): Promise<void>;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period). */
  stop(ctx: ServiceContext): Promise<void>;
  status(ctx: ServiceContext): Promise<ServiceStatus>;
  /** A real request to the service (SQL, metadata, HTTP...), true when it answers. */
  healthy(ctx: ServiceContext): Promise<boolean>;
  /** Starts again the parts that crashed while the rest runs (a Spark worker, an Airflow component); true when it did. */
  recover?(ctx: ServiceContext): Promise<boolean>;
  /** Run after `start` or when reused: create databases, topics, roles. Idempotent. */
  prepare?(ctx: ServiceContext): Promise<void>;
  /** Its entries of endpoints.json. */
  endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>>;
}

/** `${XDG_CACHE_HOME:-~/.cache}/rtdatastream`. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'rtdatastream');
}

/** A named port at its config/facts loopback default, moved by its RTDS_<SERVICE>_PORT (checked). */
export function servicePort(name: string, p: LocalPort): ServicePort {
  return { name, port: localPort(p), env: p.env };
}

/** Mode from `RTDS_KAFKA_MODE` (or the CLI flag), checked. */
export function parseKafkaMode(raw: string | undefined): KafkaMode {
  const value = raw && raw !== '' ? raw : 'zookeeper';
  if (value !== 'zookeeper' && value !== 'kraft') {
    throw new Error(`Kafka mode "${value}" is unknown: use zookeeper or kraft (--kafka-mode or RTDS_KAFKA_MODE)`);
  }
  return value;
}

/**
 * Base for services that are one detached process with a pid file in `<home>/<name>/pid`
 * and a log in `<home>/<name>/log`: status and stop come for free.
 */
export abstract class DaemonService implements LocalService {
  abstract readonly name: string;
  abstract version(ctx: ServiceContext): string;
  abstract ports(ctx: ServiceContext): readonly ServicePort[];
  abstract provision(ctx: ServiceContext): Promise<void>;
  abstract start(ctx: ServiceContext): Promise<void>;
  abstract healthy(ctx: ServiceContext): Promise<boolean>;
  abstract endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>>;

  dependsOn(_ctx: ServiceContext): readonly string[] {
    return [];
  }

  enabled(_ctx: ServiceContext): boolean {
    return true;
  }

  /** Seconds between SIGTERM and SIGKILL. */
  protected readonly stopGraceSeconds: number = 30;

  dataDir(ctx: ServiceContext): string {
    return path.join(ctx.home, this.name);
  }

  pidFile(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'pid');
  }

  logFile(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'log');
  }

  mainPort(ctx: ServiceContext): number {
    return this.ports(ctx)[0].port;
  }

  async status(ctx: ServiceContext): Promise<ServiceStatus> {
    const pid = readPid(this.pidFile(ctx));
    const base = { port: this.mainPort(ctx), version: this.version(ctx) };
    if (pid === undefined) return { ...base, state: 'stopped' };
    if (!isAlive(pid)) return { ...base, state: 'stale-pid', detail: `pid ${pid} from ${this.pidFile(ctx)} is gone` };
    const ok = await this.healthy(ctx).catch(() => false);
    return ok ? { ...base, state: 'running', pid } : { ...base, state: 'unhealthy', pid, detail: `see ${this.logFile(ctx)}` };
  }

  async stop(ctx: ServiceContext): Promise<void> {
    await stopPid(this.pidFile(ctx), this.stopGraceSeconds * 1000);
  }

  /** Last lines of the log, for error messages. */
  logTail(ctx: ServiceContext, lines = 20): string {
    try {
      return fs.readFileSync(this.logFile(ctx), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

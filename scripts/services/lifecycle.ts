// up / down / status over the registry, as a library (the CLI, the jest global setup and tests
// that restart a service use it).
import * as fs from 'fs';
import * as path from 'path';
import { KafkaMode, LocalEndpoints, readPartialEndpoints, rtdsHome, writeEndpoints } from './endpoints';
import { isAlive, processFiles, readPid, sleep, stopPid, withFileLock } from './process';
import { services, serviceNamed } from './registry';
import { LocalService, ServiceContext, ServiceStatus, defaultCacheDir, parseKafkaMode } from './service';
import { Secrets } from './secrets';

export interface ContextOptions {
  /** @default RTDS_KAFKA_MODE, else the mode of the running broker, else `zookeeper` */
  readonly kafkaMode?: KafkaMode;
  /** @default RTDS_HOME, else `<repo>/.rtds` */
  readonly home?: string;
  /** @default `${XDG_CACHE_HOME:-~/.cache}/rtdatastream` */
  readonly cacheDir?: string;
  /** @default progress on stderr */
  readonly log?: (message: string) => void;
}

export function createContext(opts: ContextOptions = {}): ServiceContext {
  const home = opts.home ?? rtdsHome();
  fs.mkdirSync(home, { recursive: true });
  return {
    home,
    cacheDir: opts.cacheDir ?? defaultCacheDir(),
    kafkaMode: opts.kafkaMode ?? (process.env.RTDS_KAFKA_MODE ? parseKafkaMode(process.env.RTDS_KAFKA_MODE) : runningKafkaMode(home) ?? 'zookeeper'),
    secrets: new Secrets(home),
    log: opts.log ?? ((m) => process.stderr.write(`[services] ${m}\n`)),
  };
}

function runningKafkaMode(home: string): KafkaMode | undefined {
  const pid = readPid(path.join(home, 'kafka', 'pid'));
  const modeFile = path.join(home, 'kafka', 'mode');
  if (pid === undefined || !isAlive(pid) || !fs.existsSync(modeFile)) return undefined;
  return parseKafkaMode(fs.readFileSync(modeFile, 'utf8').trim());
}

/** The named services plus everything they depend on, in registry (start) order. */
export function withDependencies(ctx: ServiceContext, names?: readonly string[]): LocalService[] {
  if (!names || names.length === 0) return services.filter((s) => s.enabled(ctx));
  const wanted = new Set<string>();
  const add = (name: string) => {
    const service = serviceNamed(name);
    if (!service.enabled(ctx)) {
      throw new Error(`service "${name}" does not run in Kafka ${ctx.kafkaMode} mode`);
    }
    if (wanted.has(name)) return;
    wanted.add(name);
    service.dependsOn(ctx).forEach(add);
  };
  names.forEach(add);
  return services.filter((s) => wanted.has(s.name));
}

export interface UpOptions extends ContextOptions {
  /** Service names; their dependencies come along. @default every service */
  readonly only?: readonly string[];
}

export interface UpResult {
  readonly endpoints: Partial<LocalEndpoints>;
  /** Seconds per service: provision + start (0 start when reused). */
  readonly timings: Readonly<Record<string, { provision: number; start: number; reused: boolean }>>;
}

/** Provisions, starts (or reuses) and prepares services, writing endpoints.json as it goes. Idempotent. */
export async function up(opts: UpOptions = {}): Promise<UpResult> {
  const ctx = createContext(opts);
  const selected = withDependencies(ctx, opts.only);
  return withLock(ctx, async () => {
    const timings = await bringUp(ctx, selected);
    return { endpoints: readPartialEndpoints(ctx.home), timings };
  });
}

/**
 * `selected` in order: provision, start (or reuse), prepare, and each one's endpoints.json entries
 * written as soon as it is healthy, because a later service reads an earlier one's there (Airflow
 * its metadata database in PostgreSQL, and the pipeline's variables for the DAG).
 */
export async function bringUp(ctx: ServiceContext, selected: readonly LocalService[]): Promise<UpResult['timings']> {
  const timings: Record<string, { provision: number; start: number; reused: boolean }> = {};
  for (const service of selected) {
    const t0 = Date.now();
    await service.provision(ctx);
    const t1 = Date.now();
    let status = await service.status(ctx);
    if (status.state === 'unhealthy' && service.recover && (await service.recover(ctx))) status = await service.status(ctx);
    if (status.state === 'unhealthy') {
      // Perhaps still starting (another `up`, or a restart): give it a moment before failing.
      for (let i = 0; i < 60 && status.state === 'unhealthy'; i++) {
        await sleep(1000);
        status = await service.status(ctx);
      }
      if (status.state === 'unhealthy') {
        throw new Error(`${service.name} (pid ${status.pid}) runs but does not answer: ${status.detail ?? ''}; run \`npm run services:down\` and retry`);
      }
    }
    const reused = status.state === 'running';
    if (reused) {
      ctx.log(`${service.name}: already running (pid ${status.pid}), reused`);
    } else {
      ctx.log(`${service.name}: starting ${service.version(ctx)} on port ${service.ports(ctx)[0].port}`);
      await service.start(ctx);
    }
    if (service.prepare) await service.prepare(ctx);
    const t2 = Date.now();
    timings[service.name] = { provision: (t1 - t0) / 1000, start: (t2 - t1) / 1000, reused };
    if (!reused) ctx.log(`${service.name}: healthy after ${((t2 - t1) / 1000).toFixed(1)} s`);
    writeEndpoints(await service.endpoints(ctx), ctx.home);
  }
  return timings;
}

/**
 * The pipeline's own processes the project started on these services: every `<home>/<name>/pid`
 * that is not a service's (the source, the relay, the Spark drivers of `npm run local`, the bench
 * and the tests), with whether it still runs.
 */
export function pipelineProcesses(home: string): Array<{ name: string; pid: number; alive: boolean }> {
  if (!fs.existsSync(home)) return [];
  const serviceNames = new Set(services.map((s) => s.name));
  return fs.readdirSync(home, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !serviceNames.has(d.name))
    .flatMap((d) => {
      const pid = readPid(processFiles(home, d.name).pidFile);
      return pid === undefined ? [] : [{ name: d.name, pid, alive: isAlive(pid) }];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Stops the pipeline's own processes, then the services in reverse start order. With `only`,
 * just those services. Refuses, naming them, when processes outlive their stop.
 */
export async function down(opts: UpOptions = {}): Promise<void> {
  const ctx = createContext(opts);
  const names = opts.only && opts.only.length > 0 ? new Set(opts.only.map((n) => serviceNamed(n).name)) : undefined;
  if (!names) {
    // Left running, they would retry against services that are gone.
    for (const p of pipelineProcesses(ctx.home).filter((x) => x.alive)) {
      ctx.log(`${p.name}: stopping (pid ${p.pid})`);
      await stopPid(processFiles(ctx.home, p.name).pidFile, 30_000);
    }
    const still = pipelineProcesses(ctx.home).filter((x) => x.alive);
    if (still.length) throw new Error(`still running, services left up: ${still.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  }
  for (const service of [...services].reverse()) {
    if (names && !names.has(service.name)) continue;
    const status = await service.status(ctx);
    if (status.state === 'stopped') continue;
    ctx.log(`${service.name}: stopping${status.pid ? ` (pid ${status.pid})` : ''}`);
    await service.stop(ctx);
  }
}

/** Stops then starts one service (tests use it to restart PostgreSQL under load). */
export async function restart(name: string, opts: ContextOptions = {}): Promise<void> {
  const ctx = createContext(opts);
  const service = serviceNamed(name);
  await service.stop(ctx);
  await service.start(ctx);
  if (service.prepare) await service.prepare(ctx);
}

export interface StatusRow extends ServiceStatus {
  readonly service: string;
}

export async function status(opts: ContextOptions = {}): Promise<StatusRow[]> {
  const ctx = createContext(opts);
  const rows: StatusRow[] = [];
  for (const service of services) {
    const current = await service.status(ctx);
    if (!service.enabled(ctx) && current.state === 'stopped') continue;
    rows.push({ service: service.name, ...current });
  }
  return rows;
}

/** One `up` at a time per home: a second waits for the first (jest projects, parallel shells). */
function withLock<T>(ctx: ServiceContext, body: () => Promise<T>): Promise<T> {
  return withFileLock(path.join(ctx.home, 'up.lock'), body, 15 * 60_000);
}

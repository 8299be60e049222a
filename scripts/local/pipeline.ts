// The local pipeline command: the source, the relay and the Spark job as background processes on
// the local services, one ingest run followed to Cassandra, and the stage table of `npm run local`
// and `npm run status`. The figures come from the measuring library (measure.ts).
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { LOCAL_PORTS, localPort, WORKLOAD_NODE_OPTIONS } from '../../config/facts';
import type { RunStatus } from '../../workloads/ingest/run';
import { migrateCassandra } from '../../workloads/migrate/cassandra';
import { migratePostgres } from '../../workloads/migrate/postgres';
import { cassandraConfig, postgresConfig } from '../../workloads/shared/config';
import { LocalEndpoints, readEndpoints, rtdsHome, workloadEnv } from '../services/endpoints';
import { createContext, up } from '../services/lifecycle';
import { assertPortFree, isAlive, processFiles, readPid, sleep, spawnDaemon, stopPid, tail } from '../services/process';
import {
  CassandraTracker, connect, countRows, localTopics, percentile, postgresCounts, RssSampler, RssTrace, runRows, StageCounts, topicEndOffsets, USERS_TABLE, waitForCassandra,
} from './measure';
import { waitForStream } from './checkpoint';
import { startUsersStream, USERS_STREAM, usersStreamCheckpoint, usersStreamFiles } from './users-stream';

export const REPO = path.resolve(__dirname, '..', '..');

/** Services the pipeline needs; Airflow is left out (it only schedules runs, and costs a core). */
export const PIPELINE_SERVICES = ['postgres', 'zookeeper', 'kafka', 'schema-registry', 'cassandra', 'spark'] as const;

/** A background workload of the local pipeline (pid and log under `.rtds/<name>/`). */
export interface PipelineProcess {
  readonly name: 'source' | 'ingest' | 'relay' | 'users-stream';
  readonly pid?: number;
  readonly alive: boolean;
  readonly reused: boolean;
  readonly log: string;
}

/** The ingest service's control API (the DAG's INGEST_URL). @default 18000 */
export function ingestPort(): number {
  return localPort(LOCAL_PORTS.ingest);
}

/** The pipeline's randomuser-compatible source. @default 18100 */
export function sourcePort(): number {
  return localPort(LOCAL_PORTS.source);
}

/** The relay's health and metrics. @default 18001 */
export function relayPort(): number {
  return localPort(LOCAL_PORTS.relay);
}

export function sourceUrl(): string {
  return `http://127.0.0.1:${sourcePort()}/api/`;
}

function files(name: string): { pidFile: string; logFile: string } {
  return processFiles(rtdsHome(), name);
}

/**
 * Node 24 with ts-node (transpile only: types are checked by `npm run build`, not at every start),
 * with the V8 flags the stacks give ingest and relay (none for the other commands, as there).
 */
export function workloadCommand(args: readonly string[]): { command: string; args: string[] } {
  const flags = Object.entries(WORKLOAD_NODE_OPTIONS).find(([name]) => name === args[0])?.[1].split(' ') ?? [];
  return { command: process.execPath, args: [...flags, '-r', 'ts-node/register/transpile-only', path.join(REPO, 'workloads', 'cli.ts'), ...args] };
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function waitHealthy(name: string, url: string, pid: number, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await httpOk(url))) {
    if (!isAlive(pid)) throw new Error(`${name} exited while starting; last lines of ${logFile}:\n${tail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${name} (pid ${pid}) did not answer ${url} within ${timeoutMs / 1000} s; see ${logFile}`);
    await sleep(500);
  }
}


async function ensureWorkload(
  name: 'source' | 'ingest' | 'relay',
  args: readonly string[],
  port: number,
  portVariable: string,
  env: Record<string, string>,
): Promise<PipelineProcess> {
  const f = files(name);
  const running = readPid(f.pidFile);
  if (running !== undefined && isAlive(running)) return { name, pid: running, alive: true, reused: true, log: f.logFile };
  await assertPortFree(name, 'HTTP', port, portVariable);
  const cmd = workloadCommand(args);
  const pid = spawnDaemon({ command: cmd.command, args: cmd.args, cwd: REPO, env: { ...env, HTTP_PORT: String(port) }, ...f });
  await waitHealthy(name, `http://127.0.0.1:${port}/healthz`, pid, f.logFile, 120_000);
  return { name, pid, alive: true, reused: false, log: f.logFile };
}

/** The relay on the local services, started unless it runs (also after it crashed: its pid is then stale). */
export function ensureRelay(endpoints: LocalEndpoints): Promise<PipelineProcess> {
  return ensureWorkload('relay', ['relay'], relayPort(), 'RTDS_RELAY_PORT', { ...workloadEnv(endpoints), KAFKA_TOPIC: localTopics().users });
}

/** `ingest serve` on the local services, where the Airflow DAG's INGEST_URL points; started unless it runs. */
export function ensureIngest(endpoints: LocalEndpoints): Promise<PipelineProcess> {
  return ensureWorkload('ingest', ['ingest', 'serve'], ingestPort(), 'RTDS_INGEST_PORT', { ...workloadEnv(endpoints, localTopics().users), RANDOMUSER_URL: sourceUrl() });
}

export interface EnsureOptions {
  /** Progress lines. @default stderr */
  readonly log?: (message: string) => void;
}

/** Starts (or reuses) the services, then the source, the relay and the Spark job. */
/** Starts (or reuses) the services the pipeline needs and applies both migrations. */
export async function ensureServices(opts: EnsureOptions = {}): Promise<LocalEndpoints> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`[local] ${m}\n`));
  say(`services: ${PIPELINE_SERVICES.join(', ')} (started when not running)`);
  await up({ only: [...PIPELINE_SERVICES], log: (m) => say(m) });
  const endpoints = readEndpoints();
  const env = workloadEnv(endpoints);
  await migratePostgres(postgresConfig(env));
  await migrateCassandra(cassandraConfig(env), { replicationFactor: 1 });
  return endpoints;
}

export async function ensurePipeline(opts: EnsureOptions = {}): Promise<{ endpoints: LocalEndpoints; processes: PipelineProcess[] }> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`[local] ${m}\n`));
  // Bad port variables fail before anything starts.
  sourcePort();
  relayPort();
  const endpoints = await ensureServices(opts);
  const env = workloadEnv(endpoints);
  // The rate limit protects a shared source from a runaway client; ingest asks one page per 5,000 users.
  const source = await ensureWorkload('source', ['source', 'serve'], sourcePort(), 'RTDS_SOURCE_PORT', { ...env, SOURCE_RATE_LIMIT: process.env.SOURCE_RATE_LIMIT ?? '1000' });
  say(`source: ${source.reused ? 'reused' : 'started'} pid ${source.pid} on ${sourceUrl()}`);
  const relay = await ensureRelay(endpoints);
  say(`relay: ${relay.reused ? 'reused' : 'started'} pid ${relay.pid}, health on http://127.0.0.1:${relayPort()}/healthz`);
  const ctx = createContext({ log: say });
  const stream = usersStreamFiles(ctx);
  const streamPid = readPid(stream.pidFile);
  let streamProcess: PipelineProcess;
  if (streamPid !== undefined && isAlive(streamPid)) {
    streamProcess = { name: 'users-stream', pid: streamPid, alive: true, reused: true, log: stream.logFile };
  } else {
    const pid = startUsersStream(ctx, endpoints, { topic: localTopics().users, deadLetterTopic: localTopics().deadLetter });
    streamProcess = { name: 'users-stream', pid, alive: true, reused: false, log: stream.logFile };
  }
  say(`spark job users_stream: ${streamProcess.reused ? 'reused' : 'submitted'} driver pid ${streamProcess.pid}, log ${stream.logFile}`);
  return { endpoints, processes: [source, relay, streamProcess] };
}

/** The pipeline's background processes and whether they live. */
export function pipelineProcesses(): PipelineProcess[] {
  return (['source', 'relay', USERS_STREAM] as const).map((name) => {
    const f = files(name);
    const pid = readPid(f.pidFile);
    return { name, pid, alive: pid !== undefined && isAlive(pid), reused: true, log: f.logFile };
  });
}

/** Stops the source, ingest, the relay and the Spark job (the services keep running). */
export async function stopPipeline(): Promise<void> {
  await stopPid(files(USERS_STREAM).pidFile, 30_000);
  await stopPid(files('relay').pidFile, 15_000);
  await stopPid(files('ingest').pidFile, 15_000);
  await stopPid(files('source').pidFile, 5_000);
}

export function stageTable(c: StageCounts, note: string, secondsNote = 'from the start of ingest to the commit of the Spark micro-batch that wrote its last user'): string {
  const fmt = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US') : '-');
  const rows: [string, string, string][] = [
    ['source', fmt(c.source), 'records the source answered for this run'],
    ['PostgreSQL', fmt(c.postgres), 'rows of this run in landing_users'],
    ['Kafka', fmt(c.kafka), 'rows of this run acknowledged by Kafka (relay cursor, acks=all)'],
    ['Cassandra', fmt(c.cassandra), `ids of this run in ${USERS_TABLE}`],
    ['quarantined', fmt(c.quarantined), 'rows of this run in landing_quarantine'],
    ['dead-lettered', fmt(c.deadLettered), `messages added to ${localTopics().deadLetter} ${note}`],
    ['seconds', c.seconds.toFixed(1), secondsNote],
    ['e2e p50 ms', fmt(Math.round(c.e2eP50Ms)), 'landing (ingested_at) → Cassandra (processed_at)'],
    ['e2e p99 ms', fmt(Math.round(c.e2eP99Ms)), ''],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return [`${'STAGE'.padEnd(w0)}  ${'COUNT'.padStart(w1)}  WHAT IS COUNTED`, ...rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2]}`.trimEnd())].join('\n');
}

export function stageJson(c: StageCounts): string {
  const ms = (n: number) => (Number.isFinite(n) ? Math.round(n) : null);
  return JSON.stringify({
    users: c.users,
    postgres: c.postgres,
    kafka: c.kafka,
    cassandra: c.cassandra,
    quarantined: c.quarantined,
    dead_lettered: c.deadLettered,
    seconds: Number(c.seconds.toFixed(1)),
    e2e_p50_ms: ms(c.e2eP50Ms),
    e2e_p99_ms: ms(c.e2eP99Ms),
  });
}

// ---------------------------------------------------------------------------------------------
// One run.
// ---------------------------------------------------------------------------------------------

export interface RunOptions {
  readonly users: number;
  /** @default a fresh seed per run, so every run lands new users */
  readonly seed?: string;
  /** Seconds in which neither the relay's cursor nor the Spark job's commits move before giving up, naming the stuck stage. @default 300 */
  readonly stallSeconds?: number;
  /** @default stderr */
  readonly log?: (message: string) => void;
  /** Ingest's progress bar. @default inherited stderr */
  readonly ingestStderr?: 'inherit' | 'ignore';
  /** Called when the clock stops, before the ids are checked in Cassandra (the bench ends its CPU profile there). */
  readonly onClockStop?: () => void;
}

export interface RunResult extends StageCounts {
  readonly runId: string;
  readonly seed: string;
  readonly ingestSeconds: number;
  readonly rss: Record<string, RssTrace>;
}

/** What `rtds ingest run` prints when it ends: the run's status, as workloads/ingest/run.ts defines it. */
type IngestStatus = RunStatus;

function runIngestProcess(endpoints: LocalEndpoints, users: number, seed: string, stderr: 'inherit' | 'ignore'): { child: ChildProcess; done: Promise<IngestStatus> } {
  const cmd = workloadCommand(['ingest', 'run', '--users', String(users), '--seed', seed]);
  const child = spawn(cmd.command, cmd.args, {
    cwd: REPO,
    env: { ...process.env, ...workloadEnv(endpoints), RANDOMUSER_URL: sourceUrl(), RTDS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', stderr],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<IngestStatus>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const json = out.slice(out.indexOf('{'));
      let status: IngestStatus | undefined;
      try {
        status = JSON.parse(json) as IngestStatus;
      } catch {
        /* reported below */
      }
      if (!status) reject(new Error(`ingest stage failed: ingest exited with code ${code} and no status`));
      else if (code !== 0 || status.state !== 'succeeded') reject(new Error(`ingest stage failed (run ${status.id}, exit ${code}): ${status.error ?? status.state}`));
      else resolve(status);
    });
  });
  return { child, done };
}

/** Lands `users` users and follows them to Cassandra; throws naming the stuck stage on a stall. */
export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`[local] ${m}\n`));
  const { endpoints, processes } = await ensurePipeline({ log: say });
  const conn = await connect(endpoints);
  try {
    const seed = opts.seed ?? `local-${new Date().toISOString().replace(/[-:.TZ]/g, '')}-${Math.random().toString(36).slice(2, 8)}`;
    const dlqBefore = await topicEndOffsets(conn.kafka, localTopics().deadLetter);
    const relayPid = processes.find((p) => p.name === 'relay')?.pid;
    const streamPid = processes.find((p) => p.name === 'users-stream')?.pid;
    // The run's rows are all above this seq: its reads stay within the seq index (see runRows).
    const afterSeq = Number((await conn.pg.query<{ max: string }>('SELECT coalesce(max(seq), 0) AS max FROM landing_users')).rows[0].max);
    say(`ingest: ${opts.users} users, seed ${seed}`);
    const t0 = Date.now();
    const ingest = runIngestProcess(endpoints, opts.users, seed, opts.ingestStderr ?? 'inherit');
    const sampler = new RssSampler(() => ({ ingest: ingest.child.exitCode === null ? ingest.child.pid : undefined, relay: relayPid }), t0);
    let status: IngestStatus;
    try {
      status = await ingest.done;
    } catch (e) {
      sampler.stop();
      throw e;
    }
    const ingestSeconds = (Date.now() - t0) / 1000;
    say(`ingest: run ${status.id} landed ${status.inserted} (${status.alreadyLanded} already landed, ${status.quarantined} quarantined) in ${ingestSeconds.toFixed(1)} s`);
    const rows = await runRows(conn.pg, status.id, afterSeq);
    // The clock stops when the Spark job commits the micro-batch that reaches the run's last
    // offset, read from its checkpoint; the ids are checked in Cassandra once, after that.
    let seconds = (Date.now() - t0) / 1000;
    if (rows.seqs.length > 0) {
      const checkpoint = usersStreamCheckpoint({ home: rtdsHome() });
      const done = await waitForStream(conn, { checkpoint, lastSeq: rows.seqs[rows.seqs.length - 1], streamPid, stallSeconds: opts.stallSeconds, log: say, t0 });
      seconds = (done.at - t0) / 1000;
    }
    const rss = sampler.stop();
    opts.onClockStop?.();
    const tracker = new CassandraTracker(conn.cassandra, rows);
    await tracker.poll(100, 8, Number.MAX_SAFE_INTEGER);
    if (tracker.found < tracker.total) {
      // Committed past them but not (yet) readable: a lost write, or a job that is not the one
      // whose checkpoint was read. Follow them as before, and name the stage if they never come.
      say(`check: ${tracker.total - tracker.found} of the run's ${tracker.total} users are not in Cassandra after the Spark job committed past them; waiting for them`);
      await waitForCassandra(conn, tracker, [status.id], { streamPid, stallSeconds: Math.min(opts.stallSeconds ?? 300, 60), log: say, t0, afterSeq });
      seconds = (Date.now() - t0) / 1000;
    } else {
      say(`check: all ${tracker.total} users of the run are in Cassandra`);
    }
    const pgc = await postgresCounts(conn.pg, status.id, afterSeq);
    const dlqAfter = await topicEndOffsets(conn.kafka, localTopics().deadLetter);
    const lat = tracker.latenciesMs();
    return {
      runId: status.id,
      seed,
      ingestSeconds,
      rss,
      users: opts.users,
      source: status.fetched,
      postgres: pgc.postgres,
      kafka: pgc.kafka,
      cassandra: tracker.found,
      quarantined: pgc.quarantined,
      deadLettered: dlqAfter - dlqBefore,
      seconds,
      e2eP50Ms: percentile(lat, 50),
      e2eP99Ms: percentile(lat, 99),
    };
  } finally {
    await conn.close();
  }
}

/** The latest ingest run's stage figures, for `npm run status`. */
export async function latestRunCounts(e: LocalEndpoints): Promise<{ runId?: string; counts?: StageCounts; totals: Record<string, number> }> {
  const conn = await connect(e);
  try {
    const totals: Record<string, number> = {};
    const landed = await conn.pg.query<{ n: string; cursor: string }>(
      `SELECT (SELECT count(*) FROM landing_users) AS n, coalesce((SELECT last_seq FROM relay_cursor WHERE name = $1), 0) AS cursor`,
      [localTopics().users],
    );
    totals.postgres = Number(landed.rows[0].n);
    totals.relayCursor = Number(landed.rows[0].cursor);
    totals.kafka = await topicEndOffsets(conn.kafka, localTopics().users);
    totals.deadLettered = await topicEndOffsets(conn.kafka, localTopics().deadLetter);
    totals.cassandra = await countRows(conn.cassandra, USERS_TABLE);
    const last = await conn.pg.query<{ id: string; users: number; counts: { fetched?: number }; started_at: Date; finished_at: Date | null }>(
      `SELECT id, users, counts, started_at, finished_at FROM ingest_runs ORDER BY started_at DESC LIMIT 1`,
    );
    if (last.rows.length === 0) return { totals };
    const run = last.rows[0];
    const rows = await runRows(conn.pg, run.id);
    const tracker = new CassandraTracker(conn.cassandra, rows);
    // Every id, not only a prefix: status must not stop at the first gap.
    await tracker.poll(100, 4, Number.MAX_SAFE_INTEGER);
    const pgc = await postgresCounts(conn.pg, run.id);
    const lat = tracker.latenciesMs();
    const lastProcessed = tracker.lastProcessedMs;
    return {
      runId: run.id,
      totals,
      counts: {
        users: run.users,
        source: run.counts.fetched ?? NaN,
        postgres: pgc.postgres,
        kafka: pgc.kafka,
        cassandra: tracker.found,
        quarantined: pgc.quarantined,
        deadLettered: totals.deadLettered,
        seconds: tracker.found === rows.ids.length && Number.isFinite(lastProcessed) ? Math.max(0, (lastProcessed - run.started_at.getTime()) / 1000) : NaN,
        e2eP50Ms: percentile(lat, 50),
        e2eP99Ms: percentile(lat, 99),
      },
    };
  } finally {
    await conn.close();
  }
}

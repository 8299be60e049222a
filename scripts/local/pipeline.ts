// The local pipeline: source, relay and the Spark job as background processes on the local
// services, one ingest run, and the per-stage counts of that run (what `npm run local` and
// `npm run status` print, and what the benchmarks drive).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Client as CassandraClient, auth } from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { LocalEndpoints, readEndpoints, workloadEnv } from '../services/endpoints';
import { createContext, up } from '../services/lifecycle';
import { assertPortFree, isAlive, readPid, sleep, spawnDaemon, stopPid } from '../services/process';
import { startUsersStream, usersStreamFiles } from '../services/spark';
import { migrateCassandra } from '../../workloads/migrate/cassandra';
import { migratePostgres } from '../../workloads/migrate/postgres';
import { cassandraConfig, postgresConfig } from '../../workloads/shared/config';

export const REPO = path.resolve(__dirname, '..', '..');

/** Services the pipeline needs; Airflow is left out (it only schedules runs, and costs a core). */
export const PIPELINE_SERVICES = ['postgres', 'zookeeper', 'kafka', 'schema-registry', 'cassandra', 'spark'] as const;

export const PIPELINE_TOPIC = 'users_created';
export const DEAD_LETTER_TOPIC = 'users_created_dlq';
export const CASSANDRA_TABLE = 'spark_streams.created_users';

/** A background workload of the local pipeline (pid and log under `.rtds/<name>/`). */
export interface PipelineProcess {
  readonly name: 'source' | 'relay' | 'users-stream';
  readonly pid?: number;
  readonly alive: boolean;
  readonly reused: boolean;
  readonly log: string;
}

/** A port from the environment; a bad value stops with the variable's name. */
export function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number from 1 to 65535, got ${JSON.stringify(raw)}`);
  return n;
}

/** The pipeline's randomuser-compatible source. @default 18100 */
export function sourcePort(): number {
  return envPort('RTDS_SOURCE_PORT', 18100);
}

/** The relay's health and metrics. @default 18001 */
export function relayPort(): number {
  return envPort('RTDS_RELAY_PORT', 18001);
}

export function sourceUrl(): string {
  return `http://127.0.0.1:${sourcePort()}/api/`;
}

function home(): string {
  return createContext({ log: () => undefined }).home;
}

function files(name: string): { pidFile: string; logFile: string } {
  const dir = path.join(home(), name);
  return { pidFile: path.join(dir, 'pid'), logFile: path.join(dir, 'log') };
}

/** Node 24 with ts-node (transpile only: types are checked by `npm run build`, not at every start). */
export function workloadCommand(args: readonly string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: ['-r', 'ts-node/register/transpile-only', path.join(REPO, 'workloads', 'cli.ts'), ...args] };
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

export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function ensureWorkload(
  name: 'source' | 'relay',
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
  const relay = await ensureWorkload('relay', ['relay'], relayPort(), 'RTDS_RELAY_PORT', { ...env, KAFKA_TOPIC: PIPELINE_TOPIC });
  say(`relay: ${relay.reused ? 'reused' : 'started'} pid ${relay.pid}, health on http://127.0.0.1:${relayPort()}/healthz`);
  const ctx = createContext({ log: say });
  const stream = usersStreamFiles(ctx);
  const streamPid = readPid(stream.pidFile);
  let streamProcess: PipelineProcess;
  if (streamPid !== undefined && isAlive(streamPid)) {
    streamProcess = { name: 'users-stream', pid: streamPid, alive: true, reused: true, log: stream.logFile };
  } else {
    const pid = startUsersStream(ctx, endpoints, { topic: PIPELINE_TOPIC, deadLetterTopic: DEAD_LETTER_TOPIC });
    streamProcess = { name: 'users-stream', pid, alive: true, reused: false, log: stream.logFile };
  }
  say(`spark job users_stream: ${streamProcess.reused ? 'reused' : 'submitted'} driver pid ${streamProcess.pid}, log ${stream.logFile}`);
  return { endpoints, processes: [source, relay, streamProcess] };
}

/** The pipeline's background processes and whether they live. */
export function pipelineProcesses(): PipelineProcess[] {
  return (['source', 'relay', 'users-stream'] as const).map((name) => {
    const f = files(name);
    const pid = readPid(f.pidFile);
    return { name, pid, alive: pid !== undefined && isAlive(pid), reused: true, log: f.logFile };
  });
}

/** Stops the source, the relay and the Spark job (the services keep running). */
export async function stopPipeline(): Promise<void> {
  await stopPid(files('users-stream').pidFile, 30_000);
  await stopPid(files('relay').pidFile, 15_000);
  await stopPid(files('source').pidFile, 5_000);
}

// ---------------------------------------------------------------------------------------------
// Connections and counts.
// ---------------------------------------------------------------------------------------------

export interface Connections {
  readonly pg: Pool;
  readonly cassandra: CassandraClient;
  readonly kafka: Kafka;
  close(): Promise<void>;
}

export async function connect(e: LocalEndpoints, database: string = e.postgres.database): Promise<Connections> {
  const pg = new Pool({ host: e.postgres.host, port: e.postgres.port, user: e.postgres.user, password: e.postgres.password, database, max: 4, application_name: 'rtds-local' });
  pg.on('error', () => undefined);
  const cassandra = new CassandraClient({
    contactPoints: [...e.cassandra.contactPoints],
    protocolOptions: { port: e.cassandra.port },
    localDataCenter: e.cassandra.localDataCenter,
    authProvider: new auth.PlainTextAuthProvider(e.cassandra.username, e.cassandra.password),
    socketOptions: { readTimeout: 60_000 },
  });
  await cassandra.connect();
  const kafka = new Kafka({ clientId: 'rtds-local', brokers: e.kafka.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  return {
    pg,
    cassandra,
    kafka,
    async close() {
      await pg.end();
      await cassandra.shutdown();
    },
  };
}

/** The end offset of each of a topic's partitions, by partition number. */
export async function partitionEndOffsets(kafka: Kafka, topic: string): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [String(p.partition), Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the end offsets of a topic's partitions (messages ever written, as Kafka counts them). */
export async function topicEndOffsets(kafka: Kafka, topic: string): Promise<number> {
  return Object.values(await partitionEndOffsets(kafka, topic)).reduce((sum, high) => sum + high, 0);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Landed users of one ingest run, in landing order, with their landing time. */
export interface RunRows {
  readonly ids: string[];
  readonly seqs: number[];
  readonly ingestedAtMs: number[];
}

export async function runRows(pg: Pool, runId: string): Promise<RunRows> {
  const r = await pg.query<{ id: string; seq: string; at: string }>(
    `SELECT id, seq, (extract(epoch FROM ingested_at) * 1000)::bigint AS at FROM landing_users WHERE run_id = $1 ORDER BY seq`,
    [runId],
  );
  return { ids: r.rows.map((x) => x.id), seqs: r.rows.map((x) => Number(x.seq)), ingestedAtMs: r.rows.map((x) => Number(x.at)) };
}

/**
 * Follows a run's ids into Cassandra: each call checks the ids not yet seen, oldest first, and
 * stops early at a stretch of misses (the Spark job writes roughly in landing order), so a run of
 * N users costs about N point reads in all rather than N per poll.
 */
export class CassandraTracker {
  private readonly missing: number[];
  private readonly latencies: number[] = [];
  private readonly query: string;
  found = 0;
  /** processed_at of the latest user found, epoch ms. */
  lastProcessedMs = NaN;

  constructor(
    private readonly cassandra: CassandraClient,
    private readonly rows: RunRows,
    table: string = CASSANDRA_TABLE,
  ) {
    this.missing = rows.ids.map((_, i) => i);
    this.query = `SELECT id, processed_at FROM ${table} WHERE id IN ?`;
  }

  get total(): number {
    return this.rows.ids.length;
  }

  /** Landing → Cassandra milliseconds of every user found so far, sorted. */
  latenciesMs(): number[] {
    return [...this.latencies].sort((a, b) => a - b);
  }

  async poll(chunk = 100, parallel = 4, missStreak = 2): Promise<number> {
    const stillMissing: number[] = [];
    let emptyGroups = 0;
    let i = 0;
    for (; i < this.missing.length && emptyGroups < missStreak; i += chunk * parallel) {
      const group: number[][] = [];
      for (let g = 0; g < parallel; g++) {
        const part = this.missing.slice(i + g * chunk, i + (g + 1) * chunk);
        if (part.length > 0) group.push(part);
      }
      const answers = await Promise.all(
        group.map((part) => this.cassandra.execute(this.query, [part.map((k) => this.rows.ids[k])], { prepare: true, fetchSize: chunk + 1 })),
      );
      let foundHere = 0;
      answers.forEach((answer, g) => {
        const seen = new Map<string, Date>();
        for (const row of answer.rows) seen.set(row.id as string, row.processed_at as Date);
        for (const k of group[g]) {
          const at = seen.get(this.rows.ids[k]);
          if (at === undefined || at === null) stillMissing.push(k);
          else {
            foundHere++;
            this.latencies.push(at.getTime() - this.rows.ingestedAtMs[k]);
            if (!(at.getTime() <= this.lastProcessedMs)) this.lastProcessedMs = at.getTime();
          }
        }
      });
      this.found += foundHere;
      emptyGroups = foundHere === 0 ? emptyGroups + 1 : 0;
    }
    this.missing.splice(0, Math.min(i, this.missing.length), ...stillMissing);
    return this.found;
  }
}

/** The figures of one run, per stage. */
export interface StageCounts {
  /** Users asked for. */
  readonly users: number;
  /** Records the source answered (before validation). */
  readonly source: number;
  /** Rows of this run in landing_users. */
  readonly postgres: number;
  /** Rows of this run at or below the relay's cursor: acknowledged by Kafka (acks=all). */
  readonly kafka: number;
  /** Ids of this run found in Cassandra. */
  readonly cassandra: number;
  /** Rows of this run in landing_quarantine. */
  readonly quarantined: number;
  /** Messages added to the dead-letter topic (since the command started, or in all for status). */
  readonly deadLettered: number;
  readonly seconds: number;
  readonly e2eP50Ms: number;
  readonly e2eP99Ms: number;
}

export async function postgresCounts(pg: Pool, runId: string | readonly string[]): Promise<{ postgres: number; kafka: number; quarantined: number }> {
  const ids = typeof runId === 'string' ? [runId] : [...runId];
  const r = await pg.query<{ landed: string; acked: string; quarantined: string }>(
    `SELECT (SELECT count(*) FROM landing_users WHERE run_id = ANY($1)) AS landed,
            (SELECT count(*) FROM landing_users WHERE run_id = ANY($1)
               AND seq <= coalesce((SELECT last_seq FROM relay_cursor WHERE name = $2), 0)) AS acked,
            (SELECT count(*) FROM landing_quarantine WHERE run_id = ANY($1)) AS quarantined`,
    [ids, PIPELINE_TOPIC],
  );
  return { postgres: Number(r.rows[0].landed), kafka: Number(r.rows[0].acked), quarantined: Number(r.rows[0].quarantined) };
}

export function stageTable(c: StageCounts, note: string, secondsNote = 'from the start of ingest to the last user seen in Cassandra'): string {
  const fmt = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US') : '-');
  const rows: [string, string, string][] = [
    ['source', fmt(c.source), 'records the source answered for this run'],
    ['PostgreSQL', fmt(c.postgres), 'rows of this run in landing_users'],
    ['Kafka', fmt(c.kafka), 'rows of this run acknowledged by Kafka (relay cursor, acks=all)'],
    ['Cassandra', fmt(c.cassandra), `ids of this run in ${CASSANDRA_TABLE}`],
    ['quarantined', fmt(c.quarantined), 'rows of this run in landing_quarantine'],
    ['dead-lettered', fmt(c.deadLettered), `messages added to ${DEAD_LETTER_TOPIC} ${note}`],
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

/** Peak and sampled resident memory of a process over a run. */
export interface RssTrace {
  readonly peakMb: number;
  /** [seconds since the run started, MB] every second. */
  readonly samples: [number, number][];
}

export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

class RssSampler {
  private readonly samples = new Map<string, [number, number][]>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: () => Record<string, number | undefined>, private readonly t0: number) {
    this.timer = setInterval(() => this.sample(), 1000);
    this.sample();
  }
  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      if (pid === undefined) continue;
      const mb = rssMb(pid);
      if (mb === undefined) continue;
      if (!this.samples.has(name)) this.samples.set(name, []);
      this.samples.get(name)!.push([Math.round((Date.now() - this.t0) / 100) / 10, Math.round(mb)]);
    }
  }
  stop(): Record<string, RssTrace> {
    clearInterval(this.timer);
    const out: Record<string, RssTrace> = {};
    for (const [name, s] of this.samples) out[name] = { peakMb: Math.max(...s.map((x) => x[1])), samples: s };
    return out;
  }
}

export interface RunOptions {
  readonly users: number;
  /** @default a fresh seed per run, so every run lands new users */
  readonly seed?: string;
  /** Seconds without progress in Cassandra before giving up, naming the stuck stage. @default 300 */
  readonly stallSeconds?: number;
  /** @default stderr */
  readonly log?: (message: string) => void;
  /** Ingest's progress bar. @default inherited stderr */
  readonly ingestStderr?: 'inherit' | 'ignore';
}

export interface RunResult extends StageCounts {
  readonly runId: string;
  readonly seed: string;
  readonly ingestSeconds: number;
  readonly rss: Record<string, RssTrace>;
}

interface IngestStatus {
  id: string;
  state: string;
  seed: string;
  fetched: number;
  inserted: number;
  alreadyLanded: number;
  quarantined: number;
  error?: string;
}

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

export interface WaitOptions {
  /** The Spark driver: its exit ends the wait at once. @default not watched */
  readonly streamPid?: number;
  /** Seconds without progress in Cassandra before giving up. @default 300 */
  readonly stallSeconds?: number;
  readonly log?: (message: string) => void;
  /** Start of the run, for progress lines. @default now */
  readonly t0?: number;
}

/** Polls until every tracked user is in Cassandra; throws naming the stage that is stuck. */
export async function waitForCassandra(conn: Connections, tracker: CassandraTracker, runIds: readonly string[], opts: WaitOptions = {}): Promise<{ postgres: number; kafka: number; quarantined: number }> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`[local] ${m}\n`));
  const t0 = opts.t0 ?? Date.now();
  const stallMs = (opts.stallSeconds ?? 300) * 1000;
  const streamLog = () => usersStreamFiles(createContext({ log: () => undefined })).logFile;
  let lastProgress = Date.now();
  let lastFound = -1;
  let lastReport = Date.now();
  let pgc = await postgresCounts(conn.pg, runIds);
  for (;;) {
    await tracker.poll();
    if (tracker.found >= tracker.total) break;
    pgc = await postgresCounts(conn.pg, runIds);
    if (tracker.found !== lastFound) {
      lastFound = tracker.found;
      lastProgress = Date.now();
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      say(`waiting: Kafka ${pgc.kafka}/${pgc.postgres}, Cassandra ${tracker.found}/${tracker.total} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    if (opts.streamPid !== undefined && !isAlive(opts.streamPid)) {
      throw new Error(`stream stage stuck: the Spark job (pid ${opts.streamPid}) exited with Cassandra at ${tracker.found}/${tracker.total}; run again to restart it; last lines of ${streamLog()}:\n${tail(streamLog())}`);
    }
    const stalled = Date.now() - lastProgress;
    if (stalled > stallMs) {
      const secs = Math.round(stalled / 1000);
      if (pgc.kafka < pgc.postgres) {
        throw new Error(`relay stage stuck: Kafka acknowledged ${pgc.kafka} of ${pgc.postgres} landed users and Cassandra did not grow for ${secs} s; see ${files('relay').logFile}`);
      }
      throw new Error(`stream stage stuck: Kafka holds all ${pgc.kafka} users but Cassandra has ${tracker.found} and did not grow for ${secs} s; see ${streamLog()}`);
    }
    await sleep(500);
  }
  return postgresCounts(conn.pg, runIds);
}

/** Lands `users` users and follows them to Cassandra; throws naming the stuck stage on a stall. */
export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`[local] ${m}\n`));
  const { endpoints, processes } = await ensurePipeline({ log: say });
  const conn = await connect(endpoints);
  try {
    const seed = opts.seed ?? `local-${new Date().toISOString().replace(/[-:.TZ]/g, '')}-${Math.random().toString(36).slice(2, 8)}`;
    const dlqBefore = await topicEndOffsets(conn.kafka, DEAD_LETTER_TOPIC);
    const relayPid = processes.find((p) => p.name === 'relay')?.pid;
    const streamPid = processes.find((p) => p.name === 'users-stream')?.pid;
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
    const rows = await runRows(conn.pg, status.id);
    const tracker = new CassandraTracker(conn.cassandra, rows);
    const pgc = await waitForCassandra(conn, tracker, [status.id], { streamPid, stallSeconds: opts.stallSeconds, log: say, t0 });
    const seconds = (Date.now() - t0) / 1000;
    const rss = sampler.stop();
    const dlqAfter = await topicEndOffsets(conn.kafka, DEAD_LETTER_TOPIC);
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

/**
 * Rows of a table, counted per token range: one `count(*)` over a table of millions fails on a
 * small single node (the coordinator gives up), 64 slices of it do not.
 */
export async function countRows(cassandra: CassandraClient, table: string, slices = 64): Promise<number> {
  const min = -(2n ** 63n);
  const step = (2n ** 64n - 1n) / BigInt(slices);
  const bounds = Array.from({ length: slices }, (_, i) => [min + step * BigInt(i), i === slices - 1 ? 2n ** 63n - 1n : min + step * BigInt(i + 1)] as const);
  let total = 0;
  for (let i = 0; i < bounds.length; i += 4) {
    const counts = await Promise.all(
      bounds.slice(i, i + 4).map(async ([lo, hi], k) => {
        // The first slice starts at the minimum token, which '>' would leave out.
        const op = i + k === 0 ? '>=' : '>';
        const r = await cassandra.execute(`SELECT count(*) AS n FROM ${table} WHERE token(id) ${op} ${lo} AND token(id) <= ${hi}`, [], { readTimeout: 120_000 });
        return Number(r.rows[0].n);
      }),
    );
    total += counts.reduce((a, b) => a + b, 0);
  }
  return total;
}

/** The latest ingest run's stage figures, for `npm run status`. */
export async function latestRunCounts(e: LocalEndpoints): Promise<{ runId?: string; counts?: StageCounts; totals: Record<string, number> }> {
  const conn = await connect(e);
  try {
    const totals: Record<string, number> = {};
    const landed = await conn.pg.query<{ n: string; cursor: string }>(
      `SELECT (SELECT count(*) FROM landing_users) AS n, coalesce((SELECT last_seq FROM relay_cursor WHERE name = $1), 0) AS cursor`,
      [PIPELINE_TOPIC],
    );
    totals.postgres = Number(landed.rows[0].n);
    totals.relayCursor = Number(landed.rows[0].cursor);
    totals.kafka = await topicEndOffsets(conn.kafka, PIPELINE_TOPIC);
    totals.deadLettered = await topicEndOffsets(conn.kafka, DEAD_LETTER_TOPIC);
    totals.cassandra = await countRows(conn.cassandra, CASSANDRA_TABLE);
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

/**
 * Every stage measured side by side with the reference it should approach, alternating ours and
 * the reference in the same run so machine noise hits both (docs/BENCHMARKS.md explains each figure).
 *
 *   npm run bench               full run → bench/results/latest.json and the table in docs/BENCHMARKS.md
 *   npm run bench -- --quick    small sizes, under 3 minutes → bench/results/quick.json (docs untouched)
 *
 * Runs on the local services (started when not running, as `npm run local` does).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { CASSANDRA_KEYSPACE, KAFKA_TOOLS, LOCAL_PORTS, localPort, VERSIONS } from '../config/facts';
import { LocalEndpoints, workloadEnv } from '../scripts/services/endpoints';
import { createContext, up } from '../scripts/services/lifecycle';
import { javaBin, mavenLibDir } from '../scripts/services/maven';
import { assertPortFree, isAlive, processFiles, sleep, spawnDaemon, stopPid, tail } from '../scripts/services/process';
import { startUsersStream, stopUsersStream, usersStreamCheckpoint, usersStreamFiles } from '../scripts/local/users-stream';
import { connect, Connections, rssSummary } from '../scripts/local/measure';
import { ensurePipeline, ensureServices, REPO, runPipeline, workloadCommand } from '../scripts/local/pipeline';
import { deleteTopics, pipelinePartitions, scratchDatabase, scratchTopics, superuserClient } from '../scripts/local/scratch';
import { UserEncoder, valueSubject } from '../workloads/relay/avro';
import { userSchemaText } from '../workloads/relay/schema';
import { copyRound, exportLanded, fetchAloneRound, ingestRound } from './ingest/rounds';
import { PrerenderedSource, startPrerenderedSource } from './ingest/prerendered-source';
import { LatencyResult, latencyRun } from './latency/latency';
import { MemoryRun, memoryRun, memoryVerdict } from './memory/memory';
import { registerUserSchema, SchemaRegistry } from '../workloads/relay/registry';
import { Relay } from '../workloads/relay/relay';
import { connectProducer } from '../workloads/shared/kafka';
import { PostgresConfig } from '../workloads/shared/config';
import { setQuiet } from '../workloads/shared/log';
import { driverRound, driverValues, freshUsersTable, streamRound } from './stream/measure';
import { CpuProfile, startCpuProfile } from './cpu/proc';

// ---------------------------------------------------------------------------------------------
// Settings.
// ---------------------------------------------------------------------------------------------

export interface BenchSettings {
  readonly mode: 'quick' | 'full';
  /** Rounds of each pair (ours and reference alternate within a round). */
  readonly rounds: number;
  /** Users per round for ingest, COPY, relay, ProducerPerformance, stream and the driver writer. */
  readonly pairUsers: number;
  /** Users sent the seed's way (one request and one send each) per round. */
  readonly seedUsers: number;
  /** Users of the end-to-end runs through the whole pipeline. */
  readonly e2eUsers: readonly number[];
  /** Users of the memory round's two runs (fresh ingest and relay processes each). */
  readonly memoryUsers: readonly [number, number];
  /** Seconds of each steady rate of the latency rounds. */
  readonly latencySeconds: number;
  readonly synth: boolean;
}

export const QUICK: BenchSettings = { mode: 'quick', rounds: 3, pairUsers: 10_000, seedUsers: 300, e2eUsers: [20_000], memoryUsers: [10_000, 50_000], latencySeconds: 15, synth: false };
export const FULL: BenchSettings = { mode: 'full', rounds: 3, pairUsers: 100_000, seedUsers: 3_000, e2eUsers: [100_000, 1_000_000], memoryUsers: [100_000, 1_000_000], latencySeconds: 60, synth: true };

export function parseBenchArgs(argv: readonly string[]): BenchSettings {
  let s: BenchSettings = FULL;
  const over: { -readonly [K in keyof BenchSettings]?: BenchSettings[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const num = () => {
      const v = inline ?? argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    if (flag === '--quick') s = QUICK;
    else if (flag === '--rounds') over.rounds = num();
    else if (flag === '--pair-users') over.pairUsers = num();
    else if (flag === '--seed-users') over.seedUsers = num();
    else if (flag === '--e2e-users') over.e2eUsers = [num()];
    else if (flag === '--latency-seconds') over.latencySeconds = num();
    else if (flag === '--memory-users') {
      const v = inline ?? argv[++i];
      const sizes = (v ?? '').split(',').map(Number);
      if (sizes.length !== 2 || !sizes.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--memory-users must be two positive integers like 100000,1000000, got ${JSON.stringify(v)}`);
      over.memoryUsers = [sizes[0], sizes[1]];
    }
    else if (flag === '--no-synth') over.synth = false;
    else throw new Error(`unknown option ${JSON.stringify(argv[i])} (expected --quick, --rounds N, --pair-users N, --seed-users N, --e2e-users N, --latency-seconds N, --memory-users A,B, --no-synth)`);
  }
  return { ...s, ...over };
}

// ---------------------------------------------------------------------------------------------
// Figures.
// ---------------------------------------------------------------------------------------------

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number[];
}

export function spread(values: readonly number[]): Spread {
  const runs = values.map((v) => Math.round(v * 10) / 10);
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: Math.round(median * 10) / 10, min: sorted[0], max: sorted[sorted.length - 1], runs };
}

/** Steady rates of the latency rounds: the target's, and five times it. */
const LATENCY_RATES = [1000, 5000] as const;

const say = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const BENCH_DB = 'rtds_bench';
// Topics of this run only: a topic deleted and re-created under the same name races the broker's
// asynchronous deletion (a producer then waits for a topic that is not there).
const RUN_TAG = Date.now().toString(36);
const RELAY_TOPIC = `rtds_bench_relay_${RUN_TAG}`;
// What the bench Spark job reads: the relay writes the landed rows here a second time, unmeasured,
// so that the measured relay round runs with no Spark job consuming next to it.
const STREAM_TOPIC = `rtds_bench_stream_${RUN_TAG}`;
const PERF_TOPIC = `rtds_bench_perf_${RUN_TAG}`;
const SEED_TOPIC = `rtds_bench_seed_${RUN_TAG}`;
const BENCH_DLQ = `rtds_bench_dlq_${RUN_TAG}`;
const BENCH_TOPICS = [RELAY_TOPIC, STREAM_TOPIC, PERF_TOPIC, SEED_TOPIC, BENCH_DLQ];
const STREAM_TABLE = 'bench_stream_users';
const DRIVER_TABLE = 'bench_driver_users';
const STREAM_INSTANCE = 'bench-stream';

function benchSourcePort(): number {
  return localPort(LOCAL_PORTS.benchSource);
}

// ---------------------------------------------------------------------------------------------
// Set-up: a database, topics and tables of the bench's own, and a source without a rate limit.
// ---------------------------------------------------------------------------------------------

async function freshDatabase(e: LocalEndpoints): Promise<PostgresConfig> {
  const { cfg } = await scratchDatabase(e, BENCH_DB);
  const pool = new Pool({ ...cfg, max: 1 });
  // The reference table: the landing table's shape and indexes, without the NOTIFY trigger.
  await pool.query('CREATE TABLE landing_copy (LIKE landing_users INCLUDING ALL)');
  await pool.end();
  return cfg;
}

async function dropDatabase(e: LocalEndpoints): Promise<void> {
  const admin = superuserClient(e);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
  await admin.end();
}

async function createTopics(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  // Earlier runs' topics (an interrupted run leaves them): the bench's own prefix only.
  const stale = (await admin.listTopics()).filter((t) => t.startsWith('rtds_bench_'));
  if (stale.length > 0) await admin.deleteTopics({ topics: stale });
  await admin.disconnect();
  // The pipeline's partitions on every bench topic, the dead-letter one included.
  await scratchTopics(kafka, BENCH_TOPICS.map((topic) => ({ topic, partitions: pipelinePartitions() })));
}

async function freshTables(conn: Connections): Promise<void> {
  for (const table of [STREAM_TABLE, DRIVER_TABLE]) await freshUsersTable(conn, `${CASSANDRA_KEYSPACE}.${table}`);
}

async function startBenchSource(e: LocalEndpoints): Promise<number> {
  const files = processFiles(createContext({ log: () => undefined }).home, 'bench-source');
  await stopPid(files.pidFile, 5000);
  await assertPortFree('bench source', 'HTTP', benchSourcePort(), 'RTDS_BENCH_SOURCE_PORT');
  const cmd = workloadCommand(['source', 'serve']);
  // No rate limit worth the name: the seed's design asks one request per user.
  const pid = spawnDaemon({ command: cmd.command, args: cmd.args, cwd: REPO, env: { ...workloadEnv(e), HTTP_PORT: String(benchSourcePort()), SOURCE_RATE_LIMIT: '1000000' }, ...files });
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${benchSourcePort()}/healthz`).then((r) => r.ok, () => false);
    if (ok) return pid;
    if (!isAlive(pid) || i > 240) throw new Error(`bench source did not start: ${tail(files.logFile)}`);
    await sleep(500);
  }
}

async function stopBenchSource(): Promise<void> {
  await stopPid(processFiles(createContext({ log: () => undefined }).home, 'bench-source').pidFile, 5000);
}

function benchSourceUrl(): string {
  return `http://127.0.0.1:${benchSourcePort()}/api/`;
}

// ---------------------------------------------------------------------------------------------
// The pairs.
// ---------------------------------------------------------------------------------------------

async function relayRound(pg: PostgresConfig, e: LocalEndpoints, schemaId: number, round: number, topic: string): Promise<{ usersPerSec: number; users: number }> {
  const pool = new Pool({ ...pg, max: 1 });
  const max = Number((await pool.query<{ m: string }>('SELECT coalesce(max(seq), 0) AS m FROM landing_users')).rows[0].m);
  await pool.end();
  const producer = await connectProducer({ bootstrapServers: e.kafka.bootstrapServers.split(','), clientId: 'rtds-bench-relay' });
  const relay = new Relay({ postgres: pg, producer, encoder: new UserEncoder(schemaId, userSchemaText()), topic, batchSize: 2000, cursorName: `bench-${Date.now()}-${round}-${topic}` });
  const t0 = performance.now();
  const running = relay.run();
  let progressAt = Date.now();
  let last = 0;
  while (relay.status.cursor < max) {
    if (relay.status.lastError) throw new Error(`relay round ${round}: ${relay.status.lastError}`);
    if (relay.status.cursor !== last) {
      last = relay.status.cursor;
      progressAt = Date.now();
    }
    if (Date.now() - progressAt > 120_000) throw new Error(`relay round ${round}: cursor stuck at ${last} of ${max} for 120 s (topic ${topic})`);
    await sleep(5);
  }
  const secs = (performance.now() - t0) / 1000;
  await relay.stop();
  await running;
  await relay.close();
  await producer.close();
  return { usersPerSec: max / secs, users: max };
}

/** acks and idempotence as the relay; batching large enough for the relay's 2,000-record sends. */
const PERF_PRODUCER_PROPS = ['acks=all', 'enable.idempotence=true', 'batch.size=524288', 'linger.ms=10'];

function producerPerfRound(lib: string, e: LocalEndpoints, users: number, recordSize: number): number {
  const out = execFileSync(javaBin(), [
    '-Xmx512m', '-cp', `${lib}/*`, '-Dlog4j.configuration=file:/dev/null',
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic', PERF_TOPIC, '--num-records', String(users), '--record-size', String(recordSize), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${e.kafka.bootstrapServers}`, ...PERF_PRODUCER_PROPS,
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  // Last line: "N records sent, X records/sec (Y MB/sec), ..."
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(out.trim().split('\n').pop() ?? '');
  if (!m) throw new Error(`ProducerPerformance printed no summary:\n${out.slice(-2000)}`);
  return Number(m[2]);
}

async function typedUsers(pg: PostgresConfig): Promise<unknown[][]> {
  const pool = new Pool({ ...pg, max: 1 });
  const r = await pool.query(`SELECT id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, nat, ingested_at, seq FROM landing_users ORDER BY seq`);
  await pool.end();
  return r.rows.map((u) => driverValues({ ...u, seq: Number(u.seq) }));
}

/** The seed's design: one API request and one Kafka send per user, in sequence. */
async function seedRound(kafka: Kafka, users: number): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = performance.now();
  for (let i = 0; i < users; i++) {
    const res = await fetch(benchSourceUrl());
    const body = (await res.json()) as { results: Record<string, unknown>[] };
    // acks=1: kafka-python's default, which the seed used.
    await producer.send({ topic: SEED_TOPIC, acks: 1, messages: [{ value: JSON.stringify(body.results[0]) }] });
  }
  const secs = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return users / secs;
}

/** Wall seconds of `npm run synth`, `runs` times; stops at the first failure with its output's tail. */
function synthSeconds(runs: number): { seconds?: Spread; ok: boolean; detail?: string } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync('npm', ['run', 'synth'], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) return { ok: false, detail: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-5).join(' | ') };
    times.push((performance.now() - t0) / 1000);
  }
  return { seconds: spread(times), ok: true };
}

// ---------------------------------------------------------------------------------------------
// Machine and report.
// ---------------------------------------------------------------------------------------------

function machine(e: LocalEndpoints): Record<string, unknown> {
  const cpu = os.cpus();
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0];
    } catch {
      return 'unknown';
    }
  };
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    // java -version writes to stderr.
    java: (spawnSync(javaBin(), ['-version'], { encoding: 'utf8' }).stderr ?? '').split('\n')[0].trim() || 'unknown',
    postgres: version(path.join(process.env.RTDS_PG_BIN ?? `/usr/lib/postgresql/${VERSIONS.postgresLocal}/bin`, 'postgres'), ['--version']),
    kafka: `${e.kafka.version} (${e.kafka.mode} mode)`,
    cassandra: VERSIONS.cassandra,
    spark: VERSIONS.spark,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 10) / 10),
  };
}

async function main(): Promise<void> {
  const settings = parseBenchArgs(process.argv.slice(2));
  setQuiet(true);
  const started = Date.now();
  say(`${settings.mode} run: ${settings.rounds} rounds of ${settings.pairUsers} users per pair`);
  // Only the services here: the pipeline's own processes start before the end-to-end runs.
  const e = await ensureServices({ log: say });
  const ctx = createContext({ log: say });
  const result: Record<string, unknown> = { at: new Date().toISOString(), mode: settings.mode, settings, machine: machine(e) };
  const conn = await connect(e);
  const csv = path.join(os.tmpdir(), `rtds-bench-${process.pid}.csv`);
  let prerendered: PrerenderedSource | undefined;
  try {
    say(`set-up: database rtds_bench, topics rtds_bench_*, tables ${CASSANDRA_KEYSPACE}.bench_*, bench source, kafka-tools`);
    const pg = await freshDatabase(e);
    await createTopics(conn.kafka);
    await freshTables(conn);
    await startBenchSource(e);
    prerendered = await startPrerenderedSource();
    const toolsLib = mavenLibDir(ctx, `kafka-tools-${VERSIONS.kafka}`, KAFKA_TOOLS);
    const schemaId = await registerUserSchema(new SchemaRegistry(e.schemaRegistry.url), valueSubject(RELAY_TOPIC), userSchemaText());
    await stopUsersStream(ctx, STREAM_INSTANCE);
    const checkpoint = usersStreamCheckpoint(ctx, STREAM_INSTANCE);
    fs.rmSync(checkpoint, { recursive: true, force: true });
    startUsersStream(ctx, e, {
      instance: STREAM_INSTANCE, topic: STREAM_TOPIC, deadLetterTopic: BENCH_DLQ, checkpointDir: checkpoint, cores: 2,
      env: { CASSANDRA_TABLE: STREAM_TABLE, STARTING_OFFSETS: 'earliest' },
    });

    const ingest: number[] = [];
    const ingestLive: number[] = [];
    const fetchAlone: number[] = [];
    const copy: number[] = [];
    const relay: number[] = [];
    const perf: number[] = [];
    const stream: number[] = [];
    const driver: number[] = [];
    const seed: number[] = [];
    let recordSize = 0;
    // Round 0 warms up every side (the bench Spark job's first micro-batch, JIT, connections, and
    // ingest's page thread, which a run of two pages or more starts) and is not kept.
    for (let r = 0; r <= settings.rounds; r++) {
      const users = r === 0 ? Math.min(settings.pairUsers, 10_000) : settings.pairUsers;
      const keep = <T>(list: T[], value: T): T => {
        if (r > 0) list.push(value);
        return value;
      };
      const label = r === 0 ? 'warm-up' : `round ${r}`;
      // Pages rendered before the clock starts: only ingest's own work is timed.
      const pageSeed = `bench-${RUN_TAG}-${r}`;
      await prerendered.render(pageSeed, users);
      const ing = keep(ingest, await ingestRound(pg, prerendered.url, users, pageSeed));
      await exportLanded(e, BENCH_DB, csv);
      const cp = keep(copy, await copyRound(e, BENCH_DB, csv, users));
      const fa = keep(fetchAlone, await fetchAloneRound(prerendered.url, users, pageSeed));
      // The same with the bundled source generating each page as it is asked (a new seed).
      const live = keep(ingestLive, await ingestRound(pg, benchSourceUrl(), users, `${pageSeed}-live`));
      say(`${label}: ingest ${Math.round(ing)} users/s (pre-rendered pages), COPY ${Math.round(cp)} rows/s, fetching alone ${Math.round(fa)} users/s; ingest from the live generator ${Math.round(live)} users/s`);

      if (recordSize === 0) {
        // Same bytes per record as the relay's messages: Avro value plus the 36-byte id key.
        recordSize = await typedUsersForSize(pg, schemaId);
      }
      await conn.cassandra.execute(`TRUNCATE ${CASSANDRA_KEYSPACE}.${STREAM_TABLE}`, [], { readTimeout: 120_000 });
      const rr = await relayRound(pg, e, schemaId, r, RELAY_TOPIC);
      keep(relay, rr.usersPerSec);
      const pp = keep(perf, producerPerfRound(toolsLib, e, users, recordSize));
      say(`${label}: relay ${Math.round(rr.usersPerSec)} users/s, ProducerPerformance ${Math.round(pp)} records/s (${recordSize} B)`);

      // The Spark job's input: the same rows relayed again (not timed) to the topic it reads, which
      // it consumes as they arrive, as in the pipeline. Nothing else runs until it is done.
      const fed = await relayRound(pg, e, schemaId, r, STREAM_TOPIC);
      const st = await streamRound(conn, {
        checkpoint, topic: STREAM_TOPIC, table: `${CASSANDRA_KEYSPACE}.${STREAM_TABLE}`, expected: fed.users, timeoutMs: Math.max(300_000, users * 20),
        logFile: usersStreamFiles(ctx, STREAM_INSTANCE).logFile,
      });
      keep(stream, st.usersPerSec);

      const dr = keep(driver, await driverRound(conn, `${CASSANDRA_KEYSPACE}.${DRIVER_TABLE}`, await typedUsers(pg)));
      say(`${label}: Spark job ${Math.round(st.usersPerSec)} users/s over ${st.batches} micro-batches, driver writer ${Math.round(dr)} rows/s`);

      const sd = keep(seed, await seedRound(conn.kafka, r === 0 ? 50 : settings.seedUsers));
      say(`${label}: seed design ${Math.round(sd)} users/s`);
    }
    await stopUsersStream(ctx, STREAM_INSTANCE);
    await prerendered.stop();
    const memory: MemoryRun[] = [];
    for (const users of settings.memoryUsers) {
      say(`memory: ingest run and relay, fresh processes, ${users.toLocaleString('en-US')} users`);
      const m = await memoryRun(e, pg, benchSourceUrl(), RELAY_TOPIC, users, `bench-memory-${RUN_TAG}-${users}`);
      memory.push(m);
      say(`memory ${users}: ingest peak ${m.ingest.peakMb} MB, relay peak ${m.relay.peakMb} MB (${m.seconds} s)`);
    }
    result.memory = { runs: memory, verdict: memoryVerdict(memory[0], memory[1]) };
    await stopBenchSource();
    const ratio = (a: number[], b: number[]) => Math.round((spread(a).median / spread(b).median) * 100) / 100;
    result.ingest = { ours: spread(ingest), reference: spread(copy), ratio: ratio(ingest, copy), target: 0.5, unit: 'users/s', pages: 'pre-rendered', fetchAlone: spread(fetchAlone), liveGenerator: { ours: spread(ingestLive), ratio: ratio(ingestLive, copy) } };
    result.relay = { ours: spread(relay), reference: spread(perf), ratio: ratio(relay, perf), target: 0.5, unit: 'users/s', recordBytes: recordSize, referenceProducerProps: PERF_PRODUCER_PROPS };
    result.stream = { ours: spread(stream), reference: spread(driver), ratio: ratio(stream, driver), target: 0.5, unit: 'users/s' };

    // A Spark job that was (re)started replays the topic from its checkpoint first: a small
    // run through the pipeline waits for that, so the timed runs measure the pipeline, not a catch-up.
    say('end to end: warm-up run of 1,000 users (also restarts any pipeline process that died)');
    await runPipeline({ users: 1000, log: say, ingestStderr: 'ignore', stallSeconds: 900 });
    const e2e: Record<string, unknown>[] = [];
    for (const users of settings.e2eUsers) {
      // The landing table keeps every earlier run's rows, and a run's time may depend on them
      // (1,000,000 users: 407 s after 6.7 million rows, 353 and 379 s into an empty table, one morning).
      const landingRowsBefore = Number((await conn.pg.query<{ n: string }>('SELECT count(*) AS n FROM landing_users')).rows[0].n);
      say(`end to end: npm run local's run of ${users} users (the landing table holds ${landingRowsBefore.toLocaleString('en-US')} rows)`);
      const profile = startCpuProfile(ctx.home, os.cpus().length);
      let cpu: CpuProfile | undefined;
      const run = await runPipeline({ users, log: say, ingestStderr: 'ignore', stallSeconds: 600, onClockStop: () => (cpu = profile()) });
      e2e.push({
        users,
        landingRowsBefore,
        seconds: Math.round(run.seconds * 10) / 10,
        usersPerSec: Math.round(users / run.seconds),
        ingestSeconds: Math.round(run.ingestSeconds * 10) / 10,
        counts: { postgres: run.postgres, kafka: run.kafka, cassandra: run.cassandra, quarantined: run.quarantined, deadLettered: run.deadLettered },
        latencyMs: { p50: Math.round(run.e2eP50Ms), p99: Math.round(run.e2eP99Ms) },
        rss: { ingest: rssSummary(run.rss.ingest), relay: rssSummary(run.rss.relay) },
        cpu,
      });
      say(`end to end ${users}: ${Math.round(users / run.seconds)} users/s, Cassandra ${run.cassandra}`);
    }
    const seedSpread = spread(seed);
    const largest = e2e[e2e.length - 1] as { users: number; usersPerSec: number };
    result.endToEnd = {
      ours: e2e,
      seedDesign: { ...seedSpread, usersPerRound: settings.seedUsers, unit: 'users/s to Kafka (the seed never reached Cassandra)', extrapolatedSecondsFor1M: Math.round(1_000_000 / seedSpread.median) },
      speedUp: Math.round((largest.usersPerSec / seedSpread.median) * 10) / 10,
    };

    if (settings.mode === 'full') {
      // p99 is promised with the services as the README starts them: Airflow too.
      say('latency: starting Airflow (as npm run services:up does)');
      await up({ only: ['airflow'], log: say });
    }
    const { processes } = await ensurePipeline({ log: () => undefined });
    const streamPid = processes.find((p) => p.name === 'users-stream')?.pid;
    const latency: LatencyResult[] = [];
    for (const rate of LATENCY_RATES) {
      say(`latency: ${settings.latencySeconds} s at ${rate.toLocaleString('en-US')} users/s`);
      const lat = await latencyRun(e, conn, settings.latencySeconds, rate, streamPid, say);
      latency.push(lat);
      say(`latency at ${rate}/s: p50 ${lat.p50} ms, p99 ${lat.p99} ms over ${lat.users} users (landing → Kafka p99 ${lat.landingToKafka.p99} ms, Kafka → micro-batch p99 ${lat.kafkaToStream.p99} ms)`);
    }
    result.latency = { rates: latency, targetP99Ms: 2000, targetRate: 1000, airflow: settings.mode === 'full' };
    if (settings.synth) {
      say('synth: npm run synth');
      result.synth = synthSeconds(settings.rounds);
    } else {
      result.synth = { skipped: '--quick' };
    }
    result.kafkaClient = JSON.parse(fs.readFileSync(path.join(__dirname, 'results', 'kafka-client.json'), 'utf8'));
    (result.machine as Record<string, unknown>).loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 10) / 10);
    result.wallSeconds = Math.round((Date.now() - started) / 1000);
  } finally {
    fs.rmSync(csv, { force: true });
    await stopUsersStream(ctx, STREAM_INSTANCE).catch(() => undefined);
    await stopBenchSource().catch(() => undefined);
    await prerendered?.stop().catch(() => undefined);
    await deleteTopics(conn.kafka, BENCH_TOPICS).catch(() => undefined);
    await fetch(`${e.schemaRegistry.url}/subjects/${valueSubject(RELAY_TOPIC)}`, { method: 'DELETE' }).catch(() => undefined);
    // Leave nothing of the bench's own behind: its tables, checkpoint and database.
    for (const table of [STREAM_TABLE, DRIVER_TABLE]) {
      await conn.cassandra.execute(`DROP TABLE IF EXISTS ${CASSANDRA_KEYSPACE}.${table}`, [], { readTimeout: 120_000 }).catch(() => undefined);
    }
    fs.rmSync(usersStreamCheckpoint(ctx, STREAM_INSTANCE), { recursive: true, force: true });
    await dropDatabase(e).catch(() => undefined);
    await conn.close();
  }
  const out = path.join(__dirname, 'results', settings.mode === 'full' ? 'latest.json' : 'quick.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  const table = markdownTable(result);
  if (settings.mode === 'full') writeDocsTable(table);
  process.stdout.write(`${table}\n\nwritten: ${path.relative(REPO, out)}${settings.mode === 'full' ? ' and docs/BENCHMARKS.md' : ''} in ${result.wallSeconds} s\n`);
}

async function typedUsersForSize(pg: PostgresConfig, schemaId: number): Promise<number> {
  const pool = new Pool({ ...pg, max: 1 });
  const r = await pool.query(`SELECT id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, nat, ingested_at, seq FROM landing_users ORDER BY seq LIMIT 2000`);
  await pool.end();
  const enc = new UserEncoder(schemaId, userSchemaText());
  let bytes = 0;
  for (const u of r.rows) {
    const iso = (d: Date) => d.toISOString();
    bytes += u.id.length + enc.encode({ ...u, dob: iso(u.dob), registered_date: iso(u.registered_date), ingested_at: iso(u.ingested_at), seq: Number(u.seq) }).length;
  }
  return Math.round(bytes / r.rows.length);
}

// ---------------------------------------------------------------------------------------------
// The table in docs/BENCHMARKS.md.
// ---------------------------------------------------------------------------------------------

const fmt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'));
const sp = (s: Spread) => `**${fmt(s.median)}** (${fmt(s.min)}–${fmt(s.max)})`;

/** "Cassandra 310 s (39 %), …": each group's CPU seconds and its share of what the cores offered. */
function cpuLine(p: CpuProfile): string {
  const names: Record<string, string> = { 'bench children': 'ingest (the bench\'s child)', bench: 'the bench process', 'users-stream': 'Spark driver', spark: 'Spark master, worker, executor' };
  const used = Object.values(p.groups).reduce((a, b) => a + b, 0);
  const parts = Object.entries(p.groups).map(([g, sec]) => `${names[g] ?? g} ${fmt(Math.round(sec))} s (${Math.round((sec / p.coreSeconds) * 100)} %)`);
  return `${parts.join(', ')}; **${fmt(Math.round(used))} of ${fmt(Math.round(p.coreSeconds))} core-seconds used** (${p.wallSeconds} s × the cores)`;
}

export function markdownTable(r: Record<string, unknown>): string {
  type Pair = { ours: Spread; reference: Spread; ratio: number; target: number };
  const m = r.machine as Record<string, unknown>;
  const s = r.settings as BenchSettings;
  const ingest = r.ingest as Pair & { fetchAlone: Spread; liveGenerator: { ours: Spread; ratio: number } };
  const relay = r.relay as Pair & { recordBytes: number };
  const stream = r.stream as Pair;
  const e2e = r.endToEnd as { ours: { users: number; seconds: number; usersPerSec: number; counts: { cassandra: number }; latencyMs: { p50: number; p99: number }; rss: { ingest?: Record<string, number>; relay?: Record<string, number> }; cpu?: CpuProfile }[]; seedDesign: Spread & { extrapolatedSecondsFor1M: number }; speedUp: number };
  const lat = r.latency as { rates: LatencyResult[]; targetP99Ms: number; targetRate: number; airflow: boolean };
  const mem = r.memory as { runs: MemoryRun[] };
  const synth = r.synth as { seconds?: Spread; ok?: boolean; detail?: string; skipped?: string };
  const verdict = (p: Pair) => (p.ratio >= p.target ? `${p.ratio} ✓` : `${p.ratio} ✗`);
  const lines = [
    `Run ${r.at as string} (${s.mode}, ${r.wallSeconds as number} s): ${m.cores as number} cores (${m.cpu as string}), ${m.memoryGiB as number} GiB, ${m.os as string}; ` +
      `Node ${m.node as string}, ${m.java as string}, ${m.postgres as string}, Kafka ${m.kafka as string}, Cassandra ${m.cassandra as string}, Spark ${m.spark as string}. ` +
      `Load average at start ${(m.loadAverageAtStart as number[]).join(' / ')}, at end ${((m.loadAverageAtEnd as number[]) ?? []).join(' / ')} (the machine was shared).`,
    '',
    `Each pair: ${s.rounds} rounds of ${s.pairUsers.toLocaleString('en-US')} users, ours then the reference in every round; **median** (min–max).`,
    '',
    '| stage | ours | reference in the same run | ratio (target) |',
    '|---|---|---|---|',
    `| ingest | ${sp(ingest.ours)} users/s, pre-rendered pages → PostgreSQL | ${sp(ingest.reference)} rows/s, server-side \`COPY\` of the same rows | ${verdict(ingest)} (≥ 0.5) |`,
    `| ↳ fetching alone | ${sp(ingest.fetchAlone)} users/s, the same pre-rendered pages fetched and parsed, no database | — | what bounds ingest |`,
    `| ↳ ingest from the live generator | ${sp(ingest.liveGenerator.ours)} users/s, the bundled source generating each page as asked, on the same cores | same COPY | ${ingest.liveGenerator.ratio} (for comparison with earlier runs) |`,
    `| relay | ${sp(relay.ours)} users/s, PostgreSQL → Kafka, Avro, acks=all | ${sp(relay.reference)} records/s, \`ProducerPerformance\`, ${relay.recordBytes} B, acks=all | ${verdict(relay)} (≥ 0.5) |`,
    `| stream | ${sp(stream.ours)} users/s, Kafka → Cassandra (Spark job) | ${sp(stream.reference)} rows/s, cassandra-driver, 64 concurrent inserts | ${verdict(stream)} (≥ 0.5) |`,
    ...e2e.ours.map((x) => `| end to end, ${x.users.toLocaleString('en-US')} users | **${fmt(x.usersPerSec)}** users/s (${x.seconds} s, Cassandra ${x.counts.cassandra.toLocaleString('en-US')}) | seed design ${sp(e2e.seedDesign)} users/s (${s.seedUsers.toLocaleString('en-US')} users a round, to Kafka only) | ×${(x.usersPerSec / e2e.seedDesign.median).toFixed(1)} |`),
    ...e2e.ours.filter((x) => x.cpu).map((x) => `| ↳ CPU of the ${x.users.toLocaleString('en-US')}-user run | ${cpuLine(x.cpu!)} | — | where the time went |`),
    ...lat.rates.map((l) => `| latency at ${fmt(l.rate)} users/s${lat.airflow ? ', Airflow running' : ''} | p50 **${fmt(l.p50)} ms**, p99 **${fmt(l.p99)} ms** (max ${fmt(l.max)}; ${fmt(l.users)} users, ${fmt(l.achievedPerSec)} users/s landed). Landing → Kafka p50/p99 ${fmt(l.landingToKafka.p50)}/${fmt(l.landingToKafka.p99)} ms; Kafka → micro-batch start ${fmt(l.kafkaToStream.p50)}/${fmt(l.kafkaToStream.p99)} ms | — | ${l.rate === lat.targetRate ? `p99 ${l.p99 <= lat.targetP99Ms ? '✓' : '✗'} (≤ ${fmt(lat.targetP99Ms)} ms)` : 'report'} |`),
    ...mem.runs.map((x, i) => `| memory, ${x.users.toLocaleString('en-US')} users (fresh processes, ${x.seconds} s) | ingest peak **${fmt(x.ingest.peakMb)} MB** (at 25/50/75/100 % of the run: ${fmt(x.ingest.at25pct)}/${fmt(x.ingest.at50pct)}/${fmt(x.ingest.at75pct)}/${fmt(x.ingest.atEnd)}); relay peak **${fmt(x.relay.peakMb)} MB** (${fmt(x.relay.at25pct)}/${fmt(x.relay.at50pct)}/${fmt(x.relay.at75pct)}/${fmt(x.relay.atEnd)}) | — | ${i === 0 ? 'baseline' : memoryVerdict(mem.runs[0], x)} |`),
    `| synth | ${synth.skipped ? `not measured (${synth.skipped})` : synth.ok ? `**${synth.seconds!.median} s** (${synth.seconds!.min}–${synth.seconds!.max}), \`npm run synth\`, both stacks` : `failed: ${synth.detail ?? ''}`} | — | report |`,
    '',
    `Seed design extrapolated to 1,000,000 users: ${fmt(e2e.seedDesign.extrapolatedSecondsFor1M)} s (measured on ${s.seedUsers.toLocaleString('en-US')} users a round, not run for 1,000,000).`,
  ];
  return lines.join('\n');
}

function writeDocsTable(table: string): void {
  const doc = path.join(REPO, 'docs', 'BENCHMARKS.md');
  const begin = '<!-- bench:results:begin (written by npm run bench) -->';
  const end = '<!-- bench:results:end -->';
  const text = fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : `# Benchmarks\n\n${begin}\n${end}\n`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${doc} lacks the markers ${begin} … ${end}`);
  fs.writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${table}\n${text.slice(b)}`);
}

if (require.main === module) {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
  });
  // Ctrl-C: stop the bench's own Spark job and source before leaving.
  process.once('SIGINT', () => {
    const ctx = createContext({ log: () => undefined });
    void Promise.allSettled([stopUsersStream(ctx, STREAM_INSTANCE, 5000), stopBenchSource()]).then(() => process.exit(130));
  });
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`bench: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
}

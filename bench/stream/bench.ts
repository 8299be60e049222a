/**
 * The stream stage's decoders side by side, with the cassandra-driver writer as the reference in
 * the same run (docs/BENCHMARKS.md, "The stream stage's decoders").
 *
 *   npm run bench:stream                              every decoder, 3 rounds of 100,000 users
 *   npm run bench:stream -- --users 20000 --rounds 1  smaller
 *   npm run bench:stream -- --variant jvm --variant 'jvm CASSANDRA_CONCURRENT_WRITES=5'
 *
 * A variant is a decoder (jvm, arrow, rowwise: spark-apps/users_decode.py) and, optionally, job
 * settings as the job's environment variables (docs/SPARK_AIRFLOW.md). In every round each
 * variant runs on a topic of its own holding the same users: its job (spark-apps/users_stream.py,
 * submitted as the pipeline submits it) is started, warmed up on 5,000 records, then the users are
 * produced and the job is timed from the start of its first micro-batch to the commit of the one
 * that reached the topic's end; then the driver writer writes the same rows. Writes
 * bench/results/stream.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Kafka } from 'kafkajs';
import { CASSANDRA_KEYSPACE } from '../../config/facts';
import { connect, Connections } from '../../scripts/local/measure';
import { ensureServices } from '../../scripts/local/pipeline';
import { pipelinePartitions, scratchTopics } from '../../scripts/local/scratch';
import { startUsersStream, stopUsersStream, usersStreamCheckpoint, usersStreamFiles } from '../../scripts/local/users-stream';
import { cassandra } from '../../scripts/services/cassandra';
import { LocalEndpoints } from '../../scripts/services/endpoints';
import { createContext } from '../../scripts/services/lifecycle';
import { readPid } from '../../scripts/services/process';
import { ServiceContext } from '../../scripts/services/service';
import { spark } from '../../scripts/services/spark';
import { normalizeUser } from '../../workloads/ingest/normalize';
import { LandedUser, UserEncoder, valueSubject } from '../../workloads/relay/avro';
import { registerUserSchema, SchemaRegistry } from '../../workloads/relay/registry';
import { userSchemaText } from '../../workloads/relay/schema';
import { connectProducer, KeyedMessage } from '../../workloads/shared/kafka';
import { setQuiet } from '../../workloads/shared/log';
import { generateUser } from '../../workloads/source/generate';
import { spread, Spread } from '../bench';
import { treeCpuSeconds } from '../cpu/proc';
import { driverRound, driverValues, freshUsersTable, streamRound, waitCommitted } from './measure';

export interface Variant {
  /** As given on the command line: the decoder, then settings. */
  readonly label: string;
  readonly decoder: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface StreamBenchSettings {
  readonly users: number;
  readonly rounds: number;
  readonly variants: readonly Variant[];
}

export const DECODERS = ['jvm', 'arrow', 'rowwise'] as const;

/** `jvm`, `jvm MAX_OFFSETS_PER_TRIGGER=20000 CASSANDRA_CONCURRENT_WRITES=5`. */
export function parseVariant(text: string): Variant {
  const [decoder, ...settings] = text.trim().split(/\s+/);
  if (!(DECODERS as readonly string[]).includes(decoder)) {
    throw new Error(`variant ${JSON.stringify(text)}: the decoder must be one of ${DECODERS.join(', ')}`);
  }
  const env: Record<string, string> = {};
  for (const s of settings) {
    const m = /^([A-Z][A-Z0-9_]*)=(.+)$/.exec(s);
    if (!m) throw new Error(`variant ${JSON.stringify(text)}: ${JSON.stringify(s)} is not NAME=value (a job setting, docs/SPARK_AIRFLOW.md)`);
    env[m[1]] = m[2];
  }
  return { label: text.trim().replace(/\s+/g, ' '), decoder, env: { ...env, STREAM_DECODER: decoder } };
}

export function parseStreamBenchArgs(argv: readonly string[]): StreamBenchSettings {
  let users = 100_000;
  let rounds = 3;
  const variants: Variant[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const count = () => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${JSON.stringify(v)}`);
      return n;
    };
    if (flag === '--users') users = count();
    else if (flag === '--rounds') rounds = count();
    else if (flag === '--variant') variants.push(parseVariant(value()));
    else throw new Error(`unknown option ${JSON.stringify(argv[i])} (expected --users N, --rounds N, --variant 'DECODER [NAME=value ...]')`);
  }
  return { users, rounds, variants: variants.length > 0 ? variants : DECODERS.map((d) => parseVariant(d)) };
}

const say = (m: string) => process.stderr.write(`[bench:stream ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

const RUN_TAG = Date.now().toString(36);
const TOPIC_PREFIX = 'rtds_bench_decoders_';
const STREAM_TABLE = `${CASSANDRA_KEYSPACE}.bench_decoders_users`;
const DRIVER_TABLE = `${CASSANDRA_KEYSPACE}.bench_decoders_driver`;
const INSTANCE = 'bench-stream-decoders';
const WARM_UP_USERS = 5000;

interface Users {
  readonly messages: KeyedMessage[];
  readonly driverRows: unknown[][];
}

/** `n` users as the pipeline relays them (bundled source → ingest's normalizer → the relay's Avro), from seq `firstSeq`. */
function makeUsers(n: number, schemaId: number, seed: string, firstSeq: number): Users {
  const encoder = new UserEncoder(schemaId, userSchemaText());
  const now = Date.now();
  const ingestedAt = new Date(now);
  const messages: KeyedMessage[] = [];
  const driverRows: unknown[][] = [];
  for (let i = 0; i < n; i++) {
    const normalized = normalizeUser(generateUser(seed, 1 + Math.floor(i / 5000), i % 5000, [], undefined, now), ingestedAt);
    if (!normalized.ok) throw new Error(`the bundled source made a user ingest refuses: ${normalized.error}`);
    const user: LandedUser = { ...normalized.value.record, seq: firstSeq + i };
    messages.push({ key: user.id, value: encoder.encode(user) });
    driverRows.push(driverValues({ ...user, dob: new Date(user.dob), registered_date: new Date(user.registered_date), ingested_at: new Date(user.ingested_at) }));
  }
  return { messages, driverRows };
}

async function produce(e: LocalEndpoints, topic: string, messages: readonly KeyedMessage[]): Promise<void> {
  const producer = await connectProducer({ bootstrapServers: e.kafka.bootstrapServers.split(','), clientId: 'rtds-bench-stream' });
  try {
    for (let i = 0; i < messages.length; i += 2000) await producer.send(topic, messages.slice(i, i + 2000));
  } finally {
    await producer.close();
  }
}

async function deleteOurTopics(kafka: Kafka, all: boolean): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(TOPIC_PREFIX) && (all || t.includes(RUN_TAG)));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
  } finally {
    await admin.disconnect();
  }
}

interface CpuPerUser {
  /** CPU µs per user of the writer: the Spark job (driver, executors, Python workers, worker) or the bench's Node process. */
  readonly writer: number;
  /** CPU µs per user of the Cassandra process over the same time. */
  readonly cassandra: number;
}

function pidOf(file: string, what: string): number {
  const pid = readPid(file);
  if (pid === undefined) throw new Error(`${what} is not running (no pid in ${file})`);
  return pid;
}

/** The writer's and Cassandra's CPU µs per user over `work`. */
async function cpuOver<T>(ctx: ServiceContext, writer: () => number, users: number, work: () => Promise<T>): Promise<[T, CpuPerUser]> {
  const cassandraPid = pidOf(cassandra.pidFile(ctx), 'Cassandra');
  const w0 = writer();
  const c0 = treeCpuSeconds([cassandraPid]);
  const result = await work();
  const per = (s: number) => Math.round((s / users) * 1e6 * 10) / 10;
  return [result, { writer: per(writer() - w0), cassandra: per(treeCpuSeconds([cassandraPid]) - c0) }];
}

/** One variant's round: start its job, warm it up, then time it on the users. */
async function variantRound(ctx: ServiceContext, e: LocalEndpoints, conn: Connections, v: Variant, round: number, index: number, warmUp: Users, users: Users): Promise<{ usersPerSec: number; batches: number; cpu: CpuPerUser }> {
  const topic = `${TOPIC_PREFIX}${RUN_TAG}_${round}_${index}`;
  const dlq = `${topic}_dlq`;
  // The pipeline's partitions, as on its own topics.
  await scratchTopics(conn.kafka, [topic, dlq].map((t) => ({ topic: t, partitions: pipelinePartitions() })));
  // The relay registers the schema under the topic's value subject: the job finds its id there.
  await registerUserSchema(new SchemaRegistry(e.schemaRegistry.url), valueSubject(topic), userSchemaText());
  const checkpoint = usersStreamCheckpoint(ctx, INSTANCE);
  fs.rmSync(checkpoint, { recursive: true, force: true });
  const logFile = usersStreamFiles(ctx, INSTANCE).logFile;
  await conn.cassandra.execute(`TRUNCATE ${STREAM_TABLE}`, [], { readTimeout: 120_000 });
  startUsersStream(ctx, e, {
    instance: INSTANCE, topic, deadLetterTopic: dlq, checkpointDir: checkpoint, cores: 2,
    env: { CASSANDRA_TABLE: STREAM_TABLE.split('.')[1], STARTING_OFFSETS: 'earliest', ...v.env },
  });
  try {
    // Warm-up: the job's first micro-batch pays for the JVM's and Python's start.
    await produce(e, topic, warmUp.messages);
    await waitCommitted(conn, { checkpoint, topic, timeoutMs: 600_000, logFile });
    await conn.cassandra.execute(`TRUNCATE ${STREAM_TABLE}`, [], { readTimeout: 120_000 });
    const job = [pidOf(usersStreamFiles(ctx, INSTANCE).pidFile, 'the bench Spark job'), pidOf(spark.workerPidFile(ctx), 'the Spark worker')];
    const [st, cpu] = await cpuOver(ctx, () => treeCpuSeconds(job), users.messages.length, async () => {
      await produce(e, topic, users.messages);
      return streamRound(conn, { checkpoint, topic, table: STREAM_TABLE, expected: users.messages.length, timeoutMs: Math.max(300_000, users.messages.length * 20), logFile });
    });
    return { ...st, cpu };
  } finally {
    await stopUsersStream(ctx, INSTANCE);
    await fetch(`${e.schemaRegistry.url}/subjects/${valueSubject(topic)}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const settings = parseStreamBenchArgs(process.argv.slice(2));
  setQuiet(true);
  const started = Date.now();
  const e = await ensureServices({ log: say });
  const ctx = createContext({ log: say });
  const conn = await connect(e);
  const result: Record<string, unknown> = { at: new Date().toISOString(), settings };
  try {
    await deleteOurTopics(conn.kafka, true);
    await freshUsersTable(conn, STREAM_TABLE);
    await freshUsersTable(conn, DRIVER_TABLE);
    // Every variant gets the same users; the schema id is the one the registry gives their subject.
    const schemaId = await registerUserSchema(new SchemaRegistry(e.schemaRegistry.url), valueSubject(`${TOPIC_PREFIX}${RUN_TAG}`), userSchemaText());
    const warmUp = makeUsers(WARM_UP_USERS, schemaId, `bench-stream-warm-${RUN_TAG}`, 1);
    const users = makeUsers(settings.users, schemaId, `bench-stream-${RUN_TAG}`, WARM_UP_USERS + 1);
    say(`${settings.rounds} rounds of ${settings.users} users; variants: ${settings.variants.map((v) => v.label).join(' | ')}`);
    const ours: number[][] = settings.variants.map(() => []);
    const oursCpu: CpuPerUser[][] = settings.variants.map(() => []);
    const driver: number[] = [];
    const driverCpu: CpuPerUser[] = [];
    const nodeCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
    for (let r = 1; r <= settings.rounds; r++) {
      // Each round starts with a different variant, so none always runs on the freshest machine.
      for (let k = 0; k < settings.variants.length; k++) {
        const i = (k + r - 1) % settings.variants.length;
        const v = settings.variants[i];
        const st = await variantRound(ctx, e, conn, v, r, i, warmUp, users);
        ours[i].push(st.usersPerSec);
        oursCpu[i].push(st.cpu);
        const [dr, dc] = await cpuOver(ctx, nodeCpu, users.driverRows.length, () => driverRound(conn, DRIVER_TABLE, users.driverRows));
        driver.push(dr);
        driverCpu.push(dc);
        say(`round ${r}: ${v.label}: ${Math.round(st.usersPerSec)} users/s over ${st.batches} micro-batches (CPU µs/user: job ${st.cpu.writer}, Cassandra ${st.cpu.cassandra}); ` +
          `driver writer ${Math.round(dr)} rows/s (Node ${dc.writer}, Cassandra ${dc.cassandra}); ratio ${(st.usersPerSec / dr).toFixed(2)}`);
      }
    }
    const reference = spread(driver);
    const cpuSpread = (list: CpuPerUser[]) => ({ writer: spread(list.map((c) => c.writer)), cassandra: spread(list.map((c) => c.cassandra)) });
    const rows = settings.variants.map((v, i) => ({
      variant: v.label, ours: spread(ours[i]), ratio: Math.round((spread(ours[i]).median / reference.median) * 100) / 100, cpuMicrosPerUser: cpuSpread(oursCpu[i]),
    }));
    const ref = { ...reference, cpuMicrosPerUser: cpuSpread(driverCpu) };
    result.reference = ref;
    result.variants = rows;
    result.wallSeconds = Math.round((Date.now() - started) / 1000);
    process.stdout.write(`${table(rows, ref, settings)}\n`);
  } finally {
    await stopUsersStream(ctx, INSTANCE).catch(() => undefined);
    await deleteOurTopics(conn.kafka, false).catch(() => undefined);
    await fetch(`${e.schemaRegistry.url}/subjects/${valueSubject(`${TOPIC_PREFIX}${RUN_TAG}`)}`, { method: 'DELETE' }).catch(() => undefined);
    for (const t of [STREAM_TABLE, DRIVER_TABLE]) await conn.cassandra.execute(`DROP TABLE IF EXISTS ${t}`, [], { readTimeout: 120_000 }).catch(() => undefined);
    fs.rmSync(usersStreamCheckpoint(ctx, INSTANCE), { recursive: true, force: true });
    await conn.close();
  }
  const out = path.join(__dirname, '..', 'results', 'stream.json');
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  say(`written: bench/results/stream.json in ${result.wallSeconds as number} s`);
}

type CpuSpread = { writer: Spread; cassandra: Spread };

function table(rows: { variant: string; ours: Spread; ratio: number; cpuMicrosPerUser: CpuSpread }[], reference: Spread & { cpuMicrosPerUser: CpuSpread }, s: StreamBenchSettings): string {
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  const sp = (x: Spread) => `${f(x.median)} (${f(x.min)}–${f(x.max)})`;
  const cpu = (c: CpuSpread) => `${f(c.writer.median)} + ${f(c.cassandra.median)}`;
  return [
    `${s.rounds} rounds of ${s.users.toLocaleString('en-US')} users; median (min–max); the reference ran after every variant.`,
    'CPU µs per user: the writer (Spark job: driver, executor, Python workers; or the Node driver writer) + Cassandra.',
    '',
    '| variant | Spark job, users/s | driver writer, rows/s | ratio | CPU µs/user, job + Cassandra | driver writer + Cassandra |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${sp(r.ours)} | ${sp(reference)} | ${r.ratio} | ${cpu(r.cpuMicrosPerUser)} | ${cpu(reference.cpuMicrosPerUser)} |`),
  ].join('\n');
}

if (require.main === module) {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
  });
  process.once('SIGINT', () => {
    void stopUsersStream(createContext({ log: () => undefined }), INSTANCE, 5000).then(() => process.exit(130));
  });
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`bench:stream: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
}

// The whole pipeline on the real local services: source → ingest → PostgreSQL → relay → Kafka →
// Spark (users_stream.py on the local master/worker) → Cassandra, driven by `airflow dags test`.
// Everything here is the test's own (database, topics, table, checkpoint), so it runs beside
// a local pipeline without touching it.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as CassandraClient } from 'cassandra-driver';
import { cassandraClient as newCassandraClient } from '../../workloads/shared/cassandra';
import { LocalEndpoints } from '../../scripts/services/endpoints';
import { airflow } from '../../scripts/services/airflow';
import { createContext } from '../../scripts/services/lifecycle';
import { readPid } from '../../scripts/services/process';
import { startUsersStream, stopUsersStream, usersStreamFiles } from '../../scripts/local/users-stream';
import { ServiceContext } from '../../scripts/services/service';
import { migrateCassandra, KEYSPACE } from '../../workloads/migrate/cassandra';
import { startSource, RunningSource } from '../../workloads/source/server';
import { setQuiet } from '../../workloads/shared/log';
import {
  REPO, consumeAll, endpoints, exited, freshDatabase, freshTopic, kafka, spawnCli, suffix, TestDatabase, waitFor, workloadEnvFor,
} from '../integration/workloads/harness';
import { asRow, differences, Row } from '../shared/landed';

jest.setTimeout(900_000);

const USERS = 2_000;
const id = suffix();
const table = `created_users_e2e_${id}`;
const instance = `users-stream-e2e-${id}`;

let e: LocalEndpoints;
let ctx: ServiceContext;
let db: TestDatabase;
let topic: { name: string; remove(): Promise<void> };
let dlq: { name: string; remove(): Promise<void> };
let source: RunningSource;
let relay: ChildProcess & { output: () => string };
let ingest: ChildProcess & { output: () => string };
let ingestUrl: string;
let cql: CassandraClient;
let checkpointDir: string;

const cassandraClient = (): CassandraClient =>
  newCassandraClient(e.cassandra);

function startStream(): number {
  return startUsersStream(ctx, e, {
    instance,
    topic: topic.name,
    deadLetterTopic: dlq.name,
    checkpointDir,
    // Small batches, so a kill lands mid-stream.
    env: { CASSANDRA_TABLE: table, MAX_OFFSETS_PER_TRIGGER: '500' },
  });
}

const cassandraCount = async (): Promise<number> =>
  Number((await cql.execute(`SELECT count(*) FROM ${KEYSPACE}.${table}`, [], { readTimeout: 60_000 })).rows[0].get(0));
const landingCount = async (): Promise<number> => Number((await db.pool.query('SELECT count(*) AS n FROM landing_users')).rows[0].n);

async function cassandraCatchesUp(what: string, timeoutMs = 300_000): Promise<number> {
  return waitFor(what, async () => {
    const [landed, stored] = [await landingCount(), await cassandraCount()];
    return landed > 0 && landed === stored ? stored : undefined;
  }, timeoutMs, 2000);
}

/** `services:down|up --only <name>` in a child process, so the restarted server is not a child of jest. */
async function servicesCli(command: 'up' | 'down', name: string): Promise<void> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(REPO, 'scripts', 'services', 'cli.ts'), command, '--only', name], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await exited(child);
  if (code !== 0) throw new Error(`services ${command} --only ${name} exited with ${code}\n${output.slice(-2000)}`);
}

/** Asks the ingest service for a run; `finished` resolves once ingest has landed it (it answers 202 at once). */
async function ingestRun(users: number): Promise<{ id: string; finished: () => Promise<void> }> {
  const res = await fetch(`${ingestUrl}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ users }) });
  expect(res.status).toBe(202);
  const { id: runId } = (await res.json()) as { id: string };
  const finished = async () => {
    const state = await waitFor(`ingest run ${runId}`, async () => {
      const status = (await (await fetch(`${ingestUrl}/runs/${runId}`)).json()) as { state: string };
      return status.state === 'running' ? undefined : status.state;
    }, 300_000, 500);
    expect(state).toBe('succeeded');
  };
  return { id: runId, finished };
}

/** `airflow dags test user_pipeline` with this test's database, topic, table and ingest service. */
async function airflowDagsTest(users: number): Promise<{ code: number | null; output: string }> {
  const { command, env, cwd } = airflow.airflowCommand(ctx, {
    ...workloadEnvFor(db.cfg, topic.name, e),
    INGEST_URL: ingestUrl,
    PIPELINE_USERS_PER_RUN: String(users),
    PIPELINE_MAX_LAG_ROWS: '0',
    PIPELINE_SETTLE_SECONDS: '300',
    CASSANDRA_TABLE: table,
  });
  const child = spawn(command, ['dags', 'test', 'user_pipeline'], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await exited(child);
  return { code, output };
}

beforeAll(async () => {
  setQuiet(true);
  e = endpoints();
  ctx = createContext({ log: () => undefined });
  if (!e.spark || !e.airflow) throw new Error('the e2e tier needs Spark and Airflow in endpoints.json: run `npm run services:up`');
  db = await freshDatabase(e);
  // The same partitions as the pipeline's topics, the dead-letter topic included.
  topic = await freshTopic(e);
  dlq = await freshTopic(e);
  await migrateCassandra({ ...e.cassandra, contactPoints: e.cassandra.contactPoints });
  cql = cassandraClient();
  await cql.connect();
  const ddl = fs.readFileSync(path.join(REPO, 'workloads', 'migrations', 'cassandra', '001_created_users.cql'), 'utf8');
  await cql.execute(ddl.slice(ddl.indexOf('CREATE TABLE')).replace(`${KEYSPACE}.created_users`, `${KEYSPACE}.${table}`).trim().replace(/;$/, ''));
  checkpointDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-e2e-checkpoint-'));

  source = await startSource({ port: 0, host: '127.0.0.1', ratePerSecond: 1000 });
  const env = workloadEnvFor(db.cfg, topic.name, e);
  ingest = spawnCli(['ingest', 'serve'], { ...env, HTTP_PORT: '0', RANDOMUSER_URL: source.url });
  const port = await waitFor('the ingest control API', async () => {
    const m = /"msg":"control API listening","port":(\d+)/.exec(ingest.output());
    return m ? Number(m[1]) : undefined;
  });
  ingestUrl = `http://127.0.0.1:${port}`;
  relay = spawnCli(['relay'], { ...env, HTTP_PORT: '0' });
  startStream();
});

afterAll(async () => {
  if (ctx) await stopUsersStream(ctx, instance, 5_000);
  relay?.kill('SIGTERM');
  ingest?.kill('SIGTERM');
  if (relay) await exited(relay);
  if (ingest) await exited(ingest);
  await source?.close();
  await cql?.execute(`DROP TABLE IF EXISTS ${KEYSPACE}.${table}`).catch(() => undefined);
  await cql?.shutdown();
  await fetch(`${e.schemaRegistry.url}/subjects/${topic.name}-value`, { method: 'DELETE' }).catch(() => undefined);
  await topic?.remove();
  await dlq?.remove();
  await db?.drop();
  if (checkpointDir) fs.rmSync(checkpointDir, { recursive: true, force: true });
  setQuiet(false);
});

describe('the pipeline end to end (Spark and Airflow on the local services)', () => {
  test('airflow dags test user_pipeline runs N users through; Cassandra holds exactly those N ids, fields equal to the landed records', async () => {
    const dag = await airflowDagsTest(USERS);
    expect({ code: dag.code, tail: dag.code === 0 ? '' : dag.output.slice(-3000) }).toEqual({ code: 0, tail: '' });
    expect(dag.output).toMatch(/stages caught up/);

    const landed = (await db.pool.query('SELECT * FROM landing_users')).rows;
    expect(landed).toHaveLength(USERS);
    const stored = new Map<string, Row>();
    // A ResultSet is async-iterable: it pages through the whole table.
    for await (const row of await cql.execute(`SELECT * FROM ${KEYSPACE}.${table}`, [], { prepare: true, fetchSize: 1000 })) {
      stored.set(String(row.get('id')), asRow(row));
    }
    expect(stored.size).toBe(USERS);
    expect(differences(landed, stored).slice(0, 20)).toEqual([]);
  });

  test('a poison message written straight to the topic lands in the dead-letter topic with its reason; the stream goes on', async () => {
    const producer = kafka(e).producer();
    await producer.connect();
    await producer.send({ topic: topic.name, messages: [{ key: 'poison', value: Buffer.from('{"not": "avro"}') }] });
    await producer.disconnect();
    const letters = await consumeAll(dlq.name, 1, 180_000, e);
    expect(letters).toHaveLength(1);
    const letter = JSON.parse(letters[0].value.toString());
    expect(letter).toMatchObject({ topic: topic.name, reason: expect.stringMatching(/magic byte is 123/) });
    expect(Buffer.from(letter.value_base64, 'base64').toString()).toBe('{"not": "avro"}');

    const before = await cassandraCount();
    await (await ingestRun(300)).finished();
    expect(await cassandraCatchesUp('the stream to go on after the poison message')).toBe(before + 300);
  });

  test('the Spark driver killed mid-stream and restarted from its checkpoint: still exactly N rows', async () => {
    const before = await cassandraCount();
    const run = await ingestRun(5_000);
    await waitFor('the stream to be part-way', async () => {
      const n = await cassandraCount();
      return n > before + 500 ? n : undefined;
    }, 300_000, 500);
    const pid = readPid(usersStreamFiles(ctx, instance).pidFile)!;
    process.kill(-pid, 'SIGKILL');
    await waitFor('the driver to die', async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    const partWay = await cassandraCount();
    startStream();
    await run.finished();
    const total = await cassandraCatchesUp('the restarted stream to catch up');
    expect(total).toBe(before + 5_000);
    expect(partWay).toBeLessThanOrEqual(total);
  });

  test('Cassandra restarted during the stream: the job recovers and still ends with exactly N', async () => {
    const before = await cassandraCount();
    const landedBefore = await landingCount();
    await servicesCli('down', 'cassandra');
    // Users arrive while Cassandra is away, so the stream's writes must fail and be retried.
    await (await ingestRun(3_000)).finished();
    expect(await landingCount()).toBe(landedBefore + 3_000);
    await new Promise((r) => setTimeout(r, 15_000));
    await servicesCli('up', 'cassandra');
    await cql.shutdown();
    cql = cassandraClient();
    await cql.connect();
    const total = await cassandraCatchesUp('the stream to recover after the Cassandra restart', 600_000);
    expect(total).toBe(before + 3_000);
    const log = fs.readFileSync(usersStreamFiles(ctx, instance).logFile, 'utf8');
    expect(log).toMatch(/restart \d+ from the checkpoint/);
  });
});

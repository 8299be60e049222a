// How `npm run local` and the bench tell that a run has reached Cassandra: the relay's cursor in a
// real PostgreSQL, the end offsets of a real Kafka topic, and a checkpoint laid out as Spark writes it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitForStream } from '../../../scripts/local/checkpoint';
import { connect, Connections, partitionEndOffsets } from '../../../scripts/local/measure';
import { writeCheckpointBatch } from '../../shared/checkpoint';
import { endpoints, freshDatabase, freshTopic, kafka, TestDatabase } from '../workloads/harness';

jest.setTimeout(120_000);

describe('waitForStream: the run is done when the job commits past the offsets Kafka held once the relay acknowledged it', () => {
  let db: TestDatabase;
  let topic: { name: string; remove(): Promise<void> };
  let conn: Connections;
  let dir: string;
  let end: Record<string, number>;
  const quiet = () => undefined;

  beforeAll(async () => {
    db = await freshDatabase();
    topic = await freshTopic(endpoints(), 3);
    conn = await connect(endpoints(), db.cfg.database);
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: topic.name, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    end = await partitionEndOffsets(conn.kafka, topic.name);
  });
  afterAll(async () => {
    await conn?.close();
    await topic?.remove();
    await db?.drop();
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-wait-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cursorAt = (seq: number) =>
    db.pool.query('INSERT INTO relay_cursor (name, last_seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET last_seq = $2', [topic.name, seq]);
  const short = { stallSeconds: 2, log: quiet };

  it('answers the commit of the first batch that reaches every partition\'s end', async () => {
    await cursorAt(100);
    const partial = Object.fromEntries(Object.entries(end).map(([p, high]) => [p, p === '0' ? high - 1 : high]));
    writeCheckpointBatch(dir, topic.name, 0, partial, true);
    writeCheckpointBatch(dir, topic.name, 1, end, false);
    const waiting = waitForStream(conn, { checkpoint: dir, topic: topic.name, lastSeq: 100, ...short, stallSeconds: 30 });
    await new Promise((r) => setTimeout(r, 1000));
    writeCheckpointBatch(dir, topic.name, 1, end, true);
    const done = await waiting;
    expect(done).toEqual({ batch: 1, at: fs.statSync(path.join(dir, 'commits', '1')).mtimeMs });
  });

  it('names the relay when its cursor stays below the run\'s last seq', async () => {
    await cursorAt(99);
    writeCheckpointBatch(dir, topic.name, 0, end, true);
    await expect(waitForStream(conn, { checkpoint: dir, topic: topic.name, lastSeq: 100, ...short })).rejects.toThrow(/relay stage stuck: its cursor stayed at seq 99 \(the run ends at 100\)/);
  });

  it('names the stream when Kafka holds the run and no batch commits past it', async () => {
    await cursorAt(100);
    writeCheckpointBatch(dir, topic.name, 3, {}, true);
    await expect(waitForStream(conn, { checkpoint: dir, topic: topic.name, lastSeq: 100, ...short })).rejects.toThrow(/stream stage stuck: Kafka holds the run but the Spark job committed no batch for \d+ s \(last 3/);
  });

  it('stops at once when the Spark driver has exited', async () => {
    await cursorAt(100);
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    // With the default stall of 300 s, only the driver's exit ends this within the test's 30 s.
    await expect(waitForStream(conn, { checkpoint: dir, topic: topic.name, lastSeq: 100, streamPid: gone, log: quiet })).rejects.toThrow(`stream stage stuck: the Spark job (pid ${gone}) exited at batch -1`);
  }, 30_000);
});

// The latency round of the bench: a steady rate of users into the running pipeline, then per user
// landing (ingested_at) → Kafka (the relay's send, the record's timestamp) → Spark micro-batch
// start (processed_at in Cassandra). The split says which stage a p99 belongs to.
import { Pool } from 'pg';
import { CassandraTracker, Connections, localTopics, partitionEndOffsets, percentile, runRows, waitForCassandra } from '../../scripts/local/measure';
import { sourceUrl } from '../../scripts/local/pipeline';
import { LocalEndpoints } from '../../scripts/services/endpoints';
import { sleep } from '../../scripts/services/process';
import { runIngest } from '../../workloads/ingest/run';

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LatencyResult extends Percentiles {
  /** Users per second asked for. */
  readonly rate: number;
  readonly users: number;
  readonly achievedPerSec: number;
  /** ingested_at → the relay's send to Kafka (the record's CreateTime): ingest's commit and the relay. */
  readonly landingToKafka: Percentiles;
  /** Kafka → the start of the Spark micro-batch that wrote the row: the stream stage. */
  readonly kafkaToStream: Percentiles;
}

const TICK_MS = 200;

function percentiles(values: number[]): Percentiles {
  const sorted = values.sort((a, b) => a - b);
  return { p50: Math.round(percentile(sorted, 50)), p99: Math.round(percentile(sorted, 99)), max: Math.round(sorted[sorted.length - 1] ?? NaN) };
}

/** Kafka record timestamps (ms) by key, from `from` to the topic's current end. */
async function kafkaTimestamps(conn: Connections, from: Record<string, number>): Promise<Map<string, number>> {
  const topic = localTopics().users;
  const end = await partitionEndOffsets(conn.kafka, topic);
  const out = new Map<string, number>();
  const left = new Set(Object.keys(end).filter((p) => end[p] > (from[p] ?? 0)));
  if (left.size === 0) return out;
  const consumer = conn.kafka.consumer({ groupId: `rtds-bench-latency-${Date.now()}`, maxBytes: 16 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (Number(m.offset) < end[String(batch.partition)]) out.set(m.key!.toString(), Number(m.timestamp));
        }
        if (Number(batch.lastOffset()) + 1 >= end[String(batch.partition)]) left.delete(String(batch.partition));
        if (left.size === 0) resolve();
      },
    });
  });
  for (const [p, offset] of Object.entries(from)) consumer.seek({ topic, partition: Number(p), offset: String(offset) });
  await done;
  await consumer.disconnect();
  return out;
}

/** Lands `rate` users per second (one ingest run every 200 ms) for `seconds`, then follows them to Cassandra. */
export async function latencyRun(e: LocalEndpoints, conn: Connections, seconds: number, rate: number, streamPid: number | undefined, say: (m: string) => void): Promise<LatencyResult> {
  const pool = new Pool({ host: e.postgres.host, port: e.postgres.port, user: e.postgres.user, password: e.postgres.password, database: e.postgres.database, max: 4 });
  const perTick = Math.round((rate * TICK_MS) / 1000);
  const from = await partitionEndOffsets(conn.kafka, localTopics().users);
  // Every read of the round's rows stays within the seq index's range from here (see runRows).
  const afterSeq = Number((await conn.pg.query<{ max: string }>('SELECT coalesce(max(seq), 0) AS max FROM landing_users')).rows[0].max);
  const runIds: string[] = [];
  const t0 = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let k = 0; Date.now() - t0 < seconds * 1000; k++) {
    const due = t0 + k * TICK_MS;
    if (due > Date.now()) await sleep(due - Date.now());
    pending.push(runIngest({ pool, sourceUrl: sourceUrl(), users: perTick, batchSize: perTick, seed: `latency-${t0}-${k}` }).then((s) => {
      if (s.state !== 'succeeded') throw new Error(`latency run: ingest ${s.state}: ${s.error ?? ''}`);
      runIds.push(s.id);
    }));
  }
  await Promise.all(pending);
  const landedSecs = (Date.now() - t0) / 1000;
  await pool.end();
  // One read for all the round's runs, in landing order.
  const sorted = await runRows(conn.pg, runIds, afterSeq);
  const tracker = new CassandraTracker(conn.cassandra, sorted);
  await waitForCassandra(conn, tracker, runIds, { streamPid, stallSeconds: 180, log: say, t0, afterSeq });
  const all = tracker.latenciesMs();
  const sent = await kafkaTimestamps(conn, from);
  const toKafka: number[] = [];
  const toStream: number[] = [];
  sorted.ids.forEach((id, i) => {
    const at = sent.get(id);
    if (at === undefined) return;
    toKafka.push(at - sorted.ingestedAtMs[i]);
    const p = tracker.processedAtMs(i);
    if (!Number.isNaN(p)) toStream.push(p - at);
  });
  return {
    rate,
    ...percentiles(all),
    users: tracker.total,
    achievedPerSec: Math.round(tracker.total / landedSecs),
    landingToKafka: percentiles(toKafka),
    kafkaToStream: percentiles(toStream),
  };
}

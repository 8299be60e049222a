/**
 * The stream pair's two sides, shared by the full bench (bench/bench.ts) and the decoder
 * comparison (bench/stream/bench.ts): how fast the Spark job wrote a topic into a table, read
 * from its checkpoint, and how fast cassandra-driver writes the same rows.
 */
import { concurrent as cassandraConcurrent } from 'cassandra-driver';
import { CASSANDRA_KEYSPACE, CASSANDRA_TABLE } from '../../config/facts';
import { Commit, committedThrough } from '../../scripts/local/checkpoint';
import { Connections, partitionEndOffsets, USERS_TABLE } from '../../scripts/local/measure';
import { sleep } from '../../scripts/services/process';
import { UserRecord } from '../../workloads/shared/user';

export interface StreamRoundOptions {
  readonly checkpoint: string;
  readonly topic: string;
  /** `keyspace.table` the job writes. */
  readonly table: string;
  /** Rows the table must hold at the end. */
  readonly expected: number;
  readonly timeoutMs: number;
  /** Named in the error when the job does not get there. */
  readonly logFile: string;
}

/** Waits until the job has committed the topic up to its current end. */
export async function waitCommitted(conn: Connections, o: Pick<StreamRoundOptions, 'checkpoint' | 'topic' | 'timeoutMs' | 'logFile'>): Promise<Commit> {
  const deadline = Date.now() + o.timeoutMs;
  const end = await partitionEndOffsets(conn.kafka, o.topic);
  let done: Commit | undefined;
  while (!(done = committedThrough(o.checkpoint, o.topic, end))) {
    if (Date.now() > deadline) throw new Error(`the Spark job did not reach the end of ${o.topic} (${JSON.stringify(end)}) in ${o.timeoutMs / 1000} s; see ${o.logFile}`);
    await sleep(100);
  }
  return done;
}

/**
 * Users/s of the Spark job over one round: the round's rows over the time from the start of its
 * first micro-batch (the rows' processed_at) to the commit of the batch that reached the topic's
 * end (polled every 0.1 s in the checkpoint). The rows are counted in Cassandra once, at the end.
 */
export async function streamRound(conn: Connections, o: StreamRoundOptions): Promise<{ usersPerSec: number; batches: number }> {
  const done = await waitCommitted(conn, o);
  const batches = new Set<number>();
  let first = Infinity;
  let rows = 0;
  for await (const row of conn.cassandra.stream(`SELECT processed_at FROM ${o.table}`, [], { fetchSize: 5000, readTimeout: 120_000 }) as unknown as AsyncIterable<{ processed_at: Date }>) {
    const t = row.processed_at.getTime();
    rows++;
    batches.add(t);
    if (t < first) first = t;
  }
  if (rows !== o.expected) throw new Error(`stream round: the job committed through the end of ${o.topic} but ${o.table} holds ${rows} rows, expected ${o.expected}`);
  return { usersPerSec: o.expected / ((done.at - first) / 1000), batches: batches.size };
}

/** A landed user with its instants as dates: what the driver reference inserts, as the job would. */
export type WrittenUser = Omit<UserRecord, 'dob' | 'registered_date' | 'ingested_at'> & {
  readonly dob: Date;
  readonly registered_date: Date;
  readonly ingested_at: Date;
  readonly seq: number;
};

const DRIVER_COLUMNS = 'id, first_name, last_name, gender, address, post_code, email, username, dob, age, registered_date, phone, picture, nat, ingested_at, landing_seq, kafka_partition, kafka_offset, processed_at';

/** The same 19 columns the Spark job writes, age derived as the job does (whole years dob → ingested_at, UTC). */
export function driverValues(u: WrittenUser): unknown[] {
  const dob = u.dob;
  const at = u.ingested_at;
  let age = at.getUTCFullYear() - dob.getUTCFullYear();
  if (at.getUTCMonth() < dob.getUTCMonth() || (at.getUTCMonth() === dob.getUTCMonth() && at.getUTCDate() < dob.getUTCDate())) age--;
  return [u.id, u.first_name, u.last_name, u.gender, u.address, u.post_code, u.email, u.username, dob, age, u.registered_date, u.phone, u.picture, u.nat, at, u.seq, 0, u.seq, new Date()];
}

/** The reference: cassandra-driver, prepared INSERT of the rows into `table` (truncated first), 64 in flight. */
export async function driverRound(conn: Connections, table: string, rows: readonly unknown[][]): Promise<number> {
  await conn.cassandra.execute(`TRUNCATE ${table}`, [], { readTimeout: 120_000 });
  const cql = `INSERT INTO ${table} (${DRIVER_COLUMNS}) VALUES (${DRIVER_COLUMNS.split(',').map(() => '?').join(',')})`;
  const t0 = performance.now();
  await cassandraConcurrent.executeConcurrent(conn.cassandra, cql, rows as unknown[][], { concurrencyLevel: 64, executionProfile: undefined } as never);
  return rows.length / ((performance.now() - t0) / 1000);
}

/** A table with the shape of the job's table (read from system_schema), dropped and created afresh. */
export async function freshUsersTable(conn: Connections, table: string): Promise<void> {
  const shape = (await conn.cassandra.execute(
    `SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?`, [CASSANDRA_KEYSPACE, CASSANDRA_TABLE],
  )).rows.map((r) => `${r.column_name as string} ${r.type as string}${r.column_name === 'id' ? ' PRIMARY KEY' : ''}`);
  if (shape.length === 0) throw new Error(`${USERS_TABLE} does not exist: the Cassandra migration did not run`);
  await conn.cassandra.execute(`DROP TABLE IF EXISTS ${table}`, [], { readTimeout: 120_000 });
  await conn.cassandra.execute(`CREATE TABLE ${table} (${shape.join(', ')})`, [], { readTimeout: 120_000 });
}

import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { USER_COLUMNS } from '../shared/user';
import { Rejected, SourcePosition } from './normalize';

/** Serializes landing writers so that `seq` order is commit order, which the relay's cursor relies on. */
export const LANDING_WRITE_LOCK = 7_252_001;

/** What COPY writes: the record, then where it came from. */
const LANDING_COPY_COLUMNS = [...USER_COLUMNS, 'run_id', 'source_seed', 'source_page'].join(', ');

const COPY_USERS = `COPY landing_users (${LANDING_COPY_COLUMNS}) FROM STDIN`;

// A re-run's page: staged in a temporary table (no WAL, gone at commit), then added id by id.
const CREATE_STAGE = `CREATE TEMPORARY TABLE landing_stage ON COMMIT DROP AS SELECT ${LANDING_COPY_COLUMNS} FROM landing_users WITH NO DATA`;
const COPY_STAGE = `COPY landing_stage (${LANDING_COPY_COLUMNS}) FROM STDIN`;
const INSERT_FROM_STAGE = `INSERT INTO landing_users (${LANDING_COPY_COLUMNS}) SELECT ${LANDING_COPY_COLUMNS} FROM landing_stage ON CONFLICT (id) DO NOTHING`;

const UNIQUE_VIOLATION = '23505';

const INSERT_QUARANTINE = `
INSERT INTO landing_quarantine (reason, payload, source_seed, source_page, page_size, source_index, run_id)
SELECT r.reason, r.payload, $4, $5, $6, r.idx, $7
FROM unnest($1::text[], $2::jsonb[], $3::int[]) AS r(reason, payload, idx)
ON CONFLICT (source_seed, source_page, page_size, source_index) DO NOTHING`;

/** A page's valid users as COPY text rows (copyRows: the record's columns, run id, seed, page). */
export interface LandingRows {
  readonly count: number;
  readonly rows: Buffer;
}

/** No users: a page that failed, whose only row is its quarantine entry. */
export const NO_ROWS: LandingRows = { count: 0, rows: Buffer.alloc(0) };

export interface BatchOutcome {
  /** New rows in landing_users. */
  readonly inserted: number;
  /** Rows that were already there (a re-run of the same seed and page). */
  readonly alreadyLanded: number;
  readonly quarantined: number;
}

/** jsonb cannot hold U+0000; keep it visible as text instead of failing the batch. */
export function jsonbText(payload: unknown): string {
  const text = JSON.stringify(payload === undefined ? null : payload);
  return text.replace(/\\u0000/g, '\\\\u0000');
}

/** Rows of COPY text into `sql`'s table; resolves with the rows PostgreSQL took. */
async function copyIn(client: PoolClient, sql: string, rows: Buffer): Promise<number> {
  const stream = client.query(copyFrom(sql));
  await pipeline(Readable.from([rows]), stream);
  return stream.rowCount;
}

/**
 * The page's users into landing_users, each id at most once (from savepoint land_copy, which the
 * caller set). A new page is COPYed straight in;
 * if any id is already there (a re-run), COPY fails as a whole and the page goes through a
 * staging table and `INSERT … ON CONFLICT (id) DO NOTHING` instead. Returns the rows added.
 */
async function insertUsers(client: PoolClient, rows: Buffer): Promise<number> {
  try {
    return await copyIn(client, COPY_USERS, rows);
  } catch (e) {
    if ((e as { code?: string }).code !== UNIQUE_VIOLATION) throw e;
    await client.query('ROLLBACK TO SAVEPOINT land_copy');
  }
  await client.query(CREATE_STAGE);
  await copyIn(client, COPY_STAGE, rows);
  return (await client.query(INSERT_FROM_STAGE)).rowCount ?? 0;
}

/**
 * Lands one page in a single transaction: users (idempotent on id) and its rejects. Either
 * all of it is committed or none of it, so a crash or a database restart leaves no half page.
 * The users come as COPY text (prepare.ts), made while the page before was written.
 */
export async function landBatch(pool: Pool, users: LandingRows, rejected: readonly Rejected[], pos: SourcePosition, runId: string): Promise<BatchOutcome> {
  const client: PoolClient = await pool.connect();
  let broken = false;
  // A connection lost mid-page (database restart) fails the statement in flight, which retries
  // the page; the client's own error event must not also end the process.
  const lost = () => (broken = true);
  client.on('error', lost);
  try {
    // One round trip: the transaction, the lock that orders seq, and where a failed COPY rolls back to.
    await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${LANDING_WRITE_LOCK}); SAVEPOINT land_copy`);
    const inserted = users.count > 0 ? await insertUsers(client, users.rows) : 0;
    let quarantined = 0;
    if (rejected.length > 0) {
      const res = await client.query(INSERT_QUARANTINE, [
        rejected.map((r) => r.reason),
        rejected.map((r) => jsonbText(r.payload)),
        rejected.map((r) => r.index),
        pos.seed,
        pos.page,
        pos.pageSize,
        runId,
      ]);
      quarantined = res.rowCount ?? 0;
    }
    await client.query('COMMIT');
    return { inserted, alreadyLanded: users.count - inserted, quarantined };
  } catch (e) {
    broken = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    // A connection that failed mid-transaction may be dead (database restart): do not reuse it.
    client.off('error', lost);
    client.release(broken);
  }
}

export async function countLanded(pool: Pool): Promise<number> {
  const r = await pool.query<{ n: string }>('SELECT count(*) AS n FROM landing_users');
  return Number(r.rows[0].n);
}

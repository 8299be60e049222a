import { Pool, PoolClient } from 'pg';
import { USER_COLUMNS, UserRecord } from '../shared/user';
import { Rejected, SourcePosition } from './normalize';

/** Serializes landing writers so that `seq` order is commit order, which the relay's cursor relies on. */
export const LANDING_WRITE_LOCK = 7_252_001;

const PG_TYPES: Record<(typeof USER_COLUMNS)[number], string> = {
  id: 'text', first_name: 'text', last_name: 'text', gender: 'text', address: 'text', post_code: 'text', email: 'text',
  username: 'text', dob: 'timestamptz', registered_date: 'timestamptz', phone: 'text', picture: 'text', nat: 'text', ingested_at: 'timestamptz',
};

// One statement per batch: columns travel as arrays and unnest back into rows.
const INSERT_USERS = `
INSERT INTO landing_users (${USER_COLUMNS.join(', ')}, run_id, source_seed, source_page)
SELECT u.*, $${USER_COLUMNS.length + 1}::text, $${USER_COLUMNS.length + 2}::text, $${USER_COLUMNS.length + 3}::int
FROM unnest(${USER_COLUMNS.map((c, i) => `$${i + 1}::${PG_TYPES[c]}[]`).join(', ')}) AS u(${USER_COLUMNS.join(', ')})
ON CONFLICT (id) DO NOTHING`;

const INSERT_QUARANTINE = `
INSERT INTO landing_quarantine (reason, payload, source_seed, source_page, page_size, source_index, run_id)
SELECT r.reason, r.payload, $4, $5, $6, r.idx, $7
FROM unnest($1::text[], $2::jsonb[], $3::int[]) AS r(reason, payload, idx)
ON CONFLICT (source_seed, source_page, page_size, source_index) DO NOTHING`;

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

/**
 * Lands one page in a single transaction: users (idempotent on id) and its rejects. Either
 * all of it is committed or none of it, so a crash or a database restart leaves no half page.
 */
export async function landBatch(pool: Pool, users: readonly UserRecord[], rejected: readonly Rejected[], pos: SourcePosition, runId: string): Promise<BatchOutcome> {
  const client: PoolClient = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LANDING_WRITE_LOCK]);
    let inserted = 0;
    if (users.length > 0) {
      const columns = USER_COLUMNS.map((c) => users.map((u) => u[c]));
      const res = await client.query(INSERT_USERS, [...columns, runId, pos.seed, pos.page]);
      inserted = res.rowCount ?? 0;
    }
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
    return { inserted, alreadyLanded: users.length - inserted, quarantined };
  } catch (e) {
    broken = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    // A connection that failed mid-transaction may be dead (database restart): do not reuse it.
    client.release(broken);
  }
}

export async function countLanded(pool: Pool): Promise<number> {
  const r = await pool.query<{ n: string }>('SELECT count(*) AS n FROM landing_users');
  return Number(r.rows[0].n);
}

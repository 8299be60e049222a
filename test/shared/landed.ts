// What "this user reached Cassandra as it landed" means, for every tier that follows users from
// the landing table to Cassandra: the same fields, the same landing sequence, the age derived.
import type { Client as CassandraClient, types } from 'cassandra-driver';

export const LANDED_TIMESTAMPS = ['dob', 'registered_date', 'ingested_at'] as const;
export const LANDED_TEXTS = ['first_name', 'last_name', 'gender', 'address', 'post_code', 'email', 'username', 'phone', 'picture', 'nat'] as const;

export type Row = Record<string, unknown>;

/** A Cassandra row as a plain record, column by column. */
export function asRow(row: types.Row): Row {
  return Object.fromEntries(row.keys().map((k) => [k, row.get(k)]));
}

/** Cassandra's rows of `table` for `ids` (200 per query, 8 queries at a time), by id. */
export async function storedRows(cql: CassandraClient, table: string, ids: readonly string[]): Promise<Map<string, Row>> {
  const stored = new Map<string, Row>();
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += 200) chunks.push(ids.slice(i, i + 200));
  for (let i = 0; i < chunks.length; i += 8) {
    await Promise.all(chunks.slice(i, i + 8).map(async (chunk) => {
      const rows = await cql.execute(`SELECT * FROM ${table} WHERE id IN ?`, [chunk], { prepare: true, fetchSize: 500 });
      for (const row of rows.rows) stored.set(String(row.get('id')), asRow(row));
    }));
  }
  return stored;
}

/** Age in whole years at ingestion: one less while that year's birthday is still to come. */
function ageAt(dob: Date, at: Date): number {
  const beforeBirthday = at.getUTCMonth() * 100 + at.getUTCDate() < dob.getUTCMonth() * 100 + dob.getUTCDate();
  return at.getUTCFullYear() - dob.getUTCFullYear() - (beforeBirthday ? 1 : 0);
}

/**
 * Every difference between the landed rows (`SELECT * FROM landing_users`) and Cassandra's rows:
 * a missing id, a field that differs, a landing sequence that is not the landed one. Empty when
 * each landed user is in Cassandra exactly as it landed.
 */
export function differences(landed: readonly Row[], stored: ReadonlyMap<string, Row>): string[] {
  const found: string[] = [];
  for (const l of landed) {
    const id = String(l.id);
    const c = stored.get(id);
    if (!c) {
      found.push(`${id}: not in Cassandra`);
      continue;
    }
    for (const f of LANDED_TEXTS) if (c[f] !== l[f]) found.push(`${id}.${f}: ${JSON.stringify(c[f])} in Cassandra, ${JSON.stringify(l[f])} landed`);
    for (const f of LANDED_TIMESTAMPS) {
      const [cs, ls] = [(c[f] as Date | null)?.getTime(), (l[f] as Date).getTime()];
      if (cs !== ls) found.push(`${id}.${f}: ${cs} in Cassandra, ${ls} landed`);
    }
    if (Number(c.landing_seq) !== Number(l.seq)) found.push(`${id}.landing_seq: ${c.landing_seq} in Cassandra, ${l.seq} landed`);
    const age = ageAt(l.dob as Date, l.ingested_at as Date);
    if (c.age !== age) found.push(`${id}.age: ${c.age} in Cassandra, ${age} from the landed dob`);
    if (!(c.processed_at instanceof Date)) found.push(`${id}.processed_at: not set`);
  }
  return found;
}

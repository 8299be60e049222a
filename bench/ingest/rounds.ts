// The ingest pair of the bench: ingest (workloads/ingest) against PostgreSQL's own COPY of the
// same rows, in the same run. docs/BENCHMARKS.md says what each figure is.
import * as fs from 'node:fs';
import { Pool } from 'pg';
import { superuserClient } from '../../scripts/local/scratch';
import { LocalEndpoints } from '../../scripts/services/endpoints';
import { fetchPage } from '../../workloads/ingest/fetch';
import { runIngest } from '../../workloads/ingest/run';
import { PostgresConfig } from '../../workloads/shared/config';

const LANDING_COLUMNS = 'id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, nat, ingested_at, run_id, source_seed, source_page';

/** Users/s of one ingest run of `seed` from `sourceUrl` into emptied landing tables. */
export async function ingestRound(pg: PostgresConfig, sourceUrl: string, users: number, seed: string): Promise<number> {
  const pool = new Pool({ ...pg, max: 2 });
  await pool.query('TRUNCATE landing_users, landing_quarantine, ingest_runs RESTART IDENTITY');
  const t0 = performance.now();
  const status = await runIngest({ pool, sourceUrl, users, seed });
  const secs = (performance.now() - t0) / 1000;
  await pool.end();
  if (status.state !== 'succeeded' || status.inserted !== users) throw new Error(`ingest round ${seed}: ${status.state}, ${status.inserted}/${users} inserted: ${status.error ?? ''}`);
  return users / secs;
}

/** The rows ingest just landed, as CSV on the database's disk (for the server-side COPY). */
export async function exportLanded(e: LocalEndpoints, database: string, csv: string): Promise<void> {
  const admin = superuserClient(e, database);
  await admin.connect();
  fs.rmSync(csv, { force: true });
  await admin.query(`COPY (SELECT ${LANDING_COLUMNS} FROM landing_users ORDER BY seq) TO '${csv}' WITH (FORMAT csv)`);
  await admin.end();
}

/** Rows/s of a server-side COPY of those rows into `landing_copy` (the landing table's shape and indexes). */
export async function copyRound(e: LocalEndpoints, database: string, csv: string, users: number): Promise<number> {
  const admin = superuserClient(e, database);
  await admin.connect();
  await admin.query('TRUNCATE landing_copy');
  const t0 = performance.now();
  // Server-side COPY from a file: no client in the path, the database's own limit.
  const r = await admin.query(`COPY landing_copy (${LANDING_COLUMNS}) FROM '${csv}' WITH (FORMAT csv)`);
  const secs = (performance.now() - t0) / 1000;
  await admin.end();
  if (r.rowCount !== users) throw new Error(`COPY loaded ${r.rowCount} rows, expected ${users}`);
  return users / secs;
}

/** Users/s of fetching and parsing a run's pages, one after the other, no database. */
export async function fetchAloneRound(sourceUrl: string, users: number, seed: string): Promise<number> {
  const t0 = performance.now();
  for (let page = 1, left = users; left > 0; page++, left -= 5000) {
    const r = await fetchPage(sourceUrl, { results: 5000, seed, page });
    if (!r.ok) throw new Error(`fetch round ${seed}, page ${page}: ${r.error.reason}`);
  }
  return users / ((performance.now() - t0) / 1000);
}

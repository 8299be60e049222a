import { Client } from 'pg';
import { assetPath } from '../shared/assets';
import { PostgresConfig } from '../shared/config';
import { log } from '../shared/log';
import { readMigrations } from './files';

// Any fixed number works; it only has to be the same for every `migrate postgres`.
const MIGRATION_LOCK = 7_252_000;

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

/**
 * Applies workloads/migrations/postgres in order, each in its own transaction, under an
 * advisory lock so two starting services never race; refuses when an applied file changed.
 */
export async function migratePostgres(cfg: PostgresConfig, dir = assetPath('migrations/postgres')): Promise<MigrateResult> {
  const files = readMigrations(dir, '.sql');
  if (!files.ok) throw new Error(files.error);
  const client = new Client({ ...cfg, application_name: 'rtds-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map((await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations')).rows.map((r) => [r.version, r]));
    const applied: string[] = [];
    for (const m of files.value) {
      const prior = done.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) throw new Error(`migration ${m.version}_${m.name} was changed after it was applied (checksum differs); add a new migration instead`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.text);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.version}_${m.name} failed: ${(e as Error).message}`);
      }
      applied.push(`${m.version}_${m.name}`);
      log('info', 'migrate', 'applied postgres migration', { version: m.version, name: m.name });
    }
    return { applied, alreadyApplied: files.value.length - applied.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
}

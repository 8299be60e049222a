import { assetPath } from '../shared/assets';
import { cassandraClient } from '../shared/cassandra';
import { CassandraConfig } from '../shared/config';
import { log } from '../shared/log';
import { cqlStatements, readMigrations } from './files';
import { MigrateResult } from './postgres';

export interface CassandraMigrateProps {
  /** Replication factor of keyspace spark_streams when it is created. @default 1 */
  readonly replicationFactor?: number;
  /** @default workloads/migrations/cassandra */
  readonly dir?: string;
}

export { CASSANDRA_KEYSPACE as KEYSPACE } from '../../config/facts';
import { CASSANDRA_KEYSPACE as KEYSPACE } from '../../config/facts';

/**
 * Creates keyspace spark_streams and applies workloads/migrations/cassandra in order. A
 * lightweight transaction claims each version, so two concurrent runs never apply one twice.
 */
export async function migrateCassandra(cfg: CassandraConfig, props: CassandraMigrateProps = {}): Promise<MigrateResult> {
  const files = readMigrations(props.dir ?? assetPath('migrations/cassandra'), '.cql');
  if (!files.ok) throw new Error(files.error);
  const rf = props.replicationFactor ?? 1;
  const client = cassandraClient(cfg);
  await client.connect();
  try {
    await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '${rf}'}`);
    await client.execute(`CREATE TABLE IF NOT EXISTS ${KEYSPACE}.schema_migrations (
      version int PRIMARY KEY, name text, checksum text, state text, applied_at timestamp)`);
    const applied: string[] = [];
    for (const m of files.value) {
      const claim = await client.execute(
        `INSERT INTO ${KEYSPACE}.schema_migrations (version, name, checksum, state) VALUES (?, ?, ?, 'applying') IF NOT EXISTS`,
        [m.version, m.name, m.checksum], { prepare: true },
      );
      const row = claim.first();
      if (!row.get('[applied]')) {
        if (row.get('checksum') !== m.checksum) throw new Error(`migration ${m.version}_${m.name} was changed after it was applied (checksum differs); add a new migration instead`);
        if (row.get('state') === 'applied') continue;
        // Claimed earlier but not finished (crash, or another runner): statements are IF NOT EXISTS, so redo them.
      }
      for (const stmt of cqlStatements(m.text)) await client.execute(stmt);
      await client.execute(`UPDATE ${KEYSPACE}.schema_migrations SET state = 'applied', applied_at = toTimestamp(now()) WHERE version = ?`, [m.version], { prepare: true });
      applied.push(`${m.version}_${m.name}`);
      log('info', 'migrate', 'applied cassandra migration', { version: m.version, name: m.name });
    }
    return { applied, alreadyApplied: files.value.length - applied.length };
  } finally {
    await client.shutdown();
  }
}

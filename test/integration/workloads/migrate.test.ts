import { cassandraClient } from '../../../workloads/shared/cassandra';
import { migrateCassandra } from '../../../workloads/migrate/cassandra';
import { migratePostgres } from '../../../workloads/migrate/postgres';
import { setQuiet } from '../../../workloads/shared/log';
import { endpoints, freshDatabase, TestDatabase } from './harness';

jest.setTimeout(120_000);

let db: TestDatabase;
beforeAll(async () => {
  setQuiet(true);
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
  setQuiet(false);
});

describe('migrations against the real databases', () => {
  test('postgres: applied once, in order, recorded in schema_migrations; concurrent runs do not collide', async () => {
    const runs = await Promise.all([migratePostgres(db.cfg), migratePostgres(db.cfg)]);
    expect(runs.map((r) => r.applied)).toEqual([[], []]);
    const rows = await db.pool.query('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows.rows).toEqual([{ version: 1, name: 'landing' }, { version: 2, name: 'landing_notify' }, { version: 3, name: 'ingest_runs_heartbeat' }]);
  });

  test('cassandra: keyspace spark_streams and table created_users exist after migrate, and a rerun applies nothing', async () => {
    const e = endpoints().cassandra;
    const cfg = { contactPoints: e.contactPoints, port: e.port, localDataCenter: e.localDataCenter, username: e.username, password: e.password };
    await migrateCassandra(cfg);
    const again = await migrateCassandra(cfg);
    expect(again.applied).toEqual([]);
    const client = cassandraClient(e);
    await client.connect();
    try {
      const cols = await client.execute("SELECT column_name FROM system_schema.columns WHERE keyspace_name = 'spark_streams' AND table_name = 'created_users'");
      const names = cols.rows.map((r) => r.get('column_name') as string);
      for (const c of ['id', 'first_name', 'last_name', 'gender', 'address', 'post_code', 'email', 'username', 'dob', 'age', 'registered_date', 'phone', 'picture', 'nat', 'ingested_at'])
        expect(names).toContain(c);
      const applied = await client.execute("SELECT version, state FROM spark_streams.schema_migrations");
      expect(applied.rows.map((r) => [r.get('version'), r.get('state')])).toEqual([[1, 'applied']]);
    } finally {
      await client.shutdown();
    }
  });
});

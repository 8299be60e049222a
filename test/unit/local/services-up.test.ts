// `services:up` on a cold home: each service's endpoints.json entries are written as soon as it
// is healthy, because Airflow (started last) reads PostgreSQL's from there.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { airflow } from '../../../scripts/services/airflow';
import { LocalEndpoints, PostgresEndpoint, readPartialEndpoints } from '../../../scripts/services/endpoints';
import { bringUp, createContext } from '../../../scripts/services/lifecycle';
import { LocalService, ServiceContext } from '../../../scripts/services/service';

const PG: PostgresEndpoint = { host: '127.0.0.1', port: 25432, user: 'pipeline', password: 'from-secrets', database: 'pipeline', superuser: { user: 'postgres', password: 'from-secrets-too' } };

/** A service that is already running here and answers: bringUp only reuses it and records its endpoints. */
function running(name: string, endpoints: Partial<LocalEndpoints>, onStart?: (ctx: ServiceContext) => void): LocalService {
  return {
    name,
    dependsOn: () => [],
    enabled: () => true,
    version: () => 'test',
    ports: () => [{ name: 'main', port: 1, env: 'UNUSED' }],
    provision: async () => undefined,
    start: async (ctx) => onStart?.(ctx),
    stop: async () => undefined,
    status: async () => (onStart ? { state: 'stopped', port: 1, version: 'test' } : { state: 'running', port: 1, version: 'test', pid: process.pid }),
    healthy: async () => true,
    endpoints: async () => endpoints,
  };
}

describe('services:up on a cold home', () => {
  let home: string;
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-up-test-'));
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('a service started later finds the endpoints of those before it: Airflow\'s environment gets PostgreSQL', async () => {
    const ctx = createContext({ home, log: () => undefined });
    let airflowDb: string | undefined;
    await bringUp(ctx, [
      running('postgres', { postgres: PG }),
      // Airflow's own code reads endpoints.json when it starts (metadata DB, the DAG's variables).
      running('airflow', {}, (c) => {
        airflowDb = airflow.airflowEnv(c).AIRFLOW__DATABASE__SQL_ALCHEMY_CONN;
      }),
    ]);
    expect(airflowDb).toMatch(/^postgresql\+psycopg2:\/\/airflow:[^@]+@127\.0\.0\.1:25432\/airflow$/);
  });

  it('keeps what did start in endpoints.json when a later service fails', async () => {
    const ctx = createContext({ home, log: () => undefined });
    const broken = running('spark', {}, () => {
      throw new Error('spark: no Java 17');
    });
    await expect(bringUp(ctx, [running('postgres', { postgres: PG }), broken])).rejects.toThrow('spark: no Java 17');
    expect(readPartialEndpoints(home)).toEqual({ postgres: PG });
  });
});

import { HOST_PORTS, UPSTREAM_IMAGES } from './facts';
import { checkIdentifier, Problem, Resources } from './rules';

export interface PostgresConfig {
  /** @default 'postgres:<PostgreSQL>' (config/facts/versions.ts) */
  readonly image: string;
  /** @default 5432 */
  readonly hostPort: number;
  /** The pipeline's landing database. @default 'pipeline' */
  readonly landingDatabase: string;
  /** Owner of the landing database, used by ingest and relay. @default 'pipeline' */
  readonly landingUser: string;
  /** Airflow's metadata database. @default 'airflow' */
  readonly airflowDatabase: string;
  /** @default 'airflow' */
  readonly airflowUser: string;
  /** @default { cpu: 1, memoryMiB: 1024, requests: { cpu: 0.05, memoryMiB: 128 } } */
  readonly resources: Resources;
  /** @default 5 */
  readonly storageGiB: number;
}

export const POSTGRES_DEFAULTS: PostgresConfig = {
  image: UPSTREAM_IMAGES.postgres,
  hostPort: HOST_PORTS.postgres,
  landingDatabase: 'pipeline',
  landingUser: 'pipeline',
  airflowDatabase: 'airflow',
  airflowUser: 'airflow',
  resources: { cpu: 1, memoryMiB: 1024, requests: { cpu: 0.05, memoryMiB: 128 } },
  storageGiB: 5,
};

export function validatePostgres(pg: PostgresConfig, bad: Problem): void {
  checkIdentifier('postgres.landingDatabase', pg.landingDatabase, bad);
  checkIdentifier('postgres.landingUser', pg.landingUser, bad);
  checkIdentifier('postgres.airflowDatabase', pg.airflowDatabase, bad);
  checkIdentifier('postgres.airflowUser', pg.airflowUser, bad);
  if (pg.landingDatabase === pg.airflowDatabase) bad('postgres.airflowDatabase', pg.airflowDatabase, 'must differ from postgres.landingDatabase');
  if (pg.landingUser === pg.airflowUser) bad('postgres.airflowUser', pg.airflowUser, 'must differ from postgres.landingUser');
  if (pg.landingUser === 'postgres' || pg.airflowUser === 'postgres')
    bad('postgres.landingUser', pg.landingUser, "'postgres' is the superuser; the pipeline gets its own role");
}

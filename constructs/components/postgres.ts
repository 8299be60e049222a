import { Construct } from 'constructs';
import { PORTS } from '../../config/facts';
import { ComponentProps, componentImage } from './common';
import { SecretRef } from '../platform/spec';

const POSTGRES_PORT = PORTS.postgres;

/** Runs once on an empty data directory: one database and one owning role per consumer. */
const CREATE_DATABASES = `#!/usr/bin/env bash
# Separate roles keep Airflow's metadata and the pipeline's landing data apart.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \\
  -v landing_db="$LANDING_DB" -v landing_user="$LANDING_USER" -v landing_pw="$LANDING_PASSWORD" \\
  -v airflow_db="$AIRFLOW_DB" -v airflow_user="$AIRFLOW_DB_USER" -v airflow_pw="$AIRFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE :"landing_user" LOGIN PASSWORD :'landing_pw';
CREATE DATABASE :"landing_db" OWNER :"landing_user";
CREATE ROLE :"airflow_user" LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE :"airflow_db" OWNER :"airflow_user";
SQL
`;

/** Credentials of one database: everything a libpq client needs. */
export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: SecretRef;
}

/** PostgreSQL holding the pipeline's landing database and Airflow's metadata database. */
export class Postgres extends Construct {
  readonly service = 'postgres';
  readonly host = 'postgres';
  readonly port = POSTGRES_PORT;
  /** The landing database ingest writes and relay reads. */
  readonly landing: DatabaseEndpoint;
  /** Airflow's metadata database. */
  readonly airflow: DatabaseEndpoint;
  /** SQLAlchemy URL of the Airflow database, password included, as a secret. */
  readonly airflowSqlAlchemyUrl: SecretRef;
  /** `postgresql://user@host:port/db` of the landing database (no password). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const { platform, config } = props;
    const pg = config.postgres;
    const secret = platform.secret('postgres', {
      'superuser-password': { generate: 'password' },
      'landing-password': { generate: 'password' },
      'airflow-password': { generate: 'password' },
      'airflow-sqlalchemy-url': {
        derive: (v) => `postgresql+psycopg2://${pg.airflowUser}:${v('airflow-password')}@${this.host}:${POSTGRES_PORT}/${pg.airflowDatabase}`,
      },
    });
    this.landing = { host: this.host, port: POSTGRES_PORT, database: pg.landingDatabase, user: pg.landingUser, password: secret.ref('landing-password') };
    this.airflow = { host: this.host, port: POSTGRES_PORT, database: pg.airflowDatabase, user: pg.airflowUser, password: secret.ref('airflow-password') };
    this.airflowSqlAlchemyUrl = secret.ref('airflow-sqlalchemy-url');
    this.url = `postgresql://${pg.landingUser}@${this.host}:${POSTGRES_PORT}/${pg.landingDatabase}`;

    platform.add({
      name: this.service,
      component: 'postgres',
      kind: 'stateful',
      image: componentImage(config, 'postgres', pg.image),
      env: {
        POSTGRES_USER: 'postgres',
        POSTGRES_DB: 'postgres',
        // A subdirectory, because a fresh volume's root may hold lost+found.
        PGDATA: '/var/lib/postgresql/data/pgdata',
        LANDING_DB: pg.landingDatabase,
        LANDING_USER: pg.landingUser,
        AIRFLOW_DB: pg.airflowDatabase,
        AIRFLOW_DB_USER: pg.airflowUser,
      },
      secretEnv: {
        POSTGRES_PASSWORD: secret.ref('superuser-password'),
        LANDING_PASSWORD: secret.ref('landing-password'),
        AIRFLOW_DB_PASSWORD: secret.ref('airflow-password'),
      },
      ports: [{ name: 'postgres', containerPort: POSTGRES_PORT, hostPort: pg.hostPort }],
      volumes: [
        { kind: 'persistent', name: 'data', mountPath: '/var/lib/postgresql/data', sizeGiB: pg.storageGiB },
        { kind: 'config', name: 'initdb', mountPath: '/docker-entrypoint-initdb.d', files: { '10-rtds-databases.sh': CREATE_DATABASES } },
      ],
      // TCP on 127.0.0.1 only answers once the init scripts are done and the real server runs.
      health: { probe: { command: ['pg_isready', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres'] }, startPeriodSeconds: 30 },
      resources: pg.resources,
      runAs: { user: 999, group: 999 },
    });
  }
}

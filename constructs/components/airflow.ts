import { Construct } from 'constructs';
import { dagEnv, ENV, kafkaClientEnv, PORTS, postgresClientEnv } from '../../config/facts';
import { airflowAppImage, ComponentProps } from './common';
import { Postgres } from './postgres';
import { Kafka } from './kafka';
import { SchemaRegistry } from './schema-registry';
import { Cassandra } from './cassandra';
import { Workloads } from './workloads';
import { Spark } from './spark';
import { Dependency, SecretRef, ServiceSpec } from '../platform/spec';

const AIRFLOW_API_PORT = PORTS.airflow;
const SCHEDULER_HEALTH_PORT = PORTS.airflowSchedulerHealth;
const LOG_SERVER_PORT = PORTS.airflowLogServer;

export interface AirflowProps extends ComponentProps {
  /** Metadata database, and the landing database the DAG counts. */
  readonly postgres: Postgres;
  /** The DAG's stage-count check reads end offsets here. */
  readonly kafka: Kafka;
  /** Passed to the DAG as SCHEMA_REGISTRY_URL. */
  readonly schemaRegistry: SchemaRegistry;
  /** The DAG's stage-count check counts rows here. */
  readonly cassandra: Cassandra;
  /** The DAG calls ingest's control API. */
  readonly workloads: Workloads;
  /** The DAG's stage-count check waits for the streaming job to land the users. */
  readonly spark: Spark;
  /** File name → content of every airflow.dagsDir/*.py, all baked into the airflow-app image. */
  readonly dags: Readonly<Record<string, string>>;
}

/**
 * Airflow 3 with the LocalExecutor: a one-shot migrate + admin-user job, then the API server
 * (UI), scheduler and DAG processor, all on the metadata database in PostgreSQL. All run the
 * airflow-app image, which carries the DAGs and the Python clients their checks import.
 */
export class Airflow extends Construct {
  readonly apiService = 'airflow-api-server';
  /** UI and REST API inside the network. */
  readonly url: string;
  /** The admin's generated password. */
  readonly adminPassword: SecretRef;

  constructor(scope: Construct, id: string, props: AirflowProps) {
    super(scope, id);
    const { platform, config, postgres, kafka, schemaRegistry, cassandra, workloads, spark, dags } = props;
    const a = config.airflow;
    if (Object.keys(dags).length === 0) throw new Error(`airflow.dagsDir: folder '${a.dagsDir}' has no .py files, so Airflow would run no DAG`);
    const image = airflowAppImage(config);
    this.url = `http://${this.apiService}:${AIRFLOW_API_PORT}`;
    const secret = platform.secret('airflow', {
      'fernet-key': { generate: 'fernet' },
      'jwt-secret': { generate: 'password', length: 48 },
      'api-secret-key': { generate: 'password', length: 48 },
      'admin-password': { generate: 'password', length: 24 },
    });
    this.adminPassword = secret.ref('admin-password');

    const env: Record<string, string> = {
      AIRFLOW__CORE__EXECUTOR: 'LocalExecutor',
      AIRFLOW__CORE__AUTH_MANAGER: 'airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager',
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION: 'False',
      AIRFLOW__CORE__EXECUTION_API_SERVER_URL: `${this.url}/execution/`,
      AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK: 'True',
      AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT: String(LOG_SERVER_PORT),
      // The stage-count check and the ingest call, names fixed in docs/DEVELOPERS.md.
      ...dagEnv({ ingestUrl: workloads.ingestUrl, usersPerRun: a.usersPerRun, schedule: a.schedule, maxLagRows: a.maxLagRows }),
      ...postgresClientEnv(postgres.landing),
      ...kafkaClientEnv({ bootstrapServers: kafka.bootstrapServers, schemaRegistryUrl: schemaRegistry.url, topic: kafka.topic }),
      ...cassandra.clientEnv(),
    };
    const secretEnv: Record<string, SecretRef> = {
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: postgres.airflowSqlAlchemyUrl,
      AIRFLOW__CORE__FERNET_KEY: secret.ref('fernet-key'),
      AIRFLOW__API_AUTH__JWT_SECRET: secret.ref('jwt-secret'),
      AIRFLOW__API__SECRET_KEY: secret.ref('api-secret-key'),
      [ENV.pgPassword]: postgres.landing.password,
      [ENV.cassandraPassword]: cassandra.password,
    };
    const base: Pick<ServiceSpec, 'component' | 'image' | 'resources' | 'runAs'> = {
      component: 'airflow',
      image,
      resources: a.resources,
      // The official image runs as uid 50000 in group 0.
      runAs: { user: 50000, group: 0 },
    };

    platform.add({
      ...base,
      name: 'airflow-init',
      kind: 'job',
      // The image's entrypoint migrates and creates the user idempotently when asked to.
      args: ['version'],
      env: { ...env, _AIRFLOW_DB_MIGRATE: 'true', _AIRFLOW_WWW_USER_CREATE: 'true', _AIRFLOW_WWW_USER_USERNAME: a.adminUser },
      secretEnv: { ...secretEnv, _AIRFLOW_WWW_USER_PASSWORD: this.adminPassword },
      dependsOn: [{ service: postgres.service, condition: 'healthy' }],
    });
    const afterInit = [{ service: 'airflow-init', condition: 'completed' as const }];
    platform.add({
      ...base,
      name: this.apiService,
      kind: 'stateless',
      args: ['api-server'],
      env,
      secretEnv,
      ports: [{ name: 'http', containerPort: AIRFLOW_API_PORT, hostPort: a.hostPort }],
      health: { probe: { httpGet: { path: '/api/v2/version', port: AIRFLOW_API_PORT } }, startPeriodSeconds: 60 },
      dependsOn: afterInit,
    });
    // The DAG is unpaused at creation and runs as soon as the scheduler does: everything it calls
    // and counts must exist first (a run that starts before cassandra-auth made the role fails).
    const dagNeeds: Dependency[] = [
      { service: workloads.ingestService, condition: 'healthy' },
      { service: workloads.relayService, condition: 'healthy' },
      { service: spark.driverService, condition: 'healthy' },
      { service: kafka.topicsJob, condition: 'completed' },
      { service: cassandra.migrateJob, condition: 'completed' },
    ];
    platform.add({
      ...base,
      name: 'airflow-scheduler',
      // Tasks run inside the scheduler (LocalExecutor) and the API server fetches their logs from
      // the host name the task recorded: a stable, resolvable name needs a stateful identity.
      kind: 'stateful',
      args: ['scheduler'],
      env,
      secretEnv,
      ports: [
        { name: 'health', containerPort: SCHEDULER_HEALTH_PORT },
        { name: 'logs', containerPort: LOG_SERVER_PORT },
      ],
      health: { probe: { httpGet: { path: '/health', port: SCHEDULER_HEALTH_PORT } }, startPeriodSeconds: 60 },
      dependsOn: [...afterInit, { service: this.apiService, condition: 'healthy' }, ...dagNeeds],
    });
    platform.add({
      ...base,
      name: 'airflow-dag-processor',
      kind: 'stateless',
      args: ['dag-processor'],
      env,
      secretEnv,
      health: {
        probe: { command: ['bash', '-c', 'airflow jobs check --job-type DagProcessorJob --hostname "$HOSTNAME"'] },
        startPeriodSeconds: 60,
        intervalSeconds: 30,
        timeoutSeconds: 20,
      },
      dependsOn: afterInit,
    });
  }
}

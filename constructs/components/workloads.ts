import { Construct } from 'constructs';
import { ENV, kafkaClientEnv, PORTS, postgresClientEnv, WORKLOAD_NODE_OPTIONS } from '../../config/facts';
import { ComponentProps, workloadsImage } from './common';
import { Postgres } from './postgres';
import { Kafka } from './kafka';
import { SchemaRegistry } from './schema-registry';
import { HealthCheck } from '../platform/spec';

const INGEST_PORT = PORTS.ingest;
const RELAY_PORT = PORTS.relay;
const SOURCE_PORT = PORTS.source;

export interface WorkloadsProps extends ComponentProps {
  /** Landing database of ingest and relay. */
  readonly postgres: Postgres;
  /** Where relay publishes. */
  readonly kafka: Kafka;
  /** Where register-schema and relay register the users schema. */
  readonly schemaRegistry: SchemaRegistry;
}

/** The node image has no curl; Node's own fetch checks the control API. */
function healthz(port: number): HealthCheck {
  return {
    probe: {
      httpGet: { path: '/healthz', port },
      shellCheck: `node -e "fetch('http://127.0.0.1:${port}/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`,
    },
    startPeriodSeconds: 15,
  };
}

/**
 * The project's own services from the workloads image: the bundled randomuser-compatible source,
 * the landing-table migration, the schema registration, ingest and relay.
 */
export class Workloads extends Construct {
  /** The bundled randomuser-compatible API. */
  readonly sourceUrl: string;
  /** The randomuser API ingest calls (RANDOMUSER_URL). */
  readonly randomuserUrl: string;
  /** Ingest's control API (INGEST_URL for the DAG). */
  readonly ingestUrl: string;
  readonly relayUrl: string;
  readonly ingestService = 'ingest';
  readonly relayService = 'relay';

  constructor(scope: Construct, id: string, props: WorkloadsProps) {
    super(scope, id);
    const { platform, config, postgres, kafka, schemaRegistry } = props;
    const w = config.workloads;
    const image = workloadsImage(config);
    const runAs = { user: 1000, group: 1000 };
    this.sourceUrl = `http://source:${SOURCE_PORT}/api/`;
    this.randomuserUrl = w.randomuserUrl || this.sourceUrl;
    this.ingestUrl = `http://${this.ingestService}:${INGEST_PORT}`;
    this.relayUrl = `http://${this.relayService}:${RELAY_PORT}`;
    const pgEnv = postgresClientEnv(postgres.landing);
    const pgSecret = { [ENV.pgPassword]: postgres.landing.password };
    const kafkaEnv = kafkaClientEnv({ bootstrapServers: kafka.bootstrapServers, schemaRegistryUrl: schemaRegistry.url, topic: kafka.topic });

    platform.add({
      name: 'source',
      component: 'workloads',
      kind: 'stateless',
      image,
      args: ['source', 'serve'],
      env: { [ENV.httpPort]: String(SOURCE_PORT) },
      ports: [{ name: 'http', containerPort: SOURCE_PORT, hostPort: w.sourceHostPort }],
      health: healthz(SOURCE_PORT),
      resources: w.resources,
      runAs,
    });
    platform.add({
      name: 'postgres-migrate',
      component: 'workloads',
      kind: 'job',
      image,
      args: ['migrate', 'postgres'],
      env: pgEnv,
      secretEnv: pgSecret,
      resources: w.resources,
      runAs,
      dependsOn: [{ service: postgres.service, condition: 'healthy' }],
    });
    platform.add({
      name: 'register-schema',
      component: 'workloads',
      kind: 'job',
      image,
      args: ['register-schema'],
      env: kafkaEnv,
      resources: w.resources,
      runAs,
      dependsOn: [
        { service: schemaRegistry.service, condition: 'healthy' },
        { service: kafka.topicsJob, condition: 'completed' },
      ],
    });
    platform.add({
      name: this.ingestService,
      component: 'workloads',
      kind: 'stateless',
      image,
      args: ['ingest', 'serve'],
      env: { ...pgEnv, [ENV.randomuserUrl]: this.randomuserUrl, [ENV.httpPort]: String(INGEST_PORT), [ENV.nodeOptions]: WORKLOAD_NODE_OPTIONS.ingest },
      secretEnv: pgSecret,
      ports: [{ name: 'http', containerPort: INGEST_PORT, hostPort: w.ingestHostPort }],
      health: healthz(INGEST_PORT),
      resources: w.resources,
      replicas: w.ingestReplicas,
      runAs,
      dependsOn: [
        { service: 'postgres-migrate', condition: 'completed' },
        { service: 'source', condition: 'healthy' },
      ],
    });
    platform.add({
      name: this.relayService,
      component: 'workloads',
      kind: 'stateless',
      image,
      args: ['relay'],
      env: { ...pgEnv, ...kafkaEnv, [ENV.httpPort]: String(RELAY_PORT), [ENV.nodeOptions]: WORKLOAD_NODE_OPTIONS.relay },
      secretEnv: pgSecret,
      ports: [{ name: 'http', containerPort: RELAY_PORT, hostPort: w.relayHostPort }],
      health: healthz(RELAY_PORT),
      resources: w.resources,
      runAs,
      dependsOn: [
        { service: 'postgres-migrate', condition: 'completed' },
        { service: 'register-schema', condition: 'completed' },
      ],
    });
  }
}

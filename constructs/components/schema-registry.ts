import { Construct } from 'constructs';
import { ComponentProps, componentImage, effectiveReplication } from './common';
import { Kafka } from './kafka';

export const SCHEMA_REGISTRY_PORT = 8081;

export interface SchemaRegistryProps extends ComponentProps {
  /** Cluster the registry stores schemas in. */
  readonly kafka: Kafka;
}

/** Confluent Schema Registry: the relay registers the users schema, Spark reads it by id. */
export class SchemaRegistry extends Construct {
  readonly service = 'schema-registry';
  /** Confluent-compatible API base URL (SCHEMA_REGISTRY_URL). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SchemaRegistryProps) {
    super(scope, id);
    const { platform, config, kafka } = props;
    const sr = config.schemaRegistry;
    this.url = `http://${this.service}:${SCHEMA_REGISTRY_PORT}`;
    platform.add({
      name: this.service,
      component: 'schema-registry',
      kind: 'stateless',
      image: componentImage(config, 'schema-registry', sr.image),
      env: {
        SCHEMA_REGISTRY_HOST_NAME: this.service,
        SCHEMA_REGISTRY_LISTENERS: `http://0.0.0.0:${SCHEMA_REGISTRY_PORT}`,
        SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: `PLAINTEXT://${kafka.bootstrapServers}`,
        SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR: String(effectiveReplication(3, kafka.brokers)),
        SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL: 'backward',
        SCHEMA_REGISTRY_HEAP_OPTS: `-Xms${sr.resources.heapMiB}m -Xmx${sr.resources.heapMiB}m`,
      },
      ports: [{ name: 'http', containerPort: SCHEMA_REGISTRY_PORT, hostPort: sr.hostPort }],
      health: { probe: { httpGet: { path: '/subjects', port: SCHEMA_REGISTRY_PORT } }, startPeriodSeconds: 30 },
      resources: sr.resources,
      runAs: { user: 1000, group: 1000 },
      dependsOn: [{ service: kafka.service, condition: 'healthy' }],
    });
  }
}

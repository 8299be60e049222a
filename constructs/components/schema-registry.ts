import { Construct } from 'constructs';
import { effectiveReplication, PORTS } from '../../config/facts';
import { ComponentProps, componentImage } from './common';
import { Kafka } from './kafka';

const SCHEMA_REGISTRY_PORT = PORTS.schemaRegistry;

/** Where Apicurio Registry (the imageMode 'local' registry) serves the Confluent-compatible API. */
export const APICURIO_CCOMPAT_PATH = '/apis/ccompat/v7';

/** Size of the local registry's H2 volume: a few schemas need far less. */
const LOCAL_STORE_GIB = 1;

export interface SchemaRegistryProps extends ComponentProps {
  /** Cluster the registry stores schemas in (upstream Confluent only; Apicurio keeps its own H2 file). */
  readonly kafka: Kafka;
}

/**
 * The Schema Registry: the relay registers the users schema, Spark reads it by id. Upstream it is
 * Confluent's (schemas in a Kafka topic); in imageMode 'local' it is Apicurio Registry built from
 * Maven Central (images/schema-registry), schemas in an H2 file on a persistent volume.
 */
export class SchemaRegistry extends Construct {
  readonly service = 'schema-registry';
  /** Confluent-compatible API base URL (SCHEMA_REGISTRY_URL), including Apicurio's API path in imageMode 'local'. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: SchemaRegistryProps) {
    super(scope, id);
    const { platform, config, kafka } = props;
    const sr = config.schemaRegistry;
    const root = `http://${this.service}:${SCHEMA_REGISTRY_PORT}`;
    const image = componentImage(config, 'schema-registry', sr.image);
    const common = {
      name: this.service,
      component: 'schema-registry',
      image,
      ports: [{ name: 'http', containerPort: SCHEMA_REGISTRY_PORT, hostPort: sr.hostPort }],
      resources: sr.resources,
      runAs: { user: 1000, group: 1000 },
    };
    if (config.imageMode === 'local') {
      this.url = `${root}${APICURIO_CCOMPAT_PATH}`;
      // H2 fixes its password when it creates the file, so it lives in a platform secret, not the image.
      const secret = platform.secret('schema-registry', { 'h2-password': { generate: 'password' } });
      platform.add({
        ...common,
        kind: 'stateful',
        env: {
          HTTP_PORT: String(SCHEMA_REGISTRY_PORT),
          REGISTRY_DATASOURCE_URL: 'jdbc:h2:file:/var/lib/schema-registry/registry',
          REGISTRY_DATASOURCE_USERNAME: 'registry',
          // The default global rule Confluent's registry has (Apicurio enforces it without storing it).
          JAVA_OPTS: `-Xms${sr.resources.heapMiB}m -Xmx${sr.resources.heapMiB}m -Dregistry.rules.global.compatibility=BACKWARD`,
        },
        secretEnv: { REGISTRY_DATASOURCE_PASSWORD: secret.ref('h2-password') },
        volumes: [{ kind: 'persistent', name: 'data', mountPath: '/var/lib/schema-registry', sizeGiB: LOCAL_STORE_GIB }],
        health: { probe: { httpGet: { path: `${APICURIO_CCOMPAT_PATH}/subjects`, port: SCHEMA_REGISTRY_PORT } }, startPeriodSeconds: 60 },
      });
      return;
    }
    this.url = root;
    platform.add({
      ...common,
      kind: 'stateless',
      env: {
        SCHEMA_REGISTRY_HOST_NAME: this.service,
        SCHEMA_REGISTRY_LISTENERS: `http://0.0.0.0:${SCHEMA_REGISTRY_PORT}`,
        SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: `PLAINTEXT://${kafka.bootstrapServers}`,
        SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR: String(effectiveReplication(3, kafka.brokers)),
        SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL: 'backward',
        SCHEMA_REGISTRY_HEAP_OPTS: `-Xms${sr.resources.heapMiB}m -Xmx${sr.resources.heapMiB}m`,
      },
      health: { probe: { httpGet: { path: '/subjects', port: SCHEMA_REGISTRY_PORT } }, startPeriodSeconds: 30 },
      dependsOn: [{ service: kafka.service, condition: 'healthy' }],
    });
  }
}

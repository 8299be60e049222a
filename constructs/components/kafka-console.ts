import { Construct } from 'constructs';
import { ConsoleKind } from '../../config';

/** A console that is deployed (console.kind 'none' creates no KafkaConsole). */
export type DeployedConsoleKind = Exclude<ConsoleKind, 'none'>;
import { effectiveReplication, PORTS } from '../../config/facts';
import { ComponentProps, componentImage } from './common';
import { Kafka } from './kafka';
import { SchemaRegistry } from './schema-registry';

const CONSOLE_PORT = PORTS.console;

export interface KafkaConsoleProps extends ComponentProps {
  /** Cluster the console watches. */
  readonly kafka: Kafka;
  /** Registry the console decodes Avro with. */
  readonly schemaRegistry: SchemaRegistry;
}

/**
 * The web console that watches the topics: Confluent Control Center (commercial licence, free for
 * a single-broker developer setup) or kafbat kafka-ui (Apache-2.0), per console.kind.
 */
export class KafkaConsole extends Construct {
  readonly kind: DeployedConsoleKind;
  readonly service: string;
  /** UI address inside the network. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: KafkaConsoleProps) {
    super(scope, id);
    const { platform, config, kafka, schemaRegistry } = props;
    const c = config.console;
    if (c.kind === 'none') throw new Error("console.kind 'none' deploys no console: do not create a KafkaConsole");
    this.kind = c.kind;
    this.service = c.kind;
    this.url = `http://${this.service}:${CONSOLE_PORT}`;
    const heap = `-Xms${c.resources.heapMiB}m -Xmx${c.resources.heapMiB}m`;
    const common = {
      component: 'console',
      kind: 'stateless' as const,
      ports: [{ name: 'http', containerPort: CONSOLE_PORT, hostPort: c.hostPort }],
      resources: c.resources,
      dependsOn: [
        { service: kafka.service, condition: 'healthy' as const },
        { service: schemaRegistry.service, condition: 'healthy' as const },
      ],
    };
    if (c.kind === 'control-center') {
      const rf = String(effectiveReplication(3, kafka.brokers));
      platform.add({
        ...common,
        name: this.service,
        image: { name: c.controlCenterImage },
        env: {
          CONTROL_CENTER_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
          CONTROL_CENTER_SCHEMA_REGISTRY_URL: schemaRegistry.url,
          CONTROL_CENTER_REPLICATION_FACTOR: rf,
          CONTROL_CENTER_INTERNAL_TOPICS_PARTITIONS: '1',
          CONTROL_CENTER_MONITORING_INTERCEPTOR_TOPIC_PARTITIONS: '1',
          CONFLUENT_METRICS_TOPIC_REPLICATION: rf,
          CONTROL_CENTER_HEAP_OPTS: heap,
          PORT: String(CONSOLE_PORT),
        },
        health: { probe: { httpGet: { path: '/', port: CONSOLE_PORT } }, startPeriodSeconds: 90 },
        runAs: { user: 1000, group: 1000 },
      });
    } else {
      platform.add({
        ...common,
        name: this.service,
        image: componentImage(config, 'kafka-ui', c.kafkaUiImage),
        env: {
          SERVER_PORT: String(CONSOLE_PORT),
          KAFKA_CLUSTERS_0_NAME: 'rtdatastream',
          KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS: kafka.bootstrapServers,
          KAFKA_CLUSTERS_0_SCHEMAREGISTRY: schemaRegistry.url,
          DYNAMIC_CONFIG_ENABLED: 'false',
          JAVA_OPTS: heap,
        },
        // The image is Alpine-based: wget, no curl.
        health: {
          probe: { httpGet: { path: '/actuator/health', port: CONSOLE_PORT }, shellCheck: `wget -qO- http://localhost:${CONSOLE_PORT}/actuator/health` },
          startPeriodSeconds: 60,
        },
        runAs: { user: 100, group: 101 },
      });
    }
  }
}

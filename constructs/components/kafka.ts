import { Construct } from 'constructs';
import { KafkaMode } from '../../config';
import { effectiveReplication, pipelineTopics, PORTS } from '../../config/facts';
import { ComponentProps, componentImage, INIT_JOB_RESOURCES, ORDINAL_FROM_HOSTNAME } from './common';
import { ZooKeeper } from './zookeeper';
import { Dependency, SecretRef } from '../platform/spec';

const KAFKA_INTERNAL_PORT = PORTS.kafkaInternal;
const KAFKA_HOST_PORT = PORTS.kafka;
const KAFKA_CONTROLLER_PORT = PORTS.kafkaController;

export interface KafkaProps extends ComponentProps {
  /** The ensemble to register with; required in 'zookeeper' mode, absent in 'kraft'. @default none */
  readonly zookeeper?: ZooKeeper;
}

/**
 * A broker binds its port before it has loaded its logs and registered, so an open port is not a
 * working broker: ask it a Kafka question (ApiVersions v0, correlation id 1, over bash's
 * /dev/tcp) and require correlation id 1 and error code 0 in the answer.
 */
const BROKER_ANSWERS = `exec 3<>/dev/tcp/127.0.0.1/${KAFKA_INTERNAL_PORT} && printf '\\x00\\x00\\x00\\x0f\\x00\\x12\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x05probe' >&3 ` +
  `&& [ "$(head -c 10 <&3 | od -An -tx1 | tr -d ' \\n' | cut -c9-20)" = 000000010000 ]`;

/** A command-line tool of the broker image: on PATH in cp-kafka (ZooKeeper mode), a script under /opt/kafka/bin in apache/kafka. */
export function kafkaTool(mode: KafkaMode, name: string): string {
  return mode === 'zookeeper' ? name : `/opt/kafka/bin/${name}.sh`;
}

/** Kafka brokers plus the init job that makes the pipeline's topics (auto-create is off). */
export class Kafka extends Construct {
  readonly service = 'kafka';
  readonly mode: KafkaMode;
  /** `host:port` inside the network. */
  readonly bootstrapServers: string;
  /** `localhost:<port>` for clients on the Docker host; broker i is advertised at `localhost:<port + i>`. */
  readonly hostBootstrapServers: string;
  /** The users topic and its dead-letter topic. */
  readonly topic: string;
  readonly deadLetterTopic: string;
  /** Name of the job that creates the topics; consumers wait for it to complete. */
  readonly topicsJob = 'kafka-topics';
  /** Brokers actually running on this platform. */
  readonly brokers: number;

  constructor(scope: Construct, id: string, props: KafkaProps) {
    super(scope, id);
    const { platform, config } = props;
    const k = config.kafka;
    this.mode = k.mode;
    if (k.mode === 'zookeeper' && !props.zookeeper) throw new Error("kafka.mode 'zookeeper' needs the ZooKeeper component");
    if (k.mode === 'kraft' && props.zookeeper) throw new Error("kafka.mode 'kraft' runs without ZooKeeper; do not pass one");
    this.brokers = platform.replicasFor('stateful', k.replicas);
    this.bootstrapServers = `${this.service}:${KAFKA_INTERNAL_PORT}`;
    this.hostBootstrapServers = `localhost:${k.hostPort}`;
    this.topic = k.topic.name;
    this.deadLetterTopic = k.topic.deadLetterName;
    const internalRf = String(effectiveReplication(3, this.brokers));
    const minIsr = String(effectiveReplication(2, this.brokers - 1));
    // Each mode has its own drop-in locally: cp-kafka's stand-in (images/kafka), apache/kafka's (images/apache-kafka).
    const image = k.mode === 'zookeeper' ? componentImage(config, 'kafka', k.zookeeperModeImage) : componentImage(config, 'apache-kafka', k.kraftModeImage);
    const heap = `-Xms${k.resources.heapMiB}m -Xmx${k.resources.heapMiB}m`;
    // Each broker needs an address of its own on the host listener (one shared address is
    // registered by the first broker and refused to the others): broker `ord` is localhost at the
    // host port + ord, which a port-forward to that broker's pod (or Docker's one published port) serves.
    const advertise = `export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://$RTDS_SELF_HOST:${KAFKA_INTERNAL_PORT},PLAINTEXT_HOST://localhost:$((${k.hostPort || KAFKA_HOST_PORT} + ord))"`;

    const common: Record<string, string> = {
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: internalRf,
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: internalRf,
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: minIsr,
      KAFKA_MIN_INSYNC_REPLICAS: minIsr,
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_LOG_DIRS: '/var/lib/kafka/data',
      KAFKA_HEAP_OPTS: heap,
    };
    let env: Record<string, string>;
    let command: string[];
    let secretEnv: Record<string, SecretRef> = {};
    const dependsOn: Dependency[] = [];
    if (k.mode === 'zookeeper') {
      env = {
        ...common,
        KAFKA_ZOOKEEPER_CONNECT: props.zookeeper!.connect,
        KAFKA_LISTENERS: `PLAINTEXT://0.0.0.0:${KAFKA_INTERNAL_PORT},PLAINTEXT_HOST://0.0.0.0:${KAFKA_HOST_PORT}`,
        KAFKA_CONFLUENT_SUPPORT_METRICS_ENABLE: 'false',
      };
      // Broker id and advertised name come from the pod ordinal / host, known only at start.
      command = ['bash', '-c', `${ORDINAL_FROM_HOSTNAME}; export KAFKA_BROKER_ID=$ord; ${advertise}; exec /etc/confluent/docker/run`];
      dependsOn.push({ service: props.zookeeper!.service, condition: 'healthy' });
    } else {
      const clusterId = platform.secret('kafka-cluster', { id: { generate: 'cluster-id' } });
      const voters = Array.from({ length: this.brokers }, (_, i) => `${i}@${platform.peerHost(this.service, i)}:${KAFKA_CONTROLLER_PORT}`);
      env = {
        ...common,
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: voters.join(','),
        KAFKA_LISTENERS: `PLAINTEXT://:${KAFKA_INTERNAL_PORT},CONTROLLER://:${KAFKA_CONTROLLER_PORT},PLAINTEXT_HOST://:${KAFKA_HOST_PORT}`,
      };
      secretEnv = { CLUSTER_ID: clusterId.ref('id') };
      command = ['bash', '-c', `${ORDINAL_FROM_HOSTNAME}; export KAFKA_NODE_ID=$ord; ${advertise}; exec /etc/kafka/docker/run`];
    }

    platform.add({
      name: this.service,
      component: 'kafka',
      kind: 'stateful',
      image,
      command,
      env,
      secretEnv,
      selfHostEnv: 'RTDS_SELF_HOST',
      ports: [
        { name: 'internal', containerPort: KAFKA_INTERNAL_PORT },
        { name: 'host', containerPort: KAFKA_HOST_PORT, hostPort: k.hostPort },
        ...(k.mode === 'kraft' ? [{ name: 'controller', containerPort: KAFKA_CONTROLLER_PORT }] : []),
      ],
      volumes: [{ kind: 'persistent', name: 'data', mountPath: '/var/lib/kafka/data', sizeGiB: k.storageGiB }],
      health: { probe: { command: ['bash', '-c', BROKER_ANSWERS] }, startPeriodSeconds: 60 },
      resources: k.resources,
      replicas: k.replicas,
      // KRaft voters (and brokers registering with ZooKeeper) must all start to form the cluster.
      parallelStart: true,
      runAs: { user: 1000, group: 1000 },
      dependsOn,
    });

    const topicsTool = kafkaTool(k.mode, 'kafka-topics');
    const rf = effectiveReplication(k.topic.replicationFactor, this.brokers);
    const create = pipelineTopics(k.topic).map(({ topic, partitions }) =>
      `${topicsTool} --bootstrap-server ${this.bootstrapServers} --create --if-not-exists --topic ${topic} ` +
      `--partitions ${partitions} --replication-factor ${rf}`);
    platform.add({
      name: this.topicsJob,
      component: 'kafka',
      kind: 'job',
      image,
      command: ['bash', '-c', `set -e; ${create.join('; ')}; ${topicsTool} --bootstrap-server ${this.bootstrapServers} --describe --topic ${this.topic}`],
      // The CLI tools read KAFKA_HEAP_OPTS too; a small heap keeps the job inside its limit.
      env: { KAFKA_HEAP_OPTS: '-Xmx256m' },
      resources: INIT_JOB_RESOURCES,
      runAs: { user: 1000, group: 1000 },
      dependsOn: [{ service: this.service, condition: 'healthy' }],
    });
  }
}

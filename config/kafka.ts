import { DEAD_LETTER_TOPIC, DEFAULT_PARTITIONS, HOST_PORTS, UPSTREAM_IMAGES, USERS_TOPIC } from './facts';
import { checkJvmFits, checkOneOf, JvmResources, Problem } from './rules';

/** How Kafka keeps its cluster metadata. */
export type KafkaMode = 'zookeeper' | 'kraft';
export const KAFKA_MODES: readonly KafkaMode[] = ['zookeeper', 'kraft'];

export interface KafkaTopicConfig {
  /** @default USERS_TOPIC (config/facts/topics.ts) */
  readonly name: string;
  /** Where the Spark job sends records it cannot decode; it gets `partitions` too. @default DEAD_LETTER_TOPIC */
  readonly deadLetterName: string;
  /** Partitions of both topics, on every platform and locally. @default 3 */
  readonly partitions: number;
  /** Replication factor on Kubernetes; Docker runs one broker and uses 1. @default 3 */
  readonly replicationFactor: number;
}

export interface KafkaConfig {
  /** 'zookeeper' (Confluent cp-kafka on ZooKeeper, as the seed) or 'kraft' (apache/kafka 4, no ZooKeeper). @default 'zookeeper' */
  readonly mode: KafkaMode;
  /** Broker image in ZooKeeper mode. @default 'confluentinc/cp-kafka:<Confluent Platform>' */
  readonly zookeeperModeImage: string;
  /** Broker image in KRaft mode. @default 'apache/kafka:<Kafka KRaft>' */
  readonly kraftModeImage: string;
  /** Host port of the PLAINTEXT_HOST listener: broker i is advertised as localhost:<port + i> (Docker publishes broker 0's); 0 = not published. @default 9092 */
  readonly hostPort: number;
  /** Brokers on Kubernetes; Docker runs one. @default 3 */
  readonly replicas: number;
  readonly topic: KafkaTopicConfig;
  /** @default { cpu: 1, memoryMiB: 1536, heapMiB: 768, requests: { cpu: 0.1, memoryMiB: 512 } } */
  readonly resources: JvmResources;
  /** @default 5 */
  readonly storageGiB: number;
}

export const KAFKA_DEFAULTS: KafkaConfig = {
  mode: 'zookeeper',
  zookeeperModeImage: UPSTREAM_IMAGES.kafka,
  kraftModeImage: UPSTREAM_IMAGES.kafkaKraft,
  hostPort: HOST_PORTS.kafka,
  replicas: 3,
  topic: { name: USERS_TOPIC, deadLetterName: DEAD_LETTER_TOPIC, partitions: DEFAULT_PARTITIONS, replicationFactor: 3 },
  resources: { cpu: 1, memoryMiB: 1536, heapMiB: 768, requests: { cpu: 0.1, memoryMiB: 512 } },
  storageGiB: 5,
};

export function validateKafka(k: KafkaConfig, bad: Problem): void {
  checkOneOf('kafka.mode', k.mode, KAFKA_MODES, bad);
  if (k.topic.replicationFactor > k.replicas)
    bad('kafka.topic.replicationFactor', k.topic.replicationFactor, `cannot exceed kafka.replicas (${k.replicas})`);
  for (const [field, value] of [['kafka.topic.name', k.topic.name], ['kafka.topic.deadLetterName', k.topic.deadLetterName]] as const) {
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(value)) bad(field, value, 'must be a Kafka topic name (letters, digits, . _ -)');
  }
  if (k.topic.name === k.topic.deadLetterName) bad('kafka.topic.deadLetterName', k.topic.deadLetterName, 'must differ from kafka.topic.name');
  // Broker i is advertised on the host listener at hostPort + i (a port-forward per broker on Kubernetes).
  if (k.hostPort + k.replicas - 1 > 65535)
    bad('kafka.hostPort', k.hostPort, `leaves no port for broker ${k.replicas - 1}: brokers are advertised at hostPort + their ordinal`);
  checkJvmFits('kafka', k.resources, bad);
}

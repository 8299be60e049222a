import type { Kafka as KafkaJs, Producer as KafkaJsProducer } from 'kafkajs';
import { murmur2 } from 'murmurhash-js';

/**
 * The one place that knows which Kafka client the workloads use. The choice was made by
 * bench/kafka-client (figures in docs/WORKLOADS.md); the other adapter stays for the bench.
 */
export type KafkaClientName = 'kafkajs' | 'platformatic';

/** The client picked by bench/kafka-client (see docs/WORKLOADS.md for the figures). */
export const CHOSEN_KAFKA_CLIENT: KafkaClientName = 'platformatic';

export interface KeyedMessage {
  readonly key: string;
  readonly value: Buffer;
}

/** A producer that returns only once every broker in the ISR acknowledged (acks=all). */
export interface UsersProducer {
  readonly client: KafkaClientName;
  send(topic: string, messages: readonly KeyedMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerProps {
  /** `host:port` list. */
  readonly bootstrapServers: readonly string[];
  /** Client id shown in broker logs. @default 'rtdatastream' */
  readonly clientId?: string;
  /** Which client library. @default CHOSEN_KAFKA_CLIENT */
  readonly client?: KafkaClientName;
}

async function kafkajsProducer(props: ProducerProps): Promise<UsersProducer> {
  // Loaded lazily so that a process using the other client never pays for this one.
  const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');
  const kafka: KafkaJs = new Kafka({ clientId: props.clientId ?? 'rtdatastream', brokers: [...props.bootstrapServers], logLevel: logLevel.ERROR });
  const producer: KafkaJsProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    client: 'kafkajs',
    async send(topic, messages) {
      await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
    },
    close: () => producer.disconnect(),
  };
}

/** The seed of Kafka's murmur2 (the Java client's Utils.murmur2), which the client's default partitioner uses too. */
const KAFKA_MURMUR2_SEED = 0x9747b28c;

/**
 * The partition of a keyed message exactly as @platformatic/kafka's default partitioner picks it
 * (murmur2 of the key's bytes, unsigned; the client takes it modulo the partitions), with
 * murmurhash-js's murmur2: the client's own, on BigInt, took 5 % of the relay's CPU (profile of
 * the bench's relay round, docs/BENCHMARKS.md). murmurhash-js hashes char codes, so the key goes
 * in as is when each character is one byte and as its bytes in latin1 otherwise. A message
 * without a key would go to partition 0 (the client's own would take turns); every message the
 * workloads send is keyed by the user's id (`KeyedMessage`).
 */
export function partitionForKey(key: string | Buffer | undefined, keyBytes: Buffer | undefined): number {
  if (typeof key === 'string' && keyBytes !== undefined && key.length === keyBytes.length) return murmur2(key, KAFKA_MURMUR2_SEED);
  return keyBytes === undefined ? 0 : murmur2(keyBytes.toString('latin1'), KAFKA_MURMUR2_SEED);
}

async function platformaticProducer(props: ProducerProps): Promise<UsersProducer> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) throw new Error(`@platformatic/kafka needs Node 22 or later, this is Node ${process.versions.node}: run with the project's Node (npx node ..., npm run ...) or the workloads image`);
  // An ES module: Node 24 loads it with require(); lazy so jest never needs to.
  const { Producer, stringSerializer } = require('@platformatic/kafka') as typeof import('@platformatic/kafka');
  const producer = new Producer<string, Buffer, string, string>({
    clientId: props.clientId ?? 'rtdatastream',
    bootstrapBrokers: [...props.bootstrapServers],
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
    serializers: { key: stringSerializer, value: (v?: Buffer) => v, headerKey: stringSerializer, headerValue: stringSerializer },
    partitioner: (message, keyBytes) => partitionForKey(message.key, keyBytes),
  });
  return {
    client: 'platformatic',
    async send(topic, messages) {
      await producer.send({ messages: messages.map((m) => ({ topic, key: m.key, value: m.value })) });
    },
    close: () => producer.close(),
  };
}

export function connectProducer(props: ProducerProps): Promise<UsersProducer> {
  const client = props.client ?? CHOSEN_KAFKA_CLIENT;
  return client === 'kafkajs' ? kafkajsProducer(props) : platformaticProducer(props);
}

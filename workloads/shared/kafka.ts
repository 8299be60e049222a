import type { Kafka as KafkaJs, Producer as KafkaJsProducer } from 'kafkajs';

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

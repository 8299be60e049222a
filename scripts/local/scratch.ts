// Databases and topics of one's own on the local services, for the bench and the tests: made
// fresh (migrated, with the pipeline's partitions) and dropped afterwards.
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { TopicToCreate } from '../../config/facts';
import { migratePostgres } from '../../workloads/migrate/postgres';
import { PostgresConfig } from '../../workloads/shared/config';
import { LocalEndpoints, localPipelineConfig } from '../services/endpoints';

/** A client of the PostgreSQL superuser (creating and dropping databases). */
export function superuserClient(e: LocalEndpoints, database = 'postgres'): Client {
  return new Client({ host: e.postgres.host, port: e.postgres.port, user: e.postgres.superuser.user, password: e.postgres.superuser.password, database });
}

async function asSuperuser(e: LocalEndpoints, ...sql: string[]): Promise<void> {
  const admin = superuserClient(e);
  await admin.connect();
  try {
    for (const statement of sql) await admin.query(statement);
  } finally {
    await admin.end();
  }
}

export interface ScratchDatabase {
  readonly cfg: PostgresConfig;
  drop(): Promise<void>;
}

/** A migrated database owned by the pipeline's role (one left by an interrupted run is replaced). */
export async function scratchDatabase(e: LocalEndpoints, name: string): Promise<ScratchDatabase> {
  await asSuperuser(e, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name} OWNER ${e.postgres.user}`);
  const cfg = { host: e.postgres.host, port: e.postgres.port, user: e.postgres.user, password: e.postgres.password, database: name };
  await migratePostgres(cfg);
  return { cfg, drop: () => asSuperuser(e, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export function kafkaAdminClient(e: LocalEndpoints, clientId = 'rtds-scratch'): Kafka {
  return new Kafka({ clientId, brokers: e.kafka.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
}

/** The partitions the pipeline's topics get (kafka.topic.partitions), so scratch topics behave like them. */
export function pipelinePartitions(): number {
  return localPipelineConfig().kafka.topic.partitions;
}

/** Creates topics (the broker auto-creates none) and checks they exist. */
export async function scratchTopics(kafka: Kafka, topics: readonly TopicToCreate[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })), waitForLeaders: true });
    const present = new Set(await admin.listTopics());
    const absent = topics.filter((t) => !present.has(t.topic)).map((t) => t.topic);
    if (absent.length > 0) throw new Error(`Kafka did not create the topics ${absent.join(', ')}`);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics, quietly when they are already gone. */
export async function deleteTopics(kafka: Kafka, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...names] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

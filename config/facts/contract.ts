// The environment contract between the services: the variable names every workload, the Spark
// job and the DAG read, the same on Docker, on Kubernetes and locally (docs/DEVELOPERS.md).
// The stacks' components and the local services build these maps here; workloads/shared/config.ts
// reads them by the same names.

/** Every variable of the contract, by what it carries. */
export const ENV = {
  pgHost: 'PGHOST',
  pgPort: 'PGPORT',
  pgDatabase: 'PGDATABASE',
  pgUser: 'PGUSER',
  pgPassword: 'PGPASSWORD',
  kafkaBootstrapServers: 'KAFKA_BOOTSTRAP_SERVERS',
  schemaRegistryUrl: 'SCHEMA_REGISTRY_URL',
  kafkaTopic: 'KAFKA_TOPIC',
  deadLetterTopic: 'DEAD_LETTER_TOPIC',
  cassandraContactPoints: 'CASSANDRA_CONTACT_POINTS',
  /** The Spark job's name for the contact points (the connector's setting is a host list). */
  cassandraHost: 'CASSANDRA_HOST',
  cassandraPort: 'CASSANDRA_PORT',
  cassandraUsername: 'CASSANDRA_USERNAME',
  cassandraPassword: 'CASSANDRA_PASSWORD',
  cassandraLocalDc: 'CASSANDRA_LOCAL_DC',
  cassandraKeyspace: 'CASSANDRA_KEYSPACE',
  cassandraReplicationFactor: 'CASSANDRA_REPLICATION_FACTOR',
  randomuserUrl: 'RANDOMUSER_URL',
  httpPort: 'HTTP_PORT',
  nodeOptions: 'NODE_OPTIONS',
  checkpointDir: 'CHECKPOINT_DIR',
  ingestUrl: 'INGEST_URL',
  usersPerRun: 'PIPELINE_USERS_PER_RUN',
  schedule: 'PIPELINE_SCHEDULE',
  maxLagRows: 'PIPELINE_MAX_LAG_ROWS',
} as const;

/**
 * V8 flags of the long-running Node workloads, by the workload command's first word, wherever they
 * run (containers, pods, `npm run local`, the bench's memory round).
 *
 * Both: the young generation's semi-spaces capped at 4 MiB, so the heap is at its working size after
 * the first pages instead of growing with the run. The bench's memory round (fresh processes,
 * 100,000 then 1,000,000 users) measured peaks of ingest 426 → 488 MB and relay 366 → 362 MB
 * without it, and 331 → 348 MB and 299 → 325 MB with it (docs/BENCHMARKS.md).
 *
 * The relay: old space capped at 128 MiB. It holds two batches of 2,000 rows at most, yet V8 let its
 * heap grow with the run's garbage (peaks 290–346 MB, ×0.99–×1.23 from 100,000 to 1,000,000 users
 * across runs, still growing when the smaller run ended). Capped: 185 → 190 MB (×1.03) in a scratch
 * run, 171 → 190 MB (×1.11, the smaller run ending before its plateau) in the full bench. The ingest
 * is left uncapped: with both capped, the million-user run, whose length is the ingest's, took 18 %
 * longer (its pages are 5 MB of JSON each), and its peaks were already flat (399 → 402 MB).
 */
export const WORKLOAD_NODE_OPTIONS = {
  ingest: '--max-semi-space-size=4',
  relay: '--max-semi-space-size=4 --max-old-space-size=128',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
export type EnvMap = Record<string, string>;

/** Where a libpq client connects (the password travels apart, as a secret). */
export interface PostgresClient {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

export function postgresClientEnv(p: PostgresClient): EnvMap {
  return { [ENV.pgHost]: p.host, [ENV.pgPort]: String(p.port), [ENV.pgDatabase]: p.database, [ENV.pgUser]: p.user };
}

/** Where the relay (and register-schema, and the DAG's check) finds Kafka and the registry. */
export interface KafkaClient {
  /** `host:port[,host:port]`. */
  readonly bootstrapServers: string;
  /** Confluent-compatible API base URL, used as given. */
  readonly schemaRegistryUrl: string;
  readonly topic: string;
}

export function kafkaClientEnv(k: KafkaClient): EnvMap {
  return { [ENV.kafkaBootstrapServers]: k.bootstrapServers, [ENV.schemaRegistryUrl]: k.schemaRegistryUrl, [ENV.kafkaTopic]: k.topic };
}

/** Where a Cassandra client connects (password apart). */
export interface CassandraClient {
  /** Comma-separated hosts. */
  readonly contactPoints: string;
  readonly port: number;
  readonly username: string;
  readonly localDataCenter: string;
  /** For the migration and the DAG's count. @default not set */
  readonly keyspace?: string;
  /** Keyspace replication the migration creates. @default not set */
  readonly replicationFactor?: number;
}

export function cassandraClientEnv(c: CassandraClient): EnvMap {
  return {
    [ENV.cassandraContactPoints]: c.contactPoints,
    [ENV.cassandraPort]: String(c.port),
    [ENV.cassandraUsername]: c.username,
    [ENV.cassandraLocalDc]: c.localDataCenter,
    ...(c.keyspace === undefined ? {} : { [ENV.cassandraKeyspace]: c.keyspace }),
    ...(c.replicationFactor === undefined ? {} : { [ENV.cassandraReplicationFactor]: String(c.replicationFactor) }),
  };
}

/** What spark-apps/users_stream.py reads (password apart). */
export interface UsersStreamSettings {
  readonly kafka: KafkaClient;
  readonly deadLetterTopic: string;
  readonly cassandra: Pick<CassandraClient, 'contactPoints' | 'port' | 'username' | 'localDataCenter'>;
  readonly checkpointDir: string;
}

export function usersStreamEnv(s: UsersStreamSettings): EnvMap {
  return {
    ...kafkaClientEnv(s.kafka),
    [ENV.deadLetterTopic]: s.deadLetterTopic,
    [ENV.cassandraHost]: s.cassandra.contactPoints,
    [ENV.cassandraPort]: String(s.cassandra.port),
    [ENV.cassandraUsername]: s.cassandra.username,
    [ENV.cassandraLocalDc]: s.cassandra.localDataCenter,
    [ENV.checkpointDir]: s.checkpointDir,
  };
}

/** What dags/user_pipeline.py reads besides the clients' variables. */
export interface DagSettings {
  readonly ingestUrl: string;
  readonly usersPerRun: number;
  readonly schedule: string;
  readonly maxLagRows: number;
}

export function dagEnv(d: DagSettings): EnvMap {
  return {
    [ENV.ingestUrl]: d.ingestUrl,
    [ENV.usersPerRun]: String(d.usersPerRun),
    [ENV.schedule]: d.schedule,
    [ENV.maxLagRows]: String(d.maxLagRows),
  };
}

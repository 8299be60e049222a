// The pipeline's Kafka topics: names and how many partitions each gets, for the stacks' topics
// job, the local services, the local pipeline command and the bench alike.

/** The topic the relay writes and the Spark job reads. */
export const USERS_TOPIC = 'users_created';
/** Where the Spark job sends records it cannot decode. */
export const DEAD_LETTER_TOPIC = 'users_created_dlq';
/** Partitions of the users topic unless the config says otherwise (kafka.topic.partitions). */
export const DEFAULT_PARTITIONS = 3;

/** The Cassandra table the Spark job upserts into, and its keyspace. */
export const CASSANDRA_KEYSPACE = 'spark_streams';
export const CASSANDRA_TABLE = 'created_users';
/** Cassandra's own name for a single data center: the stacks, the local services and the clients' default. */
export const CASSANDRA_DATA_CENTER = 'datacenter1';

export interface TopicSettings {
  readonly name: string;
  readonly deadLetterName: string;
  readonly partitions: number;
}

export interface TopicToCreate {
  readonly topic: string;
  readonly partitions: number;
}

/**
 * The topics every deployment creates (auto-creation is off). The dead-letter topic gets the
 * users topic's partitions, so a burst of bad records spreads like the good ones.
 */
export function pipelineTopics(t: TopicSettings): TopicToCreate[] {
  return [
    { topic: t.name, partitions: t.partitions },
    { topic: t.deadLetterName, partitions: t.partitions },
  ];
}

/** Smaller of the requested replication and the brokers (or nodes) that really run. */
export function effectiveReplication(requested: number, replicas: number): number {
  return Math.max(1, Math.min(requested, replicas));
}

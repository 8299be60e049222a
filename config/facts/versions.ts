// Every component version the project pins, once. The stacks' default images, the local
// services, the local image builds (Dockerfile ARGs) and the deploy tooling read them here;
// test/unit/facts.test.ts fails when one of these literals appears anywhere else.

export const VERSIONS = {
  /** Confluent Platform of the ZooKeeper-mode images: cp-zookeeper, cp-kafka, cp-schema-registry, Control Center. */
  confluentPlatform: '7.9.2',
  /** The Apache Kafka release Confluent Platform 7.9 is built on: the local ZooKeeper-mode broker, the local images, kafka-tools. */
  kafka: '3.9.1',
  /** Apache Kafka in KRaft mode (no ZooKeeper). */
  kafkaKraft: '4.1.1',
  /** PostgreSQL of the stacks, in both image modes. */
  postgres: '17.12',
  /** PostgreSQL of the local services: the Debian package's major version. */
  postgresLocal: '15',
  cassandra: '5.0.6',
  spark: '3.5.7',
  airflow: '3.3.2',
  /** The Python Airflow's constraints file is resolved for. */
  airflowPython: '3.11',
  /** Node.js of the workloads image and of the project's own scripts (the `node` devDependency). */
  node: '24.21.0',
  /** npm shipped in the local node image. */
  npm: '11.6.2',
  /** The Schema Registry of the local services and of the local images. */
  apicurio: '2.4.2.Final',
  kafkaUi: 'v1.2.0',
  /** Maven plugin that resolves every jar set (local services, local images, the Spark connector jars). */
  mavenDependencyPlugin: '3.8.1',
  /** Logging bridges the Kafka distributions ship: 3.9 logs to reload4j, 4.x to log4j 2. */
  slf4jReload4j: '1.7.36',
  log4jSlf4j: '2.24.3',
} as const;

const V = VERSIONS;

/** The official images the stacks pull in imageMode 'upstream' (the defaults of the config's image fields). */
export const UPSTREAM_IMAGES = {
  zookeeper: `confluentinc/cp-zookeeper:${V.confluentPlatform}`,
  kafka: `confluentinc/cp-kafka:${V.confluentPlatform}`,
  kafkaKraft: `apache/kafka:${V.kafkaKraft}`,
  schemaRegistry: `confluentinc/cp-schema-registry:${V.confluentPlatform}`,
  controlCenter: `confluentinc/cp-enterprise-control-center:${V.confluentPlatform}`,
  kafkaUi: `kafbat/kafka-ui:${V.kafkaUi}`,
  postgres: `postgres:${V.postgres}`,
  airflow: `apache/airflow:${V.airflow}-python${V.airflowPython}`,
  spark: `apache/spark:${V.spark}-scala2.12-java17-python3-ubuntu`,
  cassandra: `cassandra:${V.cassandra}`,
  /** What workloads/Dockerfile builds FROM (NODE_IMAGE). */
  node: `node:${V.node}-bookworm-slim`,
} as const;

/** The constraints every Airflow Python package is installed with, relative to the repository. */
export const AIRFLOW_CONSTRAINTS = `constraints/airflow-${V.airflow}-py${V.airflowPython}.txt`;

/** A Maven artifact, `groupId:artifactId` at a version. */
export interface MavenArtifact {
  readonly groupId: string;
  readonly artifactId: string;
  readonly version: string;
}

/**
 * The Kafka release each mode runs: `jars` is the broker (the local services run it) with the
 * logging bridge its distribution ships; `tools` adds the command-line tools (TopicCommand,
 * ProducerPerformance, MetadataQuorumCommand), which the broker jar does not depend on.
 */
export const KAFKA_RELEASES: Readonly<Record<'zookeeper' | 'kraft', { readonly version: string; readonly jars: readonly MavenArtifact[]; readonly tools: readonly MavenArtifact[] }>> = {
  zookeeper: {
    version: V.kafka,
    jars: [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: V.kafka },
      { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: V.slf4jReload4j },
    ],
    tools: [
      { groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version: V.kafka },
      { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: V.slf4jReload4j },
    ],
  },
  kraft: {
    version: V.kafkaKraft,
    jars: [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: V.kafkaKraft },
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: V.log4jSlf4j },
    ],
    tools: [{ groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version: V.kafkaKraft }],
  },
};

/** kafka-tools of the ZooKeeper-mode release: the bench and the local confluent layer use it. */
export const KAFKA_TOOLS: readonly MavenArtifact[] = KAFKA_RELEASES.zookeeper.tools;

/** Cassandra's jars, for the local service and the local image. */
export const CASSANDRA_JARS: readonly MavenArtifact[] = [
  { groupId: 'org.apache.cassandra', artifactId: 'cassandra-all', version: V.cassandra },
];

/** `org.apache.maven.plugins:maven-dependency-plugin:<v>:copy-dependencies`. */
export const COPY_DEPENDENCIES = `org.apache.maven.plugins:maven-dependency-plugin:${V.mavenDependencyPlugin}:copy-dependencies`;

/**
 * The build arguments each local image (images/<dir>/Dockerfile, imageMode 'local') is built with:
 * the Dockerfiles declare these ARGs without defaults, so the versions live here only.
 */
export const LOCAL_IMAGE_ARGS = {
  zookeeper: { CONFLUENT_VERSION: V.confluentPlatform },
  kafka: { CONFLUENT_VERSION: V.confluentPlatform },
  /** The KRaft-mode broker (apache/kafka): Kafka 4 from the apache-kafka-jars layer images.ts builds. */
  'apache-kafka': { KAFKA_VERSION: V.kafkaKraft },
  'schema-registry': { CONFLUENT_VERSION: V.confluentPlatform, APICURIO_VERSION: V.apicurio },
  postgres: { PG_VERSION: V.postgres },
  cassandra: { CASSANDRA_VERSION: V.cassandra },
  spark: { SPARK_VERSION: V.spark },
  airflow: { AIRFLOW_VERSION: V.airflow },
  'kafka-ui': {},
} as const satisfies Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The version each local image stands in for: its tag, and what images.ts builds its shared layers for. */
export const LOCAL_IMAGE_VERSIONS: Readonly<Record<string, string>> = {
  zookeeper: V.confluentPlatform,
  kafka: V.confluentPlatform,
  'apache-kafka': V.kafkaKraft,
  'schema-registry': V.confluentPlatform,
  postgres: V.postgres,
  cassandra: V.cassandra,
  spark: V.spark,
  airflow: V.airflow,
  'kafka-ui': V.kafkaUi,
};

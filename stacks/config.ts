import * as fs from 'fs';
import * as path from 'path';

/** How Kafka keeps its cluster metadata. */
export type KafkaMode = 'zookeeper' | 'kraft';
/** Which web console watches Kafka; 'none' deploys no console. */
export type ConsoleKind = 'control-center' | 'kafka-ui' | 'none';
/** Where component images come from. */
export type ImageMode = 'upstream' | 'local';
/** Where credentials come from. */
export type SecretSource = 'generate' | 'variables';

/** CPU and memory one container may use (limits; requests are derived from them). */
export interface Resources {
  /** CPU cores, fractional allowed. */
  readonly cpu: number;
  /** Memory limit in MiB. */
  readonly memoryMiB: number;
}

/** Resources of a JVM service: the heap must fit inside the memory limit with room for the JVM itself. */
export interface JvmResources extends Resources {
  /** -Xmx in MiB. */
  readonly heapMiB: number;
}

export interface ZooKeeperConfig {
  /** @default 'confluentinc/cp-zookeeper:7.9.2' */
  readonly image: string;
  /** Host port the client port is published on (Docker); 0 = not published. @default 2181 */
  readonly hostPort: number;
  /** Ensemble size on Kubernetes (odd); Docker runs one. @default 3 */
  readonly replicas: number;
  /** @default { cpu: 0.5, memoryMiB: 768, heapMiB: 256 } */
  readonly resources: JvmResources;
  /** Data volume size (Kubernetes PVC). @default 2 */
  readonly storageGiB: number;
}

export interface KafkaTopicConfig {
  /** @default 'users_created' */
  readonly name: string;
  /** Where the Spark job sends records it cannot decode. @default 'users_created_dlq' */
  readonly deadLetterName: string;
  /** @default 3 */
  readonly partitions: number;
  /** Replication factor on Kubernetes; Docker runs one broker and uses 1. @default 3 */
  readonly replicationFactor: number;
}

export interface KafkaConfig {
  /** 'zookeeper' (Confluent cp-kafka on ZooKeeper, as the seed) or 'kraft' (apache/kafka 4, no ZooKeeper). @default 'zookeeper' */
  readonly mode: KafkaMode;
  /** Broker image in ZooKeeper mode. @default 'confluentinc/cp-kafka:7.9.2' */
  readonly zookeeperModeImage: string;
  /** Broker image in KRaft mode. @default 'apache/kafka:4.1.1' */
  readonly kraftModeImage: string;
  /** Host port of the PLAINTEXT_HOST listener (advertised as localhost:<port>); 0 = not published. @default 9092 */
  readonly hostPort: number;
  /** Brokers on Kubernetes; Docker runs one. @default 3 */
  readonly replicas: number;
  readonly topic: KafkaTopicConfig;
  /** @default { cpu: 1, memoryMiB: 1536, heapMiB: 768 } */
  readonly resources: JvmResources;
  /** @default 5 */
  readonly storageGiB: number;
}

export interface SchemaRegistryConfig {
  /** @default 'confluentinc/cp-schema-registry:7.9.2' */
  readonly image: string;
  /** @default 8081 */
  readonly hostPort: number;
  /** @default { cpu: 0.5, memoryMiB: 768, heapMiB: 256 } */
  readonly resources: JvmResources;
}

export interface ConsoleConfig {
  /**
   * 'control-center' (Confluent, commercially licensed; free for a single-broker developer setup),
   * 'kafka-ui' (kafbat, Apache-2.0) or 'none' (no console; the only choice with imageMode 'local'
   * unless a kafka-ui image is provided). @default 'control-center'
   */
  readonly kind: ConsoleKind;
  /** @default 'confluentinc/cp-enterprise-control-center:7.9.2' */
  readonly controlCenterImage: string;
  /** @default 'kafbat/kafka-ui:v1.2.0' */
  readonly kafkaUiImage: string;
  /** @default 9021 */
  readonly hostPort: number;
  /** @default { cpu: 1, memoryMiB: 2048, heapMiB: 1024 } */
  readonly resources: JvmResources;
}

export interface PostgresConfig {
  /** @default 'postgres:17.12' */
  readonly image: string;
  /** @default 5432 */
  readonly hostPort: number;
  /** The pipeline's landing database. @default 'pipeline' */
  readonly landingDatabase: string;
  /** Owner of the landing database, used by ingest and relay. @default 'pipeline' */
  readonly landingUser: string;
  /** Airflow's metadata database. @default 'airflow' */
  readonly airflowDatabase: string;
  /** @default 'airflow' */
  readonly airflowUser: string;
  /** @default { cpu: 1, memoryMiB: 1024 } */
  readonly resources: Resources;
  /** @default 5 */
  readonly storageGiB: number;
}

export interface AirflowConfig {
  /** Base of the rtdatastream/airflow-app image every Airflow service runs (Python 3.11, as constraints/). @default 'apache/airflow:3.3.2-python3.11' */
  readonly image: string;
  /** Host port of the API server / UI. @default 8080 */
  readonly hostPort: number;
  /** Login of the admin user made by the init step (its password is generated). @default 'admin' */
  readonly adminUser: string;
  /** Folder (relative to the repository) baked into the airflow-app image as /opt/airflow/dags. @default 'dags' */
  readonly dagsDir: string;
  /** Users fetched per DAG run (PIPELINE_USERS_PER_RUN). @default 1000 */
  readonly usersPerRun: number;
  /** DAG schedule (PIPELINE_SCHEDULE). @default '@hourly' */
  readonly schedule: string;
  /** Landing rows not yet in Kafka above which the DAG's check fails (PIPELINE_MAX_LAG_ROWS). @default 10000 */
  readonly maxLagRows: number;
  /** Per Airflow process (api-server, scheduler, dag-processor). @default { cpu: 1, memoryMiB: 2048 } */
  readonly resources: Resources;
}

export interface SparkConfig {
  /** Base of the rtdatastream/spark-app image master, workers and driver run. @default 'apache/spark:3.5.7-scala2.12-java17-python3-ubuntu' */
  readonly image: string;
  /** Host port of the master UI. @default 8090 */
  readonly masterUiHostPort: number;
  /** Host port of the master's spark:// port. @default 7077 */
  readonly masterHostPort: number;
  /** Worker count on both platforms. @default 1 */
  readonly workers: number;
  /** Cores each worker offers. @default 1 */
  readonly workerCores: number;
  /** Memory each worker offers to executors, in MiB; must fit in resources.memoryMiB. @default 1024 */
  readonly workerMemoryMiB: number;
  /** Folder (relative to the repository) baked into the spark-app image as /opt/spark-apps. @default 'spark-apps' */
  readonly appsDir: string;
  /** The streaming application the driver submits. @default 'users_stream.py' */
  readonly app: string;
  /** Per master/worker/driver container. @default { cpu: 1, memoryMiB: 2048, heapMiB: 1024 } */
  readonly resources: JvmResources;
}

export interface CassandraConfig {
  /** @default 'cassandra:5.0.6' */
  readonly image: string;
  /** @default 9042 */
  readonly hostPort: number;
  /** Nodes on Kubernetes; Docker runs one. @default 3 */
  readonly replicas: number;
  /** @default 'datacenter1' */
  readonly dataCenter: string;
  /** @default 'spark_streams' */
  readonly keyspace: string;
  /** Role the pipeline logs in with (its password is generated). @default 'pipeline' */
  readonly pipelineUser: string;
  /** @default { cpu: 1, memoryMiB: 3072, heapMiB: 1024 } */
  readonly resources: JvmResources;
  /** @default 10 */
  readonly storageGiB: number;
}

export interface WorkloadsConfig {
  /** Image name (tag = `version`), built from workloads/Dockerfile on Docker. @default 'rtdatastream/workloads' */
  readonly image: string;
  /** @default 8000 */
  readonly ingestHostPort: number;
  /** @default 8001 */
  readonly relayHostPort: number;
  /** @default 8100 */
  readonly sourceHostPort: number;
  /** @default 1 */
  readonly ingestReplicas: number;
  /** randomuser API the ingest calls; '' = the bundled compatible source. @default '' */
  readonly randomuserUrl: string;
  /** @default { cpu: 0.5, memoryMiB: 512 } */
  readonly resources: Resources;
}

export interface KubernetesTargetConfig {
  /** @default 'rtdatastream' */
  readonly namespace: string;
  /** StorageClass of every PVC; '' = the cluster default. @default '' */
  readonly storageClass: string;
  /** kubeconfig the provider reads. @default '~/.kube/config' */
  readonly configPath: string;
  /** kubeconfig context; '' = the current one. @default '' */
  readonly configContext: string;
}

export interface DockerTargetConfig {
  /** Docker engine address. @default 'unix:///var/run/docker.sock' */
  readonly host: string;
  /** Name of the one network every container joins. @default 'rtdatastream' */
  readonly network: string;
}

/** Everything a deployment of the pipeline can vary, with one set of defaults for both targets. */
export interface PipelineConfig {
  /** Version of this project: tag of the workloads image, and the suffix of the spark-app and airflow-app tags. @default '0.1.0' */
  readonly version: string;
  /** 'upstream' = official pinned images; 'local' = every image built from images/<component>/Dockerfile. @default 'upstream' */
  readonly imageMode: ImageMode;
  /** Address host ports are published on (Docker). @default '127.0.0.1' */
  readonly hostBind: string;
  /** 'generate' = random provider passwords; 'variables' = sensitive Terraform variables (TF_VAR_<name>). @default 'generate' */
  readonly secretSource: SecretSource;
  readonly docker: DockerTargetConfig;
  readonly kubernetes: KubernetesTargetConfig;
  readonly zookeeper: ZooKeeperConfig;
  readonly kafka: KafkaConfig;
  readonly schemaRegistry: SchemaRegistryConfig;
  readonly console: ConsoleConfig;
  readonly postgres: PostgresConfig;
  readonly airflow: AirflowConfig;
  readonly spark: SparkConfig;
  readonly cassandra: CassandraConfig;
  readonly workloads: WorkloadsConfig;
}

export const DEFAULT_CONFIG: PipelineConfig = {
  version: '0.1.0',
  imageMode: 'upstream',
  hostBind: '127.0.0.1',
  secretSource: 'generate',
  docker: { host: 'unix:///var/run/docker.sock', network: 'rtdatastream' },
  kubernetes: { namespace: 'rtdatastream', storageClass: '', configPath: '~/.kube/config', configContext: '' },
  zookeeper: {
    image: 'confluentinc/cp-zookeeper:7.9.2',
    hostPort: 2181,
    replicas: 3,
    resources: { cpu: 0.5, memoryMiB: 768, heapMiB: 256 },
    storageGiB: 2,
  },
  kafka: {
    mode: 'zookeeper',
    zookeeperModeImage: 'confluentinc/cp-kafka:7.9.2',
    kraftModeImage: 'apache/kafka:4.1.1',
    hostPort: 9092,
    replicas: 3,
    topic: { name: 'users_created', deadLetterName: 'users_created_dlq', partitions: 3, replicationFactor: 3 },
    resources: { cpu: 1, memoryMiB: 1536, heapMiB: 768 },
    storageGiB: 5,
  },
  schemaRegistry: {
    image: 'confluentinc/cp-schema-registry:7.9.2',
    hostPort: 8081,
    resources: { cpu: 0.5, memoryMiB: 768, heapMiB: 256 },
  },
  console: {
    kind: 'control-center',
    controlCenterImage: 'confluentinc/cp-enterprise-control-center:7.9.2',
    kafkaUiImage: 'kafbat/kafka-ui:v1.2.0',
    hostPort: 9021,
    resources: { cpu: 1, memoryMiB: 2048, heapMiB: 1024 },
  },
  postgres: {
    image: 'postgres:17.12',
    hostPort: 5432,
    landingDatabase: 'pipeline',
    landingUser: 'pipeline',
    airflowDatabase: 'airflow',
    airflowUser: 'airflow',
    resources: { cpu: 1, memoryMiB: 1024 },
    storageGiB: 5,
  },
  airflow: {
    image: 'apache/airflow:3.3.2-python3.11',
    hostPort: 8080,
    adminUser: 'admin',
    dagsDir: 'dags',
    usersPerRun: 1000,
    schedule: '@hourly',
    maxLagRows: 10000,
    resources: { cpu: 1, memoryMiB: 2048 },
  },
  spark: {
    image: 'apache/spark:3.5.7-scala2.12-java17-python3-ubuntu',
    masterUiHostPort: 8090,
    masterHostPort: 7077,
    workers: 1,
    workerCores: 1,
    workerMemoryMiB: 1024,
    appsDir: 'spark-apps',
    app: 'users_stream.py',
    resources: { cpu: 1, memoryMiB: 2048, heapMiB: 1024 },
  },
  cassandra: {
    image: 'cassandra:5.0.6',
    hostPort: 9042,
    replicas: 3,
    dataCenter: 'datacenter1',
    keyspace: 'spark_streams',
    pipelineUser: 'pipeline',
    resources: { cpu: 1, memoryMiB: 3072, heapMiB: 1024 },
    storageGiB: 10,
  },
  workloads: {
    image: 'rtdatastream/workloads',
    ingestHostPort: 8000,
    relayHostPort: 8001,
    sourceHostPort: 8100,
    ingestReplicas: 1,
    randomuserUrl: '',
    resources: { cpu: 0.5, memoryMiB: 512 },
  },
};

/** Raised when the configuration is invalid; lists every problem, each naming the field and the value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid RTDataStream configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type Tree = { [key: string]: unknown };

const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `kafka.topic.partitions` → `RTDS_KAFKA_TOPIC_PARTITIONS`. */
export function envNameFor(fieldPath: string): string {
  return 'RTDS_' + fieldPath.replace(/([MG])iB\b/g, '$1ib').replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Every leaf field path of the config with its default, in declaration order. */
export function configFields(tree: Tree = DEFAULT_CONFIG as unknown as Tree, prefix = ''): Array<{ path: string; value: unknown }> {
  return Object.entries(tree).flatMap(([key, value]) => {
    const p = prefix ? `${prefix}.${key}` : key;
    return isTree(value) ? configFields(value, p) : [{ path: p, value }];
  });
}

function mergeFile(base: Tree, overlay: unknown, at: string, problems: string[]): Tree {
  if (!isTree(overlay)) {
    problems.push(`${at || '(config file)'}: expected an object, got ${JSON.stringify(overlay)}`);
    return base;
  }
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const p = at ? `${at}.${key}` : key;
    if (!(key in base)) {
      problems.push(`${p}: unknown field (value ${JSON.stringify(value)})`);
    } else if (isTree(base[key])) {
      out[key] = mergeFile(base[key] as Tree, value, p, problems);
    } else if (typeof value !== typeof base[key]) {
      problems.push(`${p}: expected a ${typeof base[key]}, got ${JSON.stringify(value)}`);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function setPath(tree: Tree, fieldPath: string, value: unknown): Tree {
  const [head, ...rest] = fieldPath.split('.');
  return { ...tree, [head]: rest.length ? setPath(tree[head] as Tree, rest.join('.'), value) : value };
}

function applyEnv(base: Tree, env: NodeJS.ProcessEnv, problems: string[]): Tree {
  let out = base;
  for (const { path: fieldPath, value: defaultValue } of configFields()) {
    const name = envNameFor(fieldPath);
    const raw = env[name];
    if (raw === undefined) continue;
    if (typeof defaultValue === 'number') {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) {
        problems.push(`${fieldPath} (from ${name}): expected a number, got ${JSON.stringify(raw)}`);
        continue;
      }
      out = setPath(out, fieldPath, n);
    } else if (typeof defaultValue === 'boolean') {
      if (raw !== 'true' && raw !== 'false') {
        problems.push(`${fieldPath} (from ${name}): expected true or false, got ${JSON.stringify(raw)}`);
        continue;
      }
      out = setPath(out, fieldPath, raw === 'true');
    } else {
      out = setPath(out, fieldPath, raw);
    }
  }
  return out;
}

export interface LoadConfigOptions {
  /** Environment to read RTDS_* overrides and RTDS_CONFIG from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory a relative RTDS_CONFIG and the default rtds.config.json are resolved against. @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Defaults, then the JSON config file (RTDS_CONFIG, else ./rtds.config.json if present),
 * then RTDS_* environment variables; validated before it is returned.
 */
export function loadConfig(options: LoadConfigOptions = {}): PipelineConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  let tree = DEFAULT_CONFIG as unknown as Tree;
  const explicit = env.RTDS_CONFIG;
  const file = path.resolve(cwd, explicit || 'rtds.config.json');
  if (explicit || fs.existsSync(file)) {
    let parsed: Json;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
    } catch (err) {
      throw new ConfigError([`RTDS_CONFIG: cannot read ${file}: ${(err as Error).message}`]);
    }
    tree = mergeFile(tree, parsed, '', problems);
  }
  tree = applyEnv(tree, env, problems);
  if (problems.length) throw new ConfigError(problems);
  return validateConfig(tree as unknown as PipelineConfig);
}

/** Builds a config from defaults plus a partial overlay (tests, programmatic use), validated. */
export function configWith(overlay: DeepPartial<PipelineConfig> = {}): PipelineConfig {
  const problems: string[] = [];
  const tree = mergeFile(DEFAULT_CONFIG as unknown as Tree, overlay, '', problems);
  if (problems.length) throw new ConfigError(problems);
  return validateConfig(tree as unknown as PipelineConfig);
}

export type DeepPartial<T> = { readonly [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** JVM metaspace, thread stacks, code cache and direct buffers need room beyond the heap. */
export const JVM_OVERHEAD_MIB = 256;

const KAFKA_MODES: readonly KafkaMode[] = ['zookeeper', 'kraft'];
const CONSOLE_KINDS: readonly ConsoleKind[] = ['control-center', 'kafka-ui', 'none'];
const IMAGE_MODES: readonly ImageMode[] = ['upstream', 'local'];
const SECRET_SOURCES: readonly SecretSource[] = ['generate', 'variables'];

/** Checks every rule and throws one ConfigError listing all problems; returns the config unchanged when valid. */
export function validateConfig(config: PipelineConfig): PipelineConfig {
  const problems: string[] = [];
  const bad = (field: string, value: unknown, why: string) =>
    problems.push(`${field}: ${why} (got ${JSON.stringify(value)})`);

  const oneOf = <T>(field: string, value: T, allowed: readonly T[]) => {
    if (!allowed.includes(value)) bad(field, value, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  };
  oneOf('kafka.mode', config.kafka.mode, KAFKA_MODES);
  oneOf('console.kind', config.console.kind, CONSOLE_KINDS);
  oneOf('imageMode', config.imageMode, IMAGE_MODES);
  oneOf('secretSource', config.secretSource, SECRET_SOURCES);

  for (const { path: field, value } of configFields(config as unknown as Tree)) {
    const leaf = field.split('.').pop() as string;
    if (/[hH]ostPort$/.test(leaf)) {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535)
        bad(field, value, 'must be a port 1-65535, or 0 for not published');
    } else if (leaf === 'replicas' || leaf === 'workers' || leaf === 'ingestReplicas' || leaf === 'workerCores' ||
      leaf === 'partitions' || leaf === 'replicationFactor' || leaf === 'usersPerRun') {
      if (!Number.isInteger(value) || (value as number) < 1) bad(field, value, 'must be an integer >= 1');
    } else if (leaf === 'storageGiB' || leaf === 'memoryMiB' || leaf === 'heapMiB' || leaf === 'workerMemoryMiB') {
      if (!Number.isInteger(value) || (value as number) < 1) bad(field, value, 'must be a whole number >= 1');
    } else if (leaf === 'cpu') {
      if (typeof value !== 'number' || !(value > 0)) bad(field, value, 'must be a number of cores > 0');
    } else if (leaf === 'maxLagRows') {
      if (!Number.isInteger(value) || (value as number) < 0) bad(field, value, 'must be an integer >= 0');
    } else if (/[iI]mage$/.test(leaf) && field !== 'workloads.image') {
      checkImage(field, value, bad);
    }
  }

  if (config.imageMode === 'local' && config.console.kind === 'control-center')
    bad('console.kind', config.console.kind,
      "imageMode 'local' cannot build Control Center (commercial, not on any package registry): use 'none' (no console), or 'kafka-ui' if you provide a kafka-ui image");
  if (config.zookeeper.replicas % 2 === 0)
    bad('zookeeper.replicas', config.zookeeper.replicas, 'a ZooKeeper ensemble needs an odd size to keep a majority');
  if (config.kafka.topic.replicationFactor > config.kafka.replicas)
    bad('kafka.topic.replicationFactor', config.kafka.topic.replicationFactor, `cannot exceed kafka.replicas (${config.kafka.replicas})`);

  const jvms: Array<[string, JvmResources]> = [
    ['zookeeper', config.zookeeper.resources], ['kafka', config.kafka.resources],
    ['schemaRegistry', config.schemaRegistry.resources], ['console', config.console.resources],
    ['spark', config.spark.resources], ['cassandra', config.cassandra.resources],
  ];
  for (const [name, r] of jvms) {
    if (r.heapMiB + JVM_OVERHEAD_MIB > r.memoryMiB)
      bad(`${name}.resources.memoryMiB`, r.memoryMiB,
        `cannot fit ${name}.resources.heapMiB (${r.heapMiB}) plus ${JVM_OVERHEAD_MIB} MiB JVM overhead`);
  }
  if (config.spark.workerMemoryMiB + JVM_OVERHEAD_MIB > config.spark.resources.memoryMiB)
    bad('spark.workerMemoryMiB', config.spark.workerMemoryMiB,
      `plus ${JVM_OVERHEAD_MIB} MiB overhead must fit spark.resources.memoryMiB (${config.spark.resources.memoryMiB})`);

  if (!/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(config.hostBind))
    bad('hostBind', config.hostBind, 'must be an IPv4 address such as 127.0.0.1 or 0.0.0.0');
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(config.kubernetes.namespace))
    bad('kubernetes.namespace', config.kubernetes.namespace, 'must be a DNS-1123 label (lowercase letters, digits, -)');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(config.docker.network))
    bad('docker.network', config.docker.network, 'must be a Docker network name');
  for (const [field, value] of [['kafka.topic.name', config.kafka.topic.name], ['kafka.topic.deadLetterName', config.kafka.topic.deadLetterName]] as const) {
    if (!/^[a-zA-Z0-9._-]{1,249}$/.test(value)) bad(field, value, 'must be a Kafka topic name (letters, digits, . _ -)');
  }
  if (config.kafka.topic.name === config.kafka.topic.deadLetterName)
    bad('kafka.topic.deadLetterName', config.kafka.topic.deadLetterName, 'must differ from kafka.topic.name');
  const identifiers: Array<[string, string]> = [
    ['postgres.landingDatabase', config.postgres.landingDatabase], ['postgres.landingUser', config.postgres.landingUser],
    ['postgres.airflowDatabase', config.postgres.airflowDatabase], ['postgres.airflowUser', config.postgres.airflowUser],
    ['cassandra.keyspace', config.cassandra.keyspace], ['cassandra.pipelineUser', config.cassandra.pipelineUser],
    ['airflow.adminUser', config.airflow.adminUser],
  ];
  for (const [field, value] of identifiers) {
    if (!/^[a-z_][a-z0-9_]{0,47}$/.test(value)) bad(field, value, 'must be a lowercase identifier (a-z, 0-9, _)');
  }
  if (config.postgres.landingDatabase === config.postgres.airflowDatabase)
    bad('postgres.airflowDatabase', config.postgres.airflowDatabase, 'must differ from postgres.landingDatabase');
  if (config.postgres.landingUser === config.postgres.airflowUser)
    bad('postgres.airflowUser', config.postgres.airflowUser, 'must differ from postgres.landingUser');
  if (config.postgres.landingUser === 'postgres' || config.postgres.airflowUser === 'postgres')
    bad('postgres.landingUser', config.postgres.landingUser, "'postgres' is the superuser; the pipeline gets its own role");
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(config.version)) bad('version', config.version, 'must be a non-empty image tag');
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*$/.test(config.workloads.image))
    bad('workloads.image', config.workloads.image, 'must be an image name without a tag (the tag is `version`)');
  if (!/^[\w.-]+\.py$/.test(config.spark.app)) bad('spark.app', config.spark.app, 'must be a .py file name inside spark.appsDir');
  if (config.workloads.randomuserUrl !== '' && !/^https?:\/\/\S+$/.test(config.workloads.randomuserUrl))
    bad('workloads.randomuserUrl', config.workloads.randomuserUrl, "must be an http(s) URL, or '' for the bundled source");
  for (const [field, value] of [['airflow.dagsDir', config.airflow.dagsDir], ['spark.appsDir', config.spark.appsDir]] as const) {
    if (value === '' || path.isAbsolute(value) || value.split(/[\\/]/).includes('..'))
      bad(field, value, 'must be a folder inside the repository, given relative to it');
  }

  const published = new Map<number, string>();
  for (const { path: field, value } of configFields(config as unknown as Tree)) {
    if (!/[hH]ostPort$/.test(field) || value === 0) continue;
    if (field === 'zookeeper.hostPort' && config.kafka.mode === 'kraft') continue;
    if (field === 'console.hostPort' && config.console.kind === 'none') continue;
    const other = published.get(value as number);
    if (other) bad(field, value, `host port already used by ${other}`);
    else published.set(value as number, field);
  }

  if (problems.length) throw new ConfigError(problems);
  return config;
}

function checkImage(field: string, value: unknown, bad: (f: string, v: unknown, why: string) => void): void {
  if (typeof value !== 'string' || value.trim() === '') return bad(field, value, 'must name an image');
  const colon = value.lastIndexOf(':');
  const tag = colon > value.lastIndexOf('/') ? value.slice(colon + 1) : '';
  if (tag === '') bad(field, value, 'needs an explicit version tag (name:tag)');
  else if (tag === 'latest') bad(field, value, "must be pinned to a version, not 'latest'");
}

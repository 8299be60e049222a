// The configuration module: assembles each component's section (its type, documented defaults
// and rules live in config/<section>.ts) into one PipelineConfig, layers the defaults, a JSON
// file and RTDS_* variables, and reports every problem at once, naming the field and the value.
import * as fs from 'fs';
import * as path from 'path';
import { AIRFLOW_DEFAULTS, AirflowConfig, validateAirflow } from './airflow';
import { CASSANDRA_DEFAULTS, CassandraConfig, validateCassandra } from './cassandra';
import { CONSOLE_DEFAULTS, ConsoleConfig, validateConsole } from './console';
import { KAFKA_DEFAULTS, KafkaConfig, validateKafka } from './kafka';
import { POSTGRES_DEFAULTS, PostgresConfig, validatePostgres } from './postgres';
import { parsePort } from './facts';
import { checkImage, checkOneOf, checkRequestsFit, ImageMode, Problem, Resources } from './rules';
import { SCHEMA_REGISTRY_DEFAULTS, SchemaRegistryConfig, validateSchemaRegistry } from './schema-registry';
import { SPARK_DEFAULTS, SparkConfig, validateSpark } from './spark';
import { DOCKER_DEFAULTS, DockerTargetConfig, KUBERNETES_DEFAULTS, KubernetesTargetConfig, validateDocker, validateKubernetes } from './targets';
import { validateWorkloads, WORKLOADS_DEFAULTS, WorkloadsConfig } from './workloads';
import { validateZooKeeper, ZOOKEEPER_DEFAULTS, ZooKeeperConfig } from './zookeeper';

export * from './airflow';
export * from './cassandra';
export * from './console';
export * from './kafka';
export * from './postgres';
export { ImageMode, JVM_OVERHEAD_MIB, JvmResources, ResourceRequests, Resources } from './rules';
export * from './schema-registry';
export * from './spark';
export * from './targets';
export * from './workloads';
export * from './zookeeper';

/** Where credentials come from. */
export type SecretSource = 'generate' | 'variables';
const IMAGE_MODES: readonly ImageMode[] = ['upstream', 'local'];
const SECRET_SOURCES: readonly SecretSource[] = ['generate', 'variables'];

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
  docker: DOCKER_DEFAULTS,
  kubernetes: KUBERNETES_DEFAULTS,
  zookeeper: ZOOKEEPER_DEFAULTS,
  kafka: KAFKA_DEFAULTS,
  schemaRegistry: SCHEMA_REGISTRY_DEFAULTS,
  console: CONSOLE_DEFAULTS,
  postgres: POSTGRES_DEFAULTS,
  airflow: AIRFLOW_DEFAULTS,
  spark: SPARK_DEFAULTS,
  cassandra: CASSANDRA_DEFAULTS,
  workloads: WORKLOADS_DEFAULTS,
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

/** Leaf names whose values share one rule, whatever section they are in. */
const COUNTS = new Set(['replicas', 'workers', 'ingestReplicas', 'workerCores', 'partitions', 'replicationFactor', 'usersPerRun']);
const SIZES = new Set(['storageGiB', 'memoryMiB', 'heapMiB', 'workerMemoryMiB']);

/** Checks every rule (the shared ones by field, then each section's) and throws one ConfigError listing all problems. */
export function validateConfig(config: PipelineConfig): PipelineConfig {
  const problems: string[] = [];
  const bad: Problem = (field, value, why) => problems.push(`${field}: ${why} (got ${JSON.stringify(value)})`);

  checkOneOf('imageMode', config.imageMode, IMAGE_MODES, bad);
  checkOneOf('secretSource', config.secretSource, SECRET_SOURCES, bad);
  for (const { path: field, value } of configFields(config as unknown as Tree)) {
    const leaf = field.split('.').pop() as string;
    if (/[hH]ostPort$/.test(leaf)) {
      // The one port parser; 0 means not published.
      if (typeof value !== 'number' || 'error' in parsePort(field, value, true))
        bad(field, value, 'must be a port 1-65535, or 0 for not published');
    } else if (COUNTS.has(leaf)) {
      if (!Number.isInteger(value) || (value as number) < 1) bad(field, value, 'must be an integer >= 1');
    } else if (SIZES.has(leaf)) {
      if (!Number.isInteger(value) || (value as number) < 1) bad(field, value, 'must be a whole number >= 1');
    } else if (leaf === 'cpu') {
      if (typeof value !== 'number' || !(value > 0)) bad(field, value, 'must be a number of cores > 0');
    } else if (leaf === 'maxLagRows') {
      if (!Number.isInteger(value) || (value as number) < 0) bad(field, value, 'must be an integer >= 0');
    } else if (/[iI]mage$/.test(leaf) && field !== 'workloads.image') {
      checkImage(field, value, bad);
    }
  }
  if (!/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(config.hostBind))
    bad('hostBind', config.hostBind, 'must be an IPv4 address such as 127.0.0.1 or 0.0.0.0');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(config.version)) bad('version', config.version, 'must be a non-empty image tag');

  validateDocker(config.docker, bad);
  validateKubernetes(config.kubernetes, bad);
  validateZooKeeper(config.zookeeper, bad);
  validateKafka(config.kafka, bad);
  validateSchemaRegistry(config.schemaRegistry, bad);
  validateConsole(config.console, config, bad);
  validatePostgres(config.postgres, bad);
  validateAirflow(config.airflow, bad);
  validateSpark(config.spark, bad);
  validateCassandra(config.cassandra, bad);
  validateWorkloads(config.workloads, bad);
  for (const [section, value] of Object.entries(config)) {
    const resources = (value as { resources?: Resources }).resources;
    if (resources) checkRequestsFit(section, resources, bad);
  }

  // One host port per published service; a service this config does not deploy publishes nothing.
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

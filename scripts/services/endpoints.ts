// The contract between the local services and everything that uses them: tests, the local
// pipeline, Spark and Airflow read connection details from .rtds/endpoints.json, never from
// hard-coded ports.
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig, PipelineConfig } from '../../config';
import { cassandraClientEnv, ENV, EnvMap, kafkaClientEnv, postgresClientEnv } from '../../config/facts';

const REPO = path.resolve(__dirname, '..', '..');

/**
 * The pipeline config the local services honour (topics and partitions): the same defaults,
 * rtds.config.json and RTDS_* variables as the stacks.
 */
export function localPipelineConfig(env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  return loadConfig({ env, cwd: REPO });
}

/** Where local data, logs, secrets and endpoints live: `RTDS_HOME`, else `<repo>/.rtds`. */
export function rtdsHome(): string {
  return process.env.RTDS_HOME ? path.resolve(process.env.RTDS_HOME) : path.join(REPO, '.rtds');
}

/** The file `services:up` writes. */
export function endpointsFile(home: string = rtdsHome()): string {
  return path.join(home, 'endpoints.json');
}

export type { KafkaMode } from '../../config';
import type { KafkaMode } from '../../config';

export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  /** The pipeline's own role (owner of `database`). */
  readonly user: string;
  readonly password: string;
  /** The pipeline database, `pipeline`. */
  readonly database: string;
  /** Superuser, for tools that create their own database/role (e.g. Airflow's metadata DB). */
  readonly superuser: { readonly user: string; readonly password: string };
}

export interface KafkaEndpoint {
  /** `host:port[,host:port]`. */
  readonly bootstrapServers: string;
  readonly mode: KafkaMode;
  /** Kafka version of the running broker (config/facts KAFKA_RELEASES). */
  readonly version: string;
}

export interface SchemaRegistryEndpoint {
  /** Base URL of the Confluent-compatible REST API (no trailing slash). */
  readonly url: string;
}

export interface CassandraEndpoint {
  readonly contactPoints: readonly string[];
  readonly port: number;
  readonly localDataCenter: string;
  /** The pipeline's role (may create keyspaces). */
  readonly username: string;
  readonly password: string;
  /** Superuser role that replaced the default `cassandra` one. */
  readonly superuser: { readonly username: string; readonly password: string };
}

export interface SparkEndpoint {
  readonly masterUrl: string;
  readonly uiUrl: string;
}

export interface AirflowEndpoint {
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

export interface LocalEndpoints {
  readonly postgres: PostgresEndpoint;
  readonly kafka: KafkaEndpoint;
  readonly schemaRegistry: SchemaRegistryEndpoint;
  readonly cassandra: CassandraEndpoint;
  readonly spark?: SparkEndpoint;
  readonly airflow?: AirflowEndpoint;
}

/**
 * Reads `.rtds/endpoints.json` as written by `npm run services:up`.
 * Throws with the path and the fix when it is missing or lacks a service.
 */
export function readEndpoints(home: string = rtdsHome()): LocalEndpoints {
  const file = endpointsFile(home);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} does not exist: run \`npm run services:up\` first (or set RTDS_HOME to where it ran)`);
  }
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LocalEndpoints>;
  for (const key of ['postgres', 'kafka', 'schemaRegistry', 'cassandra'] as const) {
    if (!parsed[key]) {
      throw new Error(`${file} has no "${key}" entry: run \`npm run services:up\` without --only (or with --only ${key === 'schemaRegistry' ? 'schema-registry' : key})`);
    }
  }
  return parsed as LocalEndpoints;
}

/** Reads whatever entries exist (for `up --only`), without requiring all services. */
export function readPartialEndpoints(home: string = rtdsHome()): Partial<LocalEndpoints> {
  const file = endpointsFile(home);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LocalEndpoints>) : {};
}

/** Merges entries into endpoints.json (mode 0600: it holds passwords). */
export function writeEndpoints(entries: Partial<LocalEndpoints>, home: string = rtdsHome()): void {
  const merged = { ...readPartialEndpoints(home), ...entries };
  fs.mkdirSync(home, { recursive: true });
  const file = endpointsFile(home);
  fs.writeFileSync(file, JSON.stringify(merged, null, 2) + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** The workloads' environment (the contract of config/facts/contract.ts) for these endpoints. */
export function workloadEnv(e: LocalEndpoints, topic: string = localPipelineConfig().kafka.topic.name): EnvMap {
  return {
    ...postgresClientEnv(e.postgres),
    [ENV.pgPassword]: e.postgres.password,
    ...kafkaClientEnv({ bootstrapServers: e.kafka.bootstrapServers, schemaRegistryUrl: e.schemaRegistry.url, topic }),
    ...cassandraClientEnv({ ...e.cassandra, contactPoints: e.cassandra.contactPoints.join(',') }),
    [ENV.cassandraPassword]: e.cassandra.password,
  };
}

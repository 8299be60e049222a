/**
 * Configuration from the environment, with the names of the contract in config/facts/contract.ts
 * (docs/DEVELOPERS.md). Every reader throws a ConfigError naming the variable and the value it
 * did not accept.
 */
import { CASSANDRA_DATA_CENTER, ENV, parsePort, PORTS, USERS_TOPIC } from '../../config/facts';

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function required(env: Env, name: string): string {
  const v = env[name];
  if (v === undefined || v.trim() === '') throw new ConfigError(`environment variable ${name} is missing or empty`);
  return v.trim();
}

function optional(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

export function port(env: Env, name: string, fallback?: number): number {
  const raw = fallback === undefined ? required(env, name) : optional(env, name, String(fallback));
  // 0 asks the server to pick a free port (tests).
  const parsed = parsePort(name, raw, true);
  if ('error' in parsed) throw new ConfigError(parsed.error);
  return parsed.port;
}

export function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = optional(env, name, String(fallback));
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a positive integer`);
  return n;
}

function url(env: Env, name: string, fallback?: string): string {
  const raw = fallback === undefined ? required(env, name) : optional(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${name}=${JSON.stringify(raw)} must be an http(s) URL`);
  return raw;
}

export interface PostgresConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

/** libpq names; PGPASSWORD is required because the local and deployed databases use password auth. */
export function postgresConfig(env: Env = process.env): PostgresConfig {
  return {
    host: required(env, ENV.pgHost),
    port: port(env, ENV.pgPort, PORTS.postgres),
    database: required(env, ENV.pgDatabase),
    user: required(env, ENV.pgUser),
    password: required(env, ENV.pgPassword),
  };
}

export interface KafkaConfig {
  readonly bootstrapServers: readonly string[];
  readonly topic: string;
}

export function kafkaConfig(env: Env = process.env): KafkaConfig {
  const raw = required(env, ENV.kafkaBootstrapServers);
  const servers = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of servers) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw new ConfigError(`KAFKA_BOOTSTRAP_SERVERS=${JSON.stringify(raw)}: ${JSON.stringify(s)} is not host:port`);
  }
  if (servers.length === 0) throw new ConfigError('KAFKA_BOOTSTRAP_SERVERS is empty');
  const topic = optional(env, ENV.kafkaTopic, USERS_TOPIC);
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw new ConfigError(`KAFKA_TOPIC=${JSON.stringify(topic)} is not a valid topic name`);
  return { bootstrapServers: servers, topic };
}

export function schemaRegistryUrl(env: Env = process.env): string {
  return url(env, ENV.schemaRegistryUrl).replace(/\/+$/, '');
}

/** The bundled source on its default port; `https://randomuser.me/api/` switches to the real API. */
export function randomuserUrl(env: Env = process.env): string {
  return url(env, ENV.randomuserUrl, `http://127.0.0.1:${PORTS.source}/api/`);
}

export function httpPort(env: Env, fallback: number): number {
  return port(env, ENV.httpPort, fallback);
}

export interface CassandraConfig {
  readonly contactPoints: readonly string[];
  readonly port: number;
  readonly localDataCenter: string;
  readonly username?: string;
  readonly password?: string;
}

export function cassandraConfig(env: Env = process.env): CassandraConfig {
  const contactPoints = required(env, ENV.cassandraContactPoints).split(',').map((s) => s.trim()).filter((s) => s !== '');
  const username = env[ENV.cassandraUsername]?.trim() || undefined;
  const password = env[ENV.cassandraPassword]?.trim() || undefined;
  if ((username === undefined) !== (password === undefined))
    throw new ConfigError('CASSANDRA_USERNAME and CASSANDRA_PASSWORD must be set together');
  return {
    contactPoints,
    port: port(env, ENV.cassandraPort, PORTS.cassandra),
    localDataCenter: optional(env, ENV.cassandraLocalDc, CASSANDRA_DATA_CENTER),
    username,
    password,
  };
}

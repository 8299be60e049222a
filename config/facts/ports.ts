// Every port of the pipeline: what each service listens on inside its container, and where the
// local services listen on loopback (the usual port + 10000, so a local run and a Docker deploy
// can coexist). One parser checks a port wherever one is read from the environment.

/** Ports inside the containers (and the services' usual ports). */
export const PORTS = {
  zookeeper: 2181,
  zookeeperPeer: 2888,
  zookeeperElection: 3888,
  /** The listener other services in the network use (cp-all-in-one layout). */
  kafkaInternal: 29092,
  /** The listener advertised to clients on the host. */
  kafka: 9092,
  kafkaController: 29093,
  schemaRegistry: 8081,
  console: 9021,
  postgres: 5432,
  cassandra: 9042,
  cassandraIntraNode: 7000,
  sparkMaster: 7077,
  sparkMasterUi: 8080,
  sparkWorkerUi: 8081,
  sparkDriverUi: 4040,
  airflow: 8080,
  airflowSchedulerHealth: 8974,
  /** Where the scheduler serves task logs to the API server (LocalExecutor runs tasks in the scheduler). */
  airflowLogServer: 8793,
  ingest: 8000,
  relay: 8001,
  source: 8100,
} as const;

/** Default host ports the Docker stack publishes (the config's *hostPort fields). */
export const HOST_PORTS = {
  zookeeper: PORTS.zookeeper,
  kafka: PORTS.kafka,
  schemaRegistry: PORTS.schemaRegistry,
  console: PORTS.console,
  postgres: PORTS.postgres,
  airflow: PORTS.airflow,
  sparkMaster: PORTS.sparkMaster,
  sparkMasterUi: 8090,
  cassandra: PORTS.cassandra,
  ingest: PORTS.ingest,
  relay: PORTS.relay,
  source: PORTS.source,
} as const;

/** Local services listen on the usual port plus this. */
export const LOCAL_PORT_OFFSET = 10_000;

/** A loopback port of the local services and the variable that moves it. */
export interface LocalPort {
  readonly port: number;
  readonly env: string;
}

const local = (usual: number, env: string): LocalPort => ({ port: usual + LOCAL_PORT_OFFSET, env });

/** Where each local service and pipeline process listens unless its RTDS_<NAME>_PORT says otherwise. */
export const LOCAL_PORTS = {
  postgres: local(PORTS.postgres, 'RTDS_POSTGRES_PORT'),
  zookeeper: local(PORTS.zookeeper, 'RTDS_ZOOKEEPER_PORT'),
  kafka: local(PORTS.kafka, 'RTDS_KAFKA_PORT'),
  kafkaController: local(9093, 'RTDS_KAFKA_CONTROLLER_PORT'),
  schemaRegistry: local(PORTS.schemaRegistry, 'RTDS_SCHEMA_REGISTRY_PORT'),
  cassandra: local(PORTS.cassandra, 'RTDS_CASSANDRA_PORT'),
  cassandraStorage: local(PORTS.cassandraIntraNode, 'RTDS_CASSANDRA_STORAGE_PORT'),
  sparkMaster: local(PORTS.sparkMaster, 'RTDS_SPARK_PORT'),
  sparkMasterUi: local(HOST_PORTS.sparkMasterUi, 'RTDS_SPARK_UI_PORT'),
  sparkWorkerUi: local(8091, 'RTDS_SPARK_WORKER_UI_PORT'),
  airflow: local(PORTS.airflow, 'RTDS_AIRFLOW_PORT'),
  ingest: local(PORTS.ingest, 'RTDS_INGEST_PORT'),
  relay: local(PORTS.relay, 'RTDS_RELAY_PORT'),
  source: local(PORTS.source, 'RTDS_SOURCE_PORT'),
  /** The bench's own source, without a rate limit. */
  benchSource: local(8110, 'RTDS_BENCH_SOURCE_PORT'),
} as const satisfies Record<string, LocalPort>;

/**
 * The one port parser: `raw` as a TCP port, or a message naming `name` and the value.
 * 0 ("pick a free one" when listening, "not published" for a host port) only with allowZero.
 */
export function parsePort(name: string, raw: string | number, allowZero = false): { port: number } | { error: string } {
  const n = typeof raw === 'number' ? raw : raw.trim() === '' ? NaN : Number(raw);
  const min = allowZero ? 0 : 1;
  if (Number.isInteger(n) && n >= min && n <= 65535) return { port: n };
  return { error: `${name}=${JSON.stringify(String(raw))} is not a port number (${min}-65535)` };
}

/** The port in `env[name]`, else `fallback`; throws the parser's message for a bad value. */
export function envPort(name: string, fallback: number, env: Readonly<Record<string, string | undefined>> = process.env, allowZero = false): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const parsed = parsePort(name, raw, allowZero);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.port;
}

/** A local port, moved by its variable. */
export function localPort(p: LocalPort, env: Readonly<Record<string, string | undefined>> = process.env): number {
  return envPort(p.env, p.port, env);
}

// The deployed Docker stack as the deploy tier reaches it: each container's wiring read back from
// the engine (published ports, environment), users pushed through the ingest service's control
// API, and a crash the way an operator's host sees one (SIGKILL of the container's main process).
import { execFileSync } from 'child_process';
import { Client as PgClient } from 'pg';
import { Client as CassandraClient } from 'cassandra-driver';
import { CASSANDRA_KEYSPACE, CASSANDRA_TABLE, PORTS } from '../../config/facts';
import { cassandraClient } from '../../workloads/shared/cassandra';
import { differences, Row, storedRows } from '../shared/landed';
import { until } from '../shared/until';

export const PREFIX = process.env.RTDS_DOCKER_PREFIX ?? 'rtds';
const container = (service: string) => `${PREFIX}-${service}`;

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** `host:port` the engine published a container port on. */
export function published(service: string, port: number): string {
  const line = docker(['port', container(service), String(port)]).split('\n')[0];
  if (!line) throw new Error(`${container(service)} publishes no host port for ${port}`);
  return line.replace('0.0.0.0', '127.0.0.1');
}

/** A container's environment (how the stack wired it), secrets included. */
export function containerEnv(service: string): Record<string, string> {
  const lines = docker(['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', container(service)]);
  return Object.fromEntries(lines.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

interface Lifecycle {
  pid: number;
  restarts: number;
  status: string;
  health: string;
}

function lifecycle(service: string): Lifecycle {
  const [pid, restarts, status, health] = docker(['inspect', '-f', '{{.State.Pid}}|{{.RestartCount}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}', container(service)]).split('|');
  return { pid: Number(pid), restarts: Number(restarts), status, health };
}

/**
 * SIGKILLs each service's main process from the host, all at once, so that the engine sees a
 * crash (exit 137) and its restart policy, not `docker stop`, brings it back. Resolves once
 * each is running again (healthy where it has a health check).
 */
export async function crash(services: readonly string[], timeoutMs = 600_000): Promise<void> {
  const before = new Map(services.map((s) => [s, lifecycle(s)]));
  for (const [s, l] of before) {
    if (!(l.pid > 0)) throw new Error(`${container(s)} has no running main process to kill (status ${l.status})`);
  }
  for (const l of before.values()) process.kill(l.pid, 'SIGKILL');
  for (const [s, l] of before) {
    await until(`${container(s)} restarted by its restart policy after SIGKILL`, timeoutMs, () => {
      const now = lifecycle(s);
      const back = now.restarts > l.restarts && now.status === 'running' && (now.health === '' || now.health === 'healthy');
      return back ? now : undefined;
    });
  }
}

/** What a test needs of the deployed stack: the ingest API, the landing database, Cassandra. */
export class DeployedStack {
  readonly ingest = `http://${published('ingest', PORTS.ingest)}`;
  readonly cassandra: CassandraClient;
  private readonly pgConfig: ConstructorParameters<typeof PgClient>[0];

  constructor() {
    const streamEnv = containerEnv('users-stream');
    const [cqlHost, cqlPort] = published('cassandra', Number(streamEnv.CASSANDRA_PORT ?? PORTS.cassandra)).split(':');
    this.cassandra = cassandraClient({
      contactPoints: [cqlHost], port: Number(cqlPort), localDataCenter: streamEnv.CASSANDRA_LOCAL_DC,
      username: streamEnv.CASSANDRA_USERNAME, password: streamEnv.CASSANDRA_PASSWORD,
    });
    const ingestEnv = containerEnv('ingest');
    const [pgHost, pgPort] = published('postgres', Number(ingestEnv.PGPORT ?? PORTS.postgres)).split(':');
    this.pgConfig = { host: pgHost, port: Number(pgPort), user: ingestEnv.PGUSER, password: ingestEnv.PGPASSWORD, database: ingestEnv.PGDATABASE };
  }

  /** Starts an ingest run of `users` from `seed`; its id. */
  async startRun(users: number, seed: string): Promise<string> {
    const res = await fetch(`${this.ingest}/runs`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ users, seed }),
    });
    if (res.status >= 300) throw new Error(`POST ${this.ingest}/runs: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }

  /** The run's status once it is no longer running (the ingest service may be restarting meanwhile). */
  finished(runId: string, timeoutMs: number): Promise<{ state: string; inserted: number; quarantined: number }> {
    return until(`ingest run ${runId} finished`, timeoutMs, async () => {
      const status = (await (await fetch(`${this.ingest}/runs/${runId}`)).json()) as { state: string; inserted: number; quarantined: number };
      return status.state === 'running' ? undefined : status;
    });
  }

  /** The rows landed from `seed`. */
  async landed(seed: string): Promise<Row[]> {
    const pg = new PgClient(this.pgConfig);
    await pg.connect();
    try {
      return (await pg.query('SELECT * FROM landing_users WHERE source_seed = $1', [seed])).rows;
    } finally {
      await pg.end();
    }
  }

  /** Waits until every landed row is in Cassandra as it landed; the differences left if it never is (see differences()). */
  async converged(landed: readonly Row[], timeoutMs: number): Promise<string[]> {
    const ids = landed.map((r) => String(r.id));
    let left: string[] = [];
    await until(`${landed.length} landed users in Cassandra as they landed`, timeoutMs, async () => {
      left = differences(landed, await storedRows(this.cassandra, `${CASSANDRA_KEYSPACE}.${CASSANDRA_TABLE}`, ids));
      return left.length === 0 ? true : undefined;
    }).catch(() => undefined);
    return left;
  }

  shutdown(): Promise<void> {
    return this.cassandra.shutdown();
  }
}

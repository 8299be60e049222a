// The deploy tier: a real `cdktf deploy` of the Docker stack on this machine's engine with
// images built locally (imageMode 'local'), users pushed through the ingest service's control
// API, checked in Cassandra, then `cdktf destroy` and a check that nothing is left.
import { execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import { Client, auth } from 'cassandra-driver';
import { down } from '../../scripts/deploy/down';
import { containerStates, sleep } from '../../scripts/deploy/engine';
import { up } from '../../scripts/deploy/up';

const USERS = 500;
const PREFIX = process.env.RTDS_DOCKER_PREFIX ?? 'rtds';

/** `host:port` the engine published a container port on. */
function published(container: string, port: number): string {
  const line = execFileSync('docker', ['port', container, String(port)], { encoding: 'utf8' }).trim().split('\n')[0];
  if (!line) throw new Error(`${container} publishes no host port for ${port}`);
  return line.replace('0.0.0.0', '127.0.0.1');
}

/** A container's environment (how the stack wired it), secrets included. */
function containerEnv(container: string): Record<string, string> {
  const lines = execFileSync('docker', ['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', container], { encoding: 'utf8' });
  return Object.fromEntries(lines.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(3000);
  }
  throw new Error(`${what}: not reached within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

describe('npm run up / npm run down on a Docker engine (imageMode local)', () => {
  test('every service becomes healthy, ingested users reach Cassandra, and down leaves nothing behind', async () => {
    const started = Date.now();
    try {
      const states = await up({ imageMode: 'local', timeoutMinutes: 20 });
      const services = states.filter((s) => s.status !== 'exited');
      expect(services.length).toBeGreaterThan(10);
      expect(services.filter((s) => s.health !== 'healthy' && s.status !== 'running')).toEqual([]);
      expect(states.filter((s) => s.status === 'exited' && s.exitCode !== 0)).toEqual([]);
      process.stderr.write(`[deploy test] up: ${Math.round((Date.now() - started) / 1000)} s\n`);

      const streamEnv = containerEnv(`${PREFIX}-users-stream`);
      const [cqlHost, cqlPort] = published(`${PREFIX}-cassandra`, Number(streamEnv.CASSANDRA_PORT ?? 9042)).split(':');
      const cassandra = new Client({
        contactPoints: [`${cqlHost}:${cqlPort}`],
        localDataCenter: streamEnv.CASSANDRA_LOCAL_DC,
        authProvider: new auth.PlainTextAuthProvider(streamEnv.CASSANDRA_USERNAME, streamEnv.CASSANDRA_PASSWORD),
      });
      const count = async () => Number((await cassandra.execute('SELECT count(*) FROM spark_streams.created_users')).first().get(0));
      try {
        const before = await count();
        // A fresh seed: new ids, so the table must grow by exactly USERS (upsert by id).
        const ingest = `http://${published(`${PREFIX}-ingest`, 8000)}`;
        const res = await fetch(`${ingest}/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ users: USERS, seed: `deploy-test-${randomUUID()}` }),
        });
        expect(res.status).toBeLessThan(300);
        const run = (await res.json()) as { id: string };
        const finished = await until('ingest run finished', 120_000, async () => {
          const status = (await (await fetch(`${ingest}/runs/${run.id}`)).json()) as { state: string; inserted: number; quarantined: number };
          return status.state === 'running' ? undefined : status;
        });
        expect(finished).toMatchObject({ state: 'succeeded', inserted: USERS, quarantined: 0 });
        const after = await until(`${USERS} new users in Cassandra`, 300_000, async () => {
          const n = await count();
          return n >= before + USERS ? n : undefined;
        });
        expect(after).toBe(before + USERS);
      } finally {
        await cassandra.shutdown();
      }
    } finally {
      const t = Date.now();
      const left = down({ keepData: false });
      process.stderr.write(`[deploy test] down: ${Math.round((Date.now() - t) / 1000)} s; total ${Math.round((Date.now() - started) / 1000)} s\n`);
      expect(left).toEqual({ containers: [], networks: [], volumes: [] });
      expect(containerStates()).toEqual([]);
    }
  }, 90 * 60_000);
});

// The deploy tier: a real `cdktf deploy` of the Docker stack on this machine's engine with
// images built locally (imageMode 'local'), users pushed through the ingest service's control
// API and followed by id into Cassandra, then `cdktf destroy` and a check that nothing is left;
// once per Kafka mode (RTDS_DEPLOY_KAFKA_MODES, default both: ZooKeeper is the default users get,
// KRaft the mode they move to, and a warm run of each takes about 3 minutes).
import { execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import { cassandraClient } from '../../workloads/shared/cassandra';
import { KAFKA_MODES, KafkaMode } from '../../config';
import { LOCAL_IMAGE_VERSIONS, PORTS } from '../../config/facts';
import { Client as PgClient } from 'pg';
import { down } from '../../scripts/deploy/down';
import { containerStates } from '../../scripts/deploy/docker';
import { until } from '../shared/until';
import { up } from '../../scripts/deploy/up';

const USERS = 500;
const PREFIX = process.env.RTDS_DOCKER_PREFIX ?? 'rtds';

/** The Kafka modes this run deploys, in order. */
function deployModes(raw = process.env.RTDS_DEPLOY_KAFKA_MODES ?? KAFKA_MODES.join(' ')): KafkaMode[] {
  const modes = raw.split(/[\s,]+/).filter(Boolean);
  const unknown = modes.filter((m) => !(KAFKA_MODES as readonly string[]).includes(m));
  if (unknown.length || modes.length === 0)
    throw new Error(`RTDS_DEPLOY_KAFKA_MODES: expected some of ${KAFKA_MODES.join(', ')}, got ${JSON.stringify(raw)}`);
  return modes as KafkaMode[];
}

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


describe.each(deployModes())('npm run up / npm run down on a Docker engine (imageMode local), kafka.mode %s', (mode) => {
  const before = process.env.RTDS_KAFKA_MODE;
  beforeAll(() => { process.env.RTDS_KAFKA_MODE = mode; });
  afterAll(() => {
    if (before === undefined) delete process.env.RTDS_KAFKA_MODE;
    else process.env.RTDS_KAFKA_MODE = before;
  });

  test('every service becomes healthy, each ingested user reaches Cassandra exactly once, and down leaves nothing behind', async () => {
    const started = Date.now();
    try {
      const states = await up({ imageMode: 'local', timeoutMinutes: 20 });
      const services = states.filter((s) => s.status !== 'exited');
      // Every long-running service of the offline stack (local images, no console), none missing; KRaft has no ZooKeeper.
      expect(services.map((s) => s.name.replace(`${PREFIX}-`, '')).sort()).toEqual([
        'airflow-api-server', 'airflow-dag-processor', 'airflow-scheduler', 'cassandra', 'ingest', 'kafka', 'postgres', 'relay',
        'schema-registry', 'source', 'spark-master', 'spark-worker', 'users-stream', ...(mode === 'zookeeper' ? ['zookeeper'] : []),
      ]);
      // The broker runs the mode's image: cp-kafka's stand-in or apache/kafka's.
      const brokerImage = execFileSync('docker', ['inspect', '-f', '{{.Image}}', `${PREFIX}-kafka`], { encoding: 'utf8' }).trim();
      expect(execFileSync('docker', ['image', 'inspect', '-f', '{{json .RepoTags}}', brokerImage], { encoding: 'utf8' }))
        .toContain(mode === 'zookeeper' ? `"rtdatastream/kafka:${LOCAL_IMAGE_VERSIONS.kafka}"` : `"rtdatastream/apache-kafka:${LOCAL_IMAGE_VERSIONS['apache-kafka']}"`);
      expect(services.filter((s) => s.health !== 'healthy' && s.status !== 'running')).toEqual([]);
      expect(states.filter((s) => s.status === 'exited' && s.exitCode !== 0)).toEqual([]);
      process.stderr.write(`[deploy test] ${mode} up: ${Math.round((Date.now() - started) / 1000)} s\n`);

      const streamEnv = containerEnv(`${PREFIX}-users-stream`);
      const [cqlHost, cqlPort] = published(`${PREFIX}-cassandra`, Number(streamEnv.CASSANDRA_PORT ?? PORTS.cassandra)).split(':');
      const cassandra = cassandraClient({
        contactPoints: [cqlHost], port: Number(cqlPort), localDataCenter: streamEnv.CASSANDRA_LOCAL_DC,
        username: streamEnv.CASSANDRA_USERNAME, password: streamEnv.CASSANDRA_PASSWORD,
      });
      // The DAG also ingests on its schedule, so the check follows this run's own users by id.
      const seed = `deploy-test-${randomUUID()}`;
      const ingest = `http://${published(`${PREFIX}-ingest`, PORTS.ingest)}`;
      try {
        const res = await fetch(`${ingest}/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ users: USERS, seed }),
        });
        expect(res.status).toBeLessThan(300);
        const run = (await res.json()) as { id: string };
        const finished = await until('ingest run finished', 120_000, async () => {
          const status = (await (await fetch(`${ingest}/runs/${run.id}`)).json()) as { state: string; inserted: number; quarantined: number };
          return status.state === 'running' ? undefined : status;
        });
        expect(finished).toMatchObject({ state: 'succeeded', inserted: USERS, quarantined: 0 });

        const ingestEnv = containerEnv(`${PREFIX}-ingest`);
        const [pgHost, pgPort] = published(`${PREFIX}-postgres`, Number(ingestEnv.PGPORT ?? 5432)).split(':');
        const pg = new PgClient({ host: pgHost, port: Number(pgPort), user: ingestEnv.PGUSER, password: ingestEnv.PGPASSWORD, database: ingestEnv.PGDATABASE });
        await pg.connect();
        let ids: string[];
        try {
          ids = (await pg.query<{ id: string }>('SELECT id FROM landing_users WHERE source_seed = $1', [seed])).rows.map((r) => r.id);
        } finally {
          await pg.end();
        }
        expect(ids).toHaveLength(USERS);

        const landed = async () => {
          let found = 0;
          for (let i = 0; i < ids.length; i += 100) {
            const rows = await cassandra.execute('SELECT id FROM spark_streams.created_users WHERE id IN ?', [ids.slice(i, i + 100)], { prepare: true });
            found += rows.rowLength;
          }
          return found;
        };
        const found = await until(`the run's ${USERS} users in Cassandra`, 300_000, async () => {
          const n = await landed();
          return n === USERS ? n : undefined;
        });
        expect(found).toBe(USERS);
      } finally {
        await cassandra.shutdown();
      }
    } finally {
      const t = Date.now();
      const left = await down({ keepData: false });
      process.stderr.write(`[deploy test] ${mode} down: ${Math.round((Date.now() - t) / 1000)} s; total ${Math.round((Date.now() - started) / 1000)} s\n`);
      expect(left).toEqual({ containers: [], networks: [], volumes: [] });
      expect(containerStates()).toEqual([]);
    }
  }, 90 * 60_000);
});

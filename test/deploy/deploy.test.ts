// The deploy tier: a real `cdktf deploy` of the Docker stack on this machine's engine with
// images built locally (imageMode 'local'), users pushed through the ingest service's control
// API and followed by id into Cassandra, then `cdktf destroy` and a check that nothing is left;
// once per Kafka mode (RTDS_DEPLOY_KAFKA_MODES, default both: ZooKeeper is the default users get,
// KRaft the mode they move to, and a warm run of each takes about 3 minutes). In one mode
// (RTDS_DEPLOY_CRASH_MODE, default zookeeper: it has every stateful service) containers are then
// crashed while users are in flight, and the restart policies must recover with no user lost.
import { execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KAFKA_MODES, KafkaMode } from '../../config';
import { LOCAL_IMAGE_VERSIONS } from '../../config/facts';
import { down } from '../../scripts/deploy/down';
import { ContainerState, containerStates } from '../../scripts/deploy/docker';
import { up } from '../../scripts/deploy/up';
import { crash, DeployedStack, PREFIX } from './stack';

const USERS = 500;
/** Users in flight when a crash scenario kills its containers. */
const CRASH_USERS = 2_000;

/** The Kafka modes this run deploys, in order. */
function deployModes(raw = process.env.RTDS_DEPLOY_KAFKA_MODES ?? KAFKA_MODES.join(' ')): KafkaMode[] {
  const modes = raw.split(/[\s,]+/).filter(Boolean);
  const unknown = modes.filter((m) => !(KAFKA_MODES as readonly string[]).includes(m));
  if (unknown.length || modes.length === 0)
    throw new Error(`RTDS_DEPLOY_KAFKA_MODES: expected some of ${KAFKA_MODES.join(', ')}, got ${JSON.stringify(raw)}`);
  return modes as KafkaMode[];
}

/**
 * Crash scenarios on the deployed stack: each service alone, then pairs whose hand-off is the
 * riskiest (the relay and the broker it produces to; PostgreSQL and the relay reading its
 * outbox; the Spark driver and the Cassandra it writes to, between checkpoint and write).
 */
const CRASHES: ReadonlyArray<readonly string[]> = [
  ['postgres'], ['zookeeper'], ['kafka'], ['schema-registry'], ['cassandra'],
  ['relay'], ['users-stream'], ['spark-worker'], ['airflow-scheduler'],
  ['kafka', 'relay'], ['postgres', 'relay'], ['users-stream', 'cassandra'],
];
const CRASH_MODE = process.env.RTDS_DEPLOY_CRASH_MODE ?? 'zookeeper';
const FAULT_TABLE = path.resolve(__dirname, '../../docs/faults/deployed-docker.md');

describe.each(deployModes())('npm run up / npm run down on a Docker engine (imageMode local), kafka.mode %s', (mode) => {
  const before = process.env.RTDS_KAFKA_MODE;
  let started = 0;
  let states: ContainerState[] = [];
  let stack: DeployedStack | undefined;
  let isDown = false;
  const takeDown = async () => {
    if (isDown) return { containers: [], networks: [], volumes: [] };
    isDown = true;
    await stack?.shutdown();
    const t = Date.now();
    const left = await down({ keepData: false });
    process.stderr.write(`[deploy test] ${mode} down: ${Math.round((Date.now() - t) / 1000)} s; total ${Math.round((Date.now() - started) / 1000)} s\n`);
    return left;
  };

  beforeAll(async () => {
    process.env.RTDS_KAFKA_MODE = mode;
    started = Date.now();
    states = await up({ imageMode: 'local', timeoutMinutes: 20 });
    process.stderr.write(`[deploy test] ${mode} up: ${Math.round((Date.now() - started) / 1000)} s\n`);
    stack = new DeployedStack();
  }, 40 * 60_000);

  afterAll(async () => {
    await takeDown();
    if (before === undefined) delete process.env.RTDS_KAFKA_MODE;
    else process.env.RTDS_KAFKA_MODE = before;
  }, 10 * 60_000);

  test('every service becomes healthy, with no ZooKeeper in KRaft mode and the broker image of the mode', () => {
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
  });

  test('each ingested user reaches Cassandra exactly once, as it landed', async () => {
    // The DAG also ingests on its schedule, so the check follows this run's own users by id.
    const seed = `deploy-test-${randomUUID()}`;
    const run = await stack!.startRun(USERS, seed);
    expect(await stack!.finished(run, 120_000)).toMatchObject({ state: 'succeeded', inserted: USERS, quarantined: 0 });
    const landed = await stack!.landed(seed);
    expect(landed).toHaveLength(USERS);
    expect((await stack!.converged(landed, 300_000)).slice(0, 20)).toEqual([]);
  }, 10 * 60_000);

  if (mode === CRASH_MODE) {
    const table: string[] = [];
    afterAll(() => {
      if (table.length !== CRASHES.length) return; // only a complete run rewrites the committed table
      fs.mkdirSync(path.dirname(FAULT_TABLE), { recursive: true });
      fs.writeFileSync(FAULT_TABLE, [
        '# Crashes of the deployed Docker stack',
        '',
        `Written by the deploy tier (test/deploy/deploy.test.ts), kafka.mode ${mode}, ${CRASH_USERS} users in flight per scenario,`,
        `on ${new Date().toISOString().slice(0, 10)} with a load average of ${os.loadavg()[0].toFixed(0)} on ${os.cpus().length} cores at the end.`,
        'Each scenario SIGKILLs the containers\' main processes from the host; the engine\'s restart policy',
        '(unless-stopped) brings them back. Expected in every row: the run succeeds, every landed user is',
        'in Cassandra exactly as it landed (same fields, same landing sequence), nothing missing.',
        '',
        '| crashed together | restarted after (s) | converged after (s) | landed | in Cassandra as landed |',
        '|---|---|---|---|---|',
        ...table,
        '',
      ].join('\n'));
    });

    test.each(CRASHES.map((c) => [c.join(' + '), c] as const))('%s SIGKILLed with users in flight: restarted by its policy, the run succeeds, every user in Cassandra as it landed', async (_name, services) => {
      const seed = `deploy-crash-${services.join('-')}-${randomUUID()}`;
      const t0 = Date.now();
      const run = await stack!.startRun(CRASH_USERS, seed);
      await crash(services);
      const restarted = (Date.now() - t0) / 1000;
      const status = await stack!.finished(run, 600_000);
      const landed = await stack!.landed(seed);
      const left = await stack!.converged(landed, 600_000);
      const converged = (Date.now() - t0) / 1000;
      const wrong = new Set(left.map((d) => d.split(/[.:]/)[0])).size;
      table.push(`| ${services.join(' + ')} | ${restarted.toFixed(0)} | ${converged.toFixed(0)} | ${landed.length} | ${landed.length - wrong} |`);
      process.stderr.write(`[deploy test] crash ${services.join('+')}: restarted ${restarted.toFixed(0)} s, converged ${converged.toFixed(0)} s\n`);
      expect(status).toMatchObject({ state: 'succeeded', quarantined: 0 });
      expect(landed).toHaveLength(CRASH_USERS);
      expect(left.slice(0, 20)).toEqual([]);
    }, 25 * 60_000);
  }

  test('down leaves nothing behind', async () => {
    expect(await takeDown()).toEqual({ containers: [], networks: [], volumes: [] });
    expect(containerStates()).toEqual([]);
  }, 10 * 60_000);
});

// The local stand-in for apache/kafka (images/apache-kafka), built by scripts/deploy/images.sh and
// run on this machine's Docker engine: what docs/DEPLOY.md and docs/INFRASTRUCTURE.md say about
// it, a single KRaft broker across restarts and kills, and a three-node quorum losing a broker.
// Everything runs on networks the test made; no host port is published.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { softwareVersion } from '../../constructs/components/common';
import { KAFKA_CONTROLLER_PORT, KAFKA_INTERNAL_PORT } from '../../constructs/components/kafka';
import { generateSecret, repoRoot, run } from '../../scripts/deploy/engine';
import { configWith } from '../../stacks/config';
import { TestResources, consume, docker, logs, occurrences, produce, properties, tool, waitStarted } from './kraft-brokers';

const VERSION = softwareVersion(configWith().kafka.kraftModeImage);
const IMAGE = `rtdatastream/apache-kafka:${VERSION}`;
const resources = new TestResources(`kraft-test-${randomBytes(3).toString('hex')}`);
const prefix = resources.prefix;
const values = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
const sorted = (list: readonly string[]) => [...list].sort();

beforeAll(() => {
  const started = Date.now();
  run('bash', [path.join(repoRoot, 'scripts/deploy/dockerd.sh')]);
  run('bash', [path.join(repoRoot, 'scripts/deploy/base-image.sh')]);
  run('bash', [path.join(repoRoot, 'scripts/deploy/images.sh'), 'apache_kafka']);
  process.stderr.write(`[kraft image test] ${IMAGE} ready in ${Math.round((Date.now() - started) / 1000)} s\n`);
}, 30 * 60_000);

afterAll(() => {
  expect(resources.removeAll()).toEqual([]);
});

describe(`${IMAGE}, the local drop-in for apache/kafka:${VERSION}`, () => {
  test('has the upstream command, tools, data path, uid and the version label the deploy checks', () => {
    const [config] = JSON.parse(docker(['image', 'inspect', IMAGE]).stdout) as { Config: { Cmd: string[]; User: string; Labels: Record<string, string> } }[];
    expect(config.Config.Cmd).toEqual(['/etc/kafka/docker/run']);
    expect(config.Config.User).toBe('appuser');
    expect(config.Config.Labels['org.opencontainers.image.version']).toBe(VERSION);
    const probe = docker(['run', '--rm', '--label', resources.label, IMAGE, 'bash', '-c', [
      'id -u', 'id -g', 'stat -c %u /var/lib/kafka/data',
      'test -x /etc/kafka/docker/run && test -x /opt/kafka/bin/kafka-storage.sh && test -x /opt/kafka/bin/kafka-server-start.sh && echo executables',
      '/opt/kafka/bin/kafka-topics.sh --version', 'ls /opt/kafka/bin',
    ].join('; ')]).stdout.split('\n').filter(Boolean);
    expect(probe.slice(0, 5)).toEqual(['1000', '1000', '1000', 'executables', expect.stringMatching(new RegExp(`^${VERSION.replace(/\./g, '\\.')}\\b`))]);
    // One bin/<tool>.sh per line of images/apache-kafka/tools, besides the two launchers.
    const tools = fs.readFileSync(path.join(repoRoot, 'images/apache-kafka/tools'), 'utf8').split('\n')
      .filter((l) => l && !l.startsWith('#')).map((l) => `${l.split(' ')[0]}.sh`);
    expect(probe.slice(5).sort()).toEqual([...tools, 'kafka-run-class.sh', 'kafka-server-start.sh'].sort());
  });

  test('refuses an environment it cannot honour with a message naming the variable, before starting Java', () => {
    const configure = (env: Record<string, string>) =>
      docker(['run', '--rm', '--label', resources.label, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), IMAGE], { allowFailure: true, timeoutMs: 60_000 });
    const noId = configure({ KAFKA_PROCESS_ROLES: 'broker,controller' });
    expect(noId.status).toBe(1);
    expect(noId.stderr).toContain('CLUSTER_ID is required');
    const advertisingController = configure({ CLUSTER_ID: generateSecret('cluster-id'), KAFKA_PROCESS_ROLES: 'controller', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092' });
    expect(advertisingController.status).toBe(1);
    expect(advertisingController.stderr).toContain('KAFKA_ADVERTISED_LISTENERS is not supported on a KRaft controller');
    const sslFiles = configure({ CLUSTER_ID: generateSecret('cluster-id'), KAFKA_SSL_KEYSTORE_FILENAME: 'kafka.keystore.jks' });
    expect(sslFiles.status).toBe(1);
    expect(sslFiles.stderr).toContain('KAFKA_SSL_KEYSTORE_FILENAME is not supported');
    // As upstream: without KAFKA_LISTENERS a broker listens on every interface at the advertised ports.
    const derived = docker(['run', '--rm', '--label', resources.label, '-e', 'CLUSTER_ID=x', '-e', 'KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://kafka-1:29092,PLAINTEXT_HOST://localhost:9092',
      '--entrypoint', 'bash', IMAGE, '-c', '. /etc/kafka/docker/configure; echo "$KAFKA_LISTENERS"']).stdout.trim();
    expect(derived).toBe('PLAINTEXT://0.0.0.0:29092,PLAINTEXT_HOST://0.0.0.0:9092');
  });

  test('with only CLUSTER_ID it runs one broker and controller for clients on localhost:9092 (the default server.properties)', async () => {
    const container = resources.run(`${prefix}-defaults`, ['-d', '-e', `CLUSTER_ID=${generateSecret('cluster-id')}`, '-e', 'KAFKA_HEAP_OPTS=-Xmx320m', IMAGE]);
    await waitStarted(container, 1);
    expect(docker(['exec', container, 'ls', '/var/lib/kafka/data']).stdout).toContain('meta.properties');
    expect(tool(container, 'kafka-topics', ['--bootstrap-server', 'localhost:9092', '--create', '--topic', 'defaults', '--partitions', '1']).stdout).toContain('Created topic defaults');
    docker(['rm', '-f', '-v', container]);
  }, 10 * 60_000);

  test('a KRaft broker formats its storage once with CLUSTER_ID, serves records, and keeps data and cluster id across docker restart and a SIGKILL', async () => {
    const network = resources.network('single');
    const volume = resources.volume('single-data');
    const clusterId = generateSecret('cluster-id');
    const bootstrap = `kafka:${KAFKA_INTERNAL_PORT}`;
    const broker = resources.broker(IMAGE, {
      name: `${prefix}-kafka`, host: 'kafka', network, volume, nodeId: 0, clusterId, restart: 'unless-stopped',
      voters: `0@kafka:${KAFKA_CONTROLLER_PORT}`,
      env: {
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1', KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1', KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        // The naming rule: '_' → '.', '__' → '_', '___' → '-'.
        KAFKA_LISTENER_NAME_PLAINTEXT__HOST_MAX_CONNECTIONS: '1000',
        KAFKA_RTDS___TEST_MARKER: 'kept',
        KAFKA_LOG4J_LOGGERS: 'kafka.controller=WARN',
        KAFKA_OPTS: '-Drtds.kraft.test=1',
      },
    });
    await waitStarted(broker, 1);
    const meta = properties(broker, '/var/lib/kafka/data/meta.properties');
    expect({ cluster: meta['cluster.id'], node: meta['node.id'] }).toEqual({ cluster: clusterId, node: '0' });
    const server = properties(broker, '/opt/kafka/config/server.properties');
    expect(server).toMatchObject({
      'node.id': '0', 'process.roles': 'broker,controller', 'controller.quorum.voters': `0@kafka:${KAFKA_CONTROLLER_PORT}`,
      'log.dirs': '/var/lib/kafka/data', 'listener.name.plaintext_host.max.connections': '1000', 'rtds-test.marker': 'kept',
    });
    expect(server).not.toHaveProperty('heap.opts');
    expect(server).not.toHaveProperty('opts');
    expect(docker(['exec', broker, 'cat', '/opt/kafka/config/log4j2.yaml']).stdout).toMatch(/name: "kafka\.controller"\s+level: "WARN"/);
    // The broker is the container's main process, as the stack's uid, with the heap it was given.
    const main = docker(['exec', broker, 'bash', '-c', 'stat -c %u /proc/1; tr "\\0" " " < /proc/1/cmdline']).stdout;
    expect(main).toMatch(/^1000\n.*-Xms320m -Xmx320m .* -Drtds\.kraft\.test=1 .* kafka\.Kafka \/opt\/kafka\/config\/server\.properties/s);

    expect(tool(broker, 'kafka-topics', ['--bootstrap-server', bootstrap, '--create', '--topic', 'users_created', '--partitions', '3', '--replication-factor', '1']).stdout)
      .toContain('Created topic users_created');
    produce(broker, bootstrap, 'users_created', values('first', 50));
    expect(sorted(consume(broker, bootstrap, 'users_created', 50))).toEqual(sorted(values('first', 50)));

    docker(['restart', broker], { timeoutMs: 120_000 });
    await waitStarted(broker, 2);
    produce(broker, bootstrap, 'users_created', values('after-restart', 50));

    // SIGKILL of the main process from the host: the restart policy starts it again, unlike `docker kill`.
    const pid = Number(docker(['inspect', '-f', '{{.State.Pid}}', broker]).stdout.trim());
    process.kill(pid, 'SIGKILL');
    await waitStarted(broker, 3);
    expect(docker(['inspect', '-f', '{{.RestartCount}}', broker]).stdout.trim()).toBe('1');
    expect(sorted(consume(broker, bootstrap, 'users_created', 100))).toEqual(sorted([...values('first', 50), ...values('after-restart', 50)]));
    expect(properties(broker, '/var/lib/kafka/data/meta.properties')['cluster.id']).toBe(clusterId);
    const log = logs(broker);
    expect(occurrences(log, 'Formatting metadata directory /var/lib/kafka/data')).toBe(1);
    expect(occurrences(log, 'Storage already formatted for this cluster: kept as it is')).toBe(2);

    // The same data under another cluster id: the start stops, naming both ids.
    docker(['stop', broker], { timeoutMs: 120_000 });
    const otherId = generateSecret('cluster-id');
    const stranger = resources.broker(IMAGE, { name: `${prefix}-stranger`, host: 'kafka', network, volume, nodeId: 0, clusterId: otherId, voters: `0@kafka:${KAFKA_CONTROLLER_PORT}` });
    expect(docker(['wait', stranger], { timeoutMs: 120_000 }).stdout.trim()).toBe('1');
    expect(logs(stranger)).toContain(`/var/lib/kafka/data was formatted for cluster ${clusterId}, but CLUSTER_ID is ${otherId}`);
    const kept = docker(['run', '--rm', '--label', resources.label, '-v', `${volume}:/data`, '--entrypoint', 'cat', IMAGE, '/data/meta.properties']).stdout;
    expect(kept).toContain(`cluster.id=${clusterId}`);
  }, 20 * 60_000);

  test('three KRaft nodes on a network form a quorum; with one broker killed, acks=all producing goes on and no record is lost', async () => {
    const network = resources.network('quorum');
    const clusterId = generateSecret('cluster-id');
    const nodes = [0, 1, 2];
    const host = (id: number) => `kafka-${id}`;
    const voters = nodes.map((id) => `${id}@${host(id)}:${KAFKA_CONTROLLER_PORT}`).join(',');
    const bootstrap = nodes.map((id) => `${host(id)}:${KAFKA_INTERNAL_PORT}`).join(',');
    const brokers = nodes.map((id) => resources.broker(IMAGE, {
      name: `${prefix}-${host(id)}`, host: host(id), network, volume: resources.volume(`${host(id)}-data`), nodeId: id, clusterId, voters,
      env: {
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '3', KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '3',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '2', KAFKA_MIN_INSYNC_REPLICAS: '2',
      },
    }));
    for (const b of brokers) await waitStarted(b, 1);

    const quorum = (via: string) => {
      const out = tool(via, 'kafka-metadata-quorum', ['--bootstrap-server', bootstrap, 'describe', '--status']).stdout;
      const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)?.[1] ?? '';
      return { clusterId: field('ClusterId'), leader: Number(field('LeaderId')), voters: [...field('CurrentVoters').matchAll(/"id":\s*(\d+)/g)].map((m) => Number(m[1])).sort() };
    };
    const before = quorum(brokers[0]);
    expect({ clusterId: before.clusterId, voters: before.voters }).toEqual({ clusterId, voters: nodes });

    tool(brokers[0], 'kafka-topics', ['--bootstrap-server', bootstrap, '--create', '--topic', 'users_created', '--partitions', '3', '--replication-factor', '3']);
    produce(brokers[0], bootstrap, 'users_created', values('before', 300));
    // Reading once also creates the consumer offsets topic (replication 3) while all three run.
    expect(consume(brokers[0], bootstrap, 'users_created', 300)).toHaveLength(300);

    // Kill the active controller: the harder case, the quorum must elect another.
    const killed = before.leader;
    docker(['kill', brokers[killed]]);
    const survivor = brokers[nodes.find((id) => id !== killed)!];
    produce(survivor, bootstrap, 'users_created', values('after-kill', 300));
    expect(sorted(consume(survivor, bootstrap, 'users_created', 600))).toEqual(sorted([...values('before', 300), ...values('after-kill', 300)]));

    const after = quorum(survivor);
    expect(after.leader).not.toBe(killed);
    const describe = tool(survivor, 'kafka-topics', ['--bootstrap-server', bootstrap, '--describe', '--topic', 'users_created']).stdout;
    const isrs = [...describe.matchAll(/Isr: ([\d,]+)/g)].map((m) => m[1].split(',').map(Number).sort());
    expect(isrs).toEqual(nodes.map(() => nodes.filter((id) => id !== killed)));
  }, 20 * 60_000);
});

// The local stand-in for apache/kafka (images/apache-kafka), built by scripts/deploy/images.ts and
// run on this machine's Docker engine with the wiring the Docker stack renders in KRaft mode:
// what docs/DEPLOY.md says about the image, and one broker that formats its storage once and
// keeps it across restarts and kills. The quorum of three brokers is the Kubernetes tier's
// (test/k8s), where the stack really runs three. Everything runs on networks the test made; no
// host port is published.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { generateSecret, LOCAL_IMAGE_VERSIONS, PORTS } from '../../config/facts';
import { secretVariableName } from '../../constructs/platform/secrets';
import { ensureBaseImage } from '../../scripts/deploy/base-image';
import { ensureDockerd } from '../../scripts/deploy/dockerd';
import { repoRoot } from '../../scripts/deploy/engine';
import { buildImages } from '../../scripts/deploy/images';
import { TestResources, consume, docker, logs, occurrences, produce, properties, renderedContainers, tool, waitStarted } from './kraft-brokers';

/** What `RTDS_KAFKA_MODE=kraft npm run up` deploys on a machine without an image registry. */
const stack = renderedContainers({ kafka: { mode: 'kraft' }, imageMode: 'local', console: { kind: 'none' }, secretSource: 'variables' });
const broker = stack.get('kafka')!;
const topicsJob = stack.get('kafka-topics')!;
const VERSION = LOCAL_IMAGE_VERSIONS['apache-kafka'];
const IMAGE = broker.image;
const CLUSTER_ID_VARIABLE = secretVariableName('kafka-cluster', 'id');
const resources = new TestResources(`kraft-test-${randomBytes(3).toString('hex')}`);
const prefix = resources.prefix;
const values = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
const sorted = (list: readonly string[]) => [...list].sort();

beforeAll(async () => {
  const started = Date.now();
  await ensureDockerd();
  await ensureBaseImage('bookworm');
  await buildImages(['apache_kafka']);
  process.stderr.write(`[kraft image test] ${IMAGE} ready in ${Math.round((Date.now() - started) / 1000)} s\n`);
}, 30 * 60_000);

afterAll(() => {
  expect(resources.removeAll()).toEqual([]);
});

describe(`${IMAGE}, the local drop-in for apache/kafka:${VERSION}`, () => {
  test('is what the KRaft stack deploys, with the upstream command, tools, data path, uid and version label', () => {
    expect({ broker: IMAGE, topicsJob: topicsJob.image }).toEqual({ broker: `rtdatastream/apache-kafka:${VERSION}`, topicsJob: IMAGE });
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

  test('refuses, before starting Java, a start without CLUSTER_ID and the variables it does not implement, naming them', () => {
    const configure = (env: Record<string, string>) =>
      docker(['run', '--rm', '--label', resources.label, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), IMAGE], { allowFailure: true, timeoutMs: 60_000 });
    const refusals = [
      configure({ KAFKA_PROCESS_ROLES: 'broker,controller' }),
      configure({ CLUSTER_ID: generateSecret('cluster-id'), KAFKA_PROCESS_ROLES: 'controller', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092' }),
      configure({ CLUSTER_ID: generateSecret('cluster-id'), KAFKA_SSL_KEYSTORE_FILENAME: 'kafka.keystore.jks' }),
    ].map((r) => ({ status: r.status, message: r.stderr.trim().split('\n').pop() }));
    expect(refusals).toEqual([
      { status: 1, message: expect.stringContaining('CLUSTER_ID is required') },
      { status: 1, message: expect.stringContaining('KAFKA_ADVERTISED_LISTENERS is not supported on a KRaft controller') },
      { status: 1, message: expect.stringContaining('KAFKA_SSL_KEYSTORE_FILENAME is not supported') },
    ]);
  });

  test("the stack's broker formats its storage once with the stack's cluster id, serves the topics job, and keeps data and id across docker restart and a SIGKILL", async () => {
    const network = resources.network('net');
    const volume = resources.volume('kafka-data');
    const clusterId = generateSecret('cluster-id');
    const bootstrap = `${broker.hostname}:${PORTS.kafkaInternal}`;
    const container = resources.start(broker, { name: `${prefix}-kafka`, network, volume, secrets: { [CLUSTER_ID_VARIABLE]: clusterId } });
    await waitStarted(container, 1);
    const meta = properties(container, '/var/lib/kafka/data/meta.properties');
    expect({ cluster: meta['cluster.id'], node: meta['node.id'] }).toEqual({ cluster: clusterId, node: '0' });
    // The stack's KAFKA_* variables reach server.properties through upstream's KafkaDockerWrapper.
    expect(properties(container, '/opt/kafka/config/server.properties')).toMatchObject({
      'node.id': '0', 'process.roles': 'broker,controller', 'controller.quorum.voters': `0@kafka:${PORTS.kafkaController}`,
      'controller.listener.names': 'CONTROLLER', 'log.dirs': '/var/lib/kafka/data',
      'advertised.listeners': `PLAINTEXT://kafka:${PORTS.kafkaInternal},PLAINTEXT_HOST://localhost:${PORTS.kafka}`,
    });
    // The broker is the container's main process, as uid 1000, with the heap the stack gave it.
    const heap = broker.env.find((e) => e.startsWith('KAFKA_HEAP_OPTS='))!.slice('KAFKA_HEAP_OPTS='.length);
    const main = docker(['exec', container, 'bash', '-c', 'stat -c %u /proc/1; tr "\\0" " " < /proc/1/cmdline']).stdout;
    expect(main).toMatch(new RegExp(`^1000\\n.*${heap} .* kafka\\.Kafka /opt/kafka/config/server\\.properties`, 's'));

    // The stack's own topics job, on the same network: both pipeline topics, then exit 0.
    const job = resources.start(topicsJob, { name: `${prefix}-kafka-topics`, network, secrets: {}, detach: false });
    expect(docker(['inspect', '-f', '{{.State.ExitCode}}', job]).stdout.trim()).toBe('0');
    const topics = tool(container, 'kafka-topics', ['--bootstrap-server', bootstrap, '--list']).stdout.split('\n').filter(Boolean);
    const created = [...topicsJob.entrypoint.join(' ').matchAll(/--create --if-not-exists --topic (\S+)/g)].map((m) => m[1]);
    expect(created).toHaveLength(2);
    expect(topics).toEqual(expect.arrayContaining(created));
    const topic = created[0];
    produce(container, bootstrap, topic, values('first', 50));

    docker(['restart', container], { timeoutMs: 120_000 });
    await waitStarted(container, 2);
    produce(container, bootstrap, topic, values('after-restart', 50));

    // SIGKILL of the main process from the host: the stack's restart policy starts it again, unlike `docker kill`.
    expect(broker.restart).toBe('unless-stopped');
    const pid = Number(docker(['inspect', '-f', '{{.State.Pid}}', container]).stdout.trim());
    process.kill(pid, 'SIGKILL');
    await waitStarted(container, 3);
    expect(docker(['inspect', '-f', '{{.RestartCount}}', container]).stdout.trim()).toBe('1');
    expect(sorted(consume(container, bootstrap, topic, 100))).toEqual(sorted([...values('first', 50), ...values('after-restart', 50)]));
    expect(properties(container, '/var/lib/kafka/data/meta.properties')['cluster.id']).toBe(clusterId);
    const log = logs(container);
    expect(occurrences(log, 'Formatting metadata directory /var/lib/kafka/data')).toBe(1);
    expect(occurrences(log, 'Storage already formatted for this cluster: kept as it is')).toBe(2);

    // The same data under another cluster id: the start stops, naming both ids, and the data is kept.
    docker(['rm', '-f', container], { timeoutMs: 120_000 });
    const otherId = generateSecret('cluster-id');
    const stranger = resources.start({ ...broker, restart: 'no' }, { name: `${prefix}-stranger`, network, volume, secrets: { [CLUSTER_ID_VARIABLE]: otherId } });
    expect(docker(['wait', stranger], { timeoutMs: 120_000 }).stdout.trim()).toBe('1');
    expect(logs(stranger)).toContain(`/var/lib/kafka/data was formatted for cluster ${clusterId}, but CLUSTER_ID is ${otherId}`);
    const kept = docker(['run', '--rm', '--label', resources.label, '-v', `${volume}:/data`, '--entrypoint', 'cat', IMAGE, '/data/meta.properties']).stdout;
    expect(kept).toContain(`cluster.id=${clusterId}`);
  }, 20 * 60_000);
});

// KRaft brokers of the local apache/kafka image for its test: containers on networks and volumes
// the test made (all carrying one label, so a failed run still removes everything), the
// image's own command-line tools run inside them, and waits on what the brokers log.
import { spawnSync } from 'child_process';
import { KAFKA_CONTROLLER_PORT, KAFKA_HOST_PORT, KAFKA_INTERNAL_PORT } from '../../constructs/components/kafka';
import { sleep } from '../../scripts/deploy/engine';

export interface DockerResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The docker CLI; throws with its stderr when it fails, unless `allowFailure`. */
export function docker(args: readonly string[], options: { input?: string; timeoutMs?: number; allowFailure?: boolean } = {}): DockerResult {
  const r = spawnSync('docker', args, { input: options.input, encoding: 'utf8', timeout: options.timeoutMs ?? 180_000, maxBuffer: 64 << 20 });
  const result = { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (!options.allowFailure && (r.error || result.status !== 0)) {
    throw new Error(`docker ${args.join(' ')}: ${r.error?.message ?? `exit ${result.status}`}\n${result.stderr.trim()}`);
  }
  return result;
}


export interface BrokerSpec {
  readonly name: string;
  /** Host name on the network: the voters and the advertised listener use it. */
  readonly host: string;
  readonly network: string;
  readonly volume: string;
  readonly nodeId: number;
  /** `id@host:port,...` of every controller. */
  readonly voters: string;
  readonly clusterId: string;
  /** Docker restart policy. @default 'no' */
  readonly restart?: 'no' | 'unless-stopped';
  /** More variables, or overrides of the defaults below. */
  readonly env?: Record<string, string>;
}

/** One test run's resources: everything is created with the run's label and removed by it. */
export class TestResources {
  readonly label: string;

  constructor(readonly prefix: string) {
    this.label = `rtds.test=${prefix}`;
  }

  network(suffix: string): string {
    const name = `${this.prefix}-${suffix}`;
    docker(['network', 'create', '--label', this.label, name]);
    return name;
  }

  volume(suffix: string): string {
    const name = `${this.prefix}-${suffix}`;
    docker(['volume', 'create', '--label', this.label, name]);
    return name;
  }

  /** `docker run` with the run's label; returns the container name. */
  run(name: string, args: readonly string[]): string {
    docker(['run', '--name', name, '--label', this.label, ...args]);
    return name;
  }

  /** A broker+controller node with the listeners and settings the stack gives one in KRaft mode. */
  broker(image: string, spec: BrokerSpec): string {
    const env: Record<string, string> = {
      CLUSTER_ID: spec.clusterId,
      KAFKA_NODE_ID: String(spec.nodeId),
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: spec.voters,
      KAFKA_LISTENERS: `PLAINTEXT://:${KAFKA_INTERNAL_PORT},CONTROLLER://:${KAFKA_CONTROLLER_PORT},PLAINTEXT_HOST://:${KAFKA_HOST_PORT}`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${spec.host}:${KAFKA_INTERNAL_PORT},PLAINTEXT_HOST://localhost:${KAFKA_HOST_PORT}`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_LOG_DIRS: '/var/lib/kafka/data',
      KAFKA_HEAP_OPTS: '-Xms320m -Xmx320m',
      ...spec.env,
    };
    return this.run(spec.name, [
      '-d', '--hostname', spec.host, '--network', spec.network, '--restart', spec.restart ?? 'no',
      '-v', `${spec.volume}:/var/lib/kafka/data`,
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      image,
    ]);
  }

  /** Removes every container, volume and network of the run; returns what is still there. */
  removeAll(): string[] {
    const ids = (kind: 'container' | 'volume' | 'network') =>
      docker([kind, 'ls', ...(kind === 'container' ? ['-a'] : []), '-q', '--filter', `label=${this.label}`], { allowFailure: true })
        .stdout.split('\n').filter(Boolean);
    const containers = ids('container');
    if (containers.length) docker(['rm', '-f', '-v', ...containers], { allowFailure: true });
    const volumes = ids('volume');
    if (volumes.length) docker(['volume', 'rm', '-f', ...volumes], { allowFailure: true });
    const networks = ids('network');
    if (networks.length) docker(['network', 'rm', ...networks], { allowFailure: true });
    return [...ids('container'), ...ids('volume'), ...ids('network')];
  }
}

export function logs(container: string): string {
  const r = docker(['logs', container], { allowFailure: true });
  return r.stdout + r.stderr;
}

export function occurrences(text: string, what: string): number {
  return text.split(what).length - 1;
}

/** Waits until the broker has logged its `starts`-th start (restarts append to the same log). */
export async function waitStarted(container: string, starts: number, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = logs(container);
    if (occurrences(text, 'Kafka Server started') >= starts) return;
    const state = docker(['inspect', '-f', '{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}', container]).stdout.trim();
    if (state === 'exited no' || Date.now() > deadline) {
      throw new Error(`${container}: start ${starts} not logged (${state}); log tail:\n${text.split('\n').slice(-30).join('\n')}`);
    }
    await sleep(2000);
  }
}

/** One of the image's /opt/kafka/bin tools inside a container, with a small heap as the stack's topics job. */
export function tool(container: string, name: string, args: readonly string[], options: { input?: string; allowFailure?: boolean } = {}): DockerResult {
  const stdin = options.input === undefined ? [] : ['-i'];
  return docker(['exec', ...stdin, '-e', 'KAFKA_HEAP_OPTS=-Xmx192m', container, `/opt/kafka/bin/${name}.sh`, ...args], options);
}

/** Sends one record per value with acks=all; throws when the producer reports an error. */
export function produce(container: string, bootstrap: string, topic: string, values: readonly string[]): void {
  const r = tool(container, 'kafka-console-producer', ['--bootstrap-server', bootstrap, '--topic', topic, '--producer-property', 'acks=all'], {
    input: values.join('\n') + '\n',
  });
  // WARN lines about a killed broker are expected; a record that could not be sent is logged as ERROR.
  const errors = r.stderr.split('\n').filter((line) => /^\[[^\]]*\] ERROR /.test(line));
  if (errors.length) throw new Error(`producing to ${topic} via ${container} reported errors:\n${errors.join('\n')}`);
}

/** The values of up to `count` records of a topic read from the beginning (fewer if none comes for 60 s). */
export function consume(container: string, bootstrap: string, topic: string, count: number): string[] {
  const r = tool(container, 'kafka-console-consumer', [
    '--bootstrap-server', bootstrap, '--topic', topic, '--from-beginning', '--max-messages', String(count), '--timeout-ms', '60000',
  ], { allowFailure: true });
  return r.stdout.split('\n').filter(Boolean);
}

/** `key=value` lines of a properties file inside a container. */
export function properties(container: string, file: string): Record<string, string> {
  const text = docker(['exec', container, 'cat', file]).stdout;
  return Object.fromEntries(
    text.split('\n').filter((l) => l.includes('=') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

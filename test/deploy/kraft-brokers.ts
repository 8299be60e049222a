// KRaft brokers of the local apache/kafka image for its test, run with the wiring the Docker
// stack itself renders (read from the synthesized stack, not a copy of kafka.ts): containers on
// networks and volumes the test made (all carrying one label, so a failed run still removes
// everything), the image's own command-line tools run inside them, and waits on what they log.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Testing } from 'cdktf';
import { configWith, DeepPartial, PipelineConfig } from '../../config';
import { DockerStack } from '../../stacks/docker';
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

/** A docker_container of the synthesized stack, as far as `docker run` needs it. */
export interface RenderedContainer {
  readonly name: string;
  readonly image: string;
  readonly hostname: string;
  readonly aliases: readonly string[];
  readonly entrypoint: readonly string[];
  /** NAME=value as Terraform reads it: `$${` escapes a literal `${`, secrets are `${var.<name>}`. */
  readonly env: readonly string[];
  readonly restart: string;
  readonly memoryMiB: number;
  readonly mountPaths: readonly string[];
}

/** The Docker stack `npm run up` deploys for this config, synthesized in memory. */
export function renderedContainers(overlay: DeepPartial<PipelineConfig>): Map<string, RenderedContainer> {
  const config = configWith(overlay);
  const stack = new DockerStack(Testing.app(), 'docker', { config, repoDir: path.resolve(__dirname, '../..') });
  const json = JSON.parse(Testing.synth(stack)) as { resource: Record<string, Record<string, any>> };
  const images = json.resource.docker_image ?? {};
  const out = new Map<string, RenderedContainer>();
  for (const c of Object.values(json.resource.docker_container ?? {})) {
    const imageKey = /^\$\{docker_image\.([^.]+)\.image_id\}$/.exec(c.image)?.[1];
    out.set(c.hostname, {
      name: c.name,
      image: imageKey ? images[imageKey].name : c.image,
      hostname: c.hostname,
      aliases: c.networks_advanced.flatMap((n: { aliases?: string[] }) => n.aliases ?? []),
      entrypoint: (c.entrypoint ?? []).map(literal),
      env: c.env ?? [],
      restart: c.restart,
      memoryMiB: c.memory,
      mountPaths: (c.volumes ?? []).map((v: { container_path: string }) => v.container_path),
    });
  }
  return out;
}

/** A Terraform string with no expression in it, as the engine receives it (`$${` → `${`, `%%{` → `%{`). */
function literal(value: string): string {
  if (/(?<![$%])[$%]\{/.test(value)) throw new Error(`unresolved Terraform expression in ${value}`);
  return value.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
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

  /**
   * Starts a rendered container as the stack would (entrypoint, environment, host name, aliases,
   * restart policy, memory limit, its volume), on a network of this run. `secrets` gives the
   * values of the `${var.<name>}` references; any other Terraform expression left is an error.
   */
  start(c: RenderedContainer, options: { name: string; network: string; volume?: string; secrets: Readonly<Record<string, string>>; detach?: boolean }): string {
    const env = c.env.map((e) => literal(e.replace(/(?<!\$)\$\{var\.([a-z0-9_]+)\}/g, (_, v: string) => {
      if (options.secrets[v] === undefined) throw new Error(`${c.name}: no value given for the secret variable ${v}`);
      return options.secrets[v];
    })));
    if (c.mountPaths.length > 1 || (c.mountPaths.length === 1) !== (options.volume !== undefined))
      throw new Error(`${c.name} mounts ${JSON.stringify(c.mountPaths)}: give exactly one volume for a single mount`);
    return this.run(options.name, [
      ...(options.detach === false ? [] : ['-d']),
      '--hostname', c.hostname, '--network', options.network, ...c.aliases.flatMap((a) => ['--network-alias', a]),
      '--restart', c.restart, '--memory', `${c.memoryMiB}m`,
      ...(options.volume ? ['-v', `${options.volume}:${c.mountPaths[0]}`] : []),
      ...env.flatMap((e) => ['-e', e]),
      '--entrypoint', c.entrypoint[0], c.image, ...c.entrypoint.slice(1),
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

// What `npm run up`, `npm run down` and the deploy tests share: the toolchain scripts, the
// deploy secrets, synthesis of the offline app, and the project's resources on the engine.
import { execFileSync, spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generateSecret, LOCAL_IMAGE_VERSIONS } from '../../config/facts';
import type { SecretVariable } from '../../constructs/platform/secrets';
import { ensureDockerd } from './dockerd';
import { ensureToolchain } from './terraform';

export const repoRoot = path.resolve(__dirname, '../..');
export const stackDir = path.join(repoRoot, 'cdktf.out', 'stacks', 'docker');

/** Deploy state kept beside the local services' state: <RTDS_HOME or <repo>/.rtds>/deploy. */
export function deployHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.RTDS_HOME ? path.resolve(env.RTDS_HOME) : path.join(repoRoot, '.rtds'), 'deploy');
}

export function log(message: string): void {
  process.stderr.write(`[deploy] ${message}\n`);
}

/** Runs a command with inherited output; throws naming the command when it fails. */
export function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): void {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: repoRoot, ...options });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

/** Output of a command, trimmed; throws with its stderr when it fails. */
export function capture(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  try {
    return execFileSync(command, args, { cwd: options.cwd ?? repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: options.env }).trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** Starts the engine if needed and returns Terraform's environment (offline provider mirror). */
export async function prepareToolchain(): Promise<NodeJS.ProcessEnv> {
  await ensureDockerd();
  return { ...process.env, CHECKPOINT_DISABLE: '1', ...(await ensureToolchain()) };
}

/** Synthesizes the Docker stack, pinned to the offline mirror, into cdktf.out/stacks/docker. */
export function synth(env: NodeJS.ProcessEnv): void {
  const start = Date.now();
  run('npx', ['ts-node', '--transpile-only', path.join(__dirname, 'offline-app.ts')], { env });
  log(`synthesized the docker stack in ${((Date.now() - start) / 1000).toFixed(1)} s`);
}

interface SynthesizedStack {
  resource?: Record<string, Record<string, { name?: string; build?: { context?: string } }>>;
}

/**
 * Local images are tagged with the upstream version they stand in for, but built from
 * images/<dir>/Dockerfile at the version config/facts gives (its ARGs, and the shared layers
 * images.ts builds). Returns the problems: a missing Dockerfile, or a tag of another version.
 */
export function localImageProblems(): string[] {
  const problems: string[] = [];
  for (const image of Object.values(readStack().resource?.docker_image ?? {})) {
    const m = /^rtdatastream\/([a-z0-9-]+):(.+)$/.exec(String(image.name));
    const context = image.build?.context ?? '';
    if (!m || !context.endsWith(`/images/${m[1]}`)) continue;
    const dockerfile = path.join(repoRoot, 'images', m[1], 'Dockerfile');
    if (!fs.existsSync(dockerfile)) {
      problems.push(`${image.name}: images/${m[1]}/Dockerfile does not exist`);
      continue;
    }
    const built = LOCAL_IMAGE_VERSIONS[m[1]];
    if (built !== m[2]) {
      problems.push(`${image.name}: images/${m[1]}/Dockerfile builds version ${built ?? '(none in config/facts LOCAL_IMAGE_VERSIONS)'}, the stack asks for ${m[2]}`);
    }
  }
  return problems;
}

export function readStack(): SynthesizedStack {
  const file = path.join(stackDir, 'cdk.tf.json');
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: synthesize first`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SynthesizedStack;
}

/** The sensitive variables the synthesized stack declares, with their kinds (written by offline-app.ts). */
export const SECRET_VARIABLES_FILE = 'secret-variables.json';

function secretVariables(): SecretVariable[] {
  const file = path.join(stackDir, SECRET_VARIABLES_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: synthesize with scripts/deploy/offline-app.ts first`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SecretVariable[];
}

/**
 * TF_VAR_* values for every sensitive variable of the stack, generated once and kept (mode
 * 0600) so a redeploy over kept volumes uses the passwords their data was created with.
 */
export function deploySecrets(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const file = path.join(deployHome(env), 'secrets.json');
  const kept: Record<string, string> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const vars: Record<string, string> = {};
  let changed = false;
  for (const { variable, kind, length } of secretVariables()) {
    if (!kept[variable]) { kept[variable] = generateSecret(kind, length); changed = true; }
    vars[`TF_VAR_${variable}`] = kept[variable];
  }
  if (changed) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(kept, null, 2), { mode: 0o600 });
  }
  return vars;
}

export function forgetDeploySecrets(env: NodeJS.ProcessEnv = process.env): void {
  fs.rmSync(path.join(deployHome(env), 'secrets.json'), { force: true });
}

/** Names of the containers, networks, volumes and images the synthesized stack declares. */
export function declaredResources(): { containers: string[]; networks: string[]; volumes: string[]; images: string[] } {
  const r = readStack().resource ?? {};
  const names = (type: string) => Object.values(r[type] ?? {}).map((x) => String(x.name));
  return { containers: names('docker_container'), networks: names('docker_network'), volumes: names('docker_volume'), images: names('docker_image') };
}

/** What of the project the engine still has: containers by label, networks and volumes by name. */
export function leftovers(declared = declaredResources()): { containers: string[]; networks: string[]; volumes: string[] } {
  const lines = (args: string[]) => capture('docker', args).split('\n').filter(Boolean);
  const containers = lines(['ps', '-a', '--filter', 'label=app.kubernetes.io/part-of=rtdatastream', '--format', '{{.Names}}']);
  const networks = lines(['network', 'ls', '--format', '{{.Name}}']).filter((n) => declared.networks.includes(n));
  const volumes = lines(['volume', 'ls', '--format', '{{.Name}}']).filter((v) => declared.volumes.includes(v));
  return { containers, networks, volumes };
}

export interface ContainerState {
  readonly name: string;
  readonly status: string;
  readonly health: string;
  readonly exitCode: number;
  readonly ports: string;
}

/** State of the project's containers (label app.kubernetes.io/part-of=rtdatastream). */
export function containerStates(): ContainerState[] {
  const ids = capture('docker', ['ps', '-aq', '--filter', 'label=app.kubernetes.io/part-of=rtdatastream']).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const format = '{{.Name}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{range $p, $b := .NetworkSettings.Ports}}{{range $b}}{{.HostIp}}:{{.HostPort}}->{{$p}} {{end}}{{end}}';
  return capture('docker', ['inspect', '--format', format, ...ids]).split('\n').map((line) => {
    const [name, status, health, exitCode, ports] = line.split('|');
    return { name: name.replace(/^\//, ''), status, health, exitCode: Number(exitCode), ports: ports.trim() };
  }).sort((a, b) => a.name.localeCompare(b.name));
}

export { sleep } from '../services/process';

// What `npm run up`, `npm run down` and the deploy tests share on both targets: running commands,
// the toolchain (Docker engine, Terraform and the offline provider mirror), synthesis of the
// offline app, the deploy state folder and the deploy secrets.
import { execFileSync, spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { generateSecret } from '../../config/facts';
import type { SecretVariable } from '../../constructs/platform/secrets';
import { ensureDockerd } from './dockerd';
import { ensureToolchain } from './terraform';

export const repoRoot = path.resolve(__dirname, '../..');

/** Where `npm run up` deploys: the local Docker engine (default) or a Kubernetes cluster. */
export type Target = 'docker' | 'kubernetes';
export const TARGETS: readonly Target[] = ['docker', 'kubernetes'];

/** The synthesized stack of a target (and of its helper stacks, e.g. `kubernetes-images`). */
export function stackDir(stack: string): string {
  return path.join(repoRoot, 'cdktf.out', 'stacks', stack);
}

/** Terraform state of a stack: the file cdktf uses by default, in the repository root. */
export function statePath(stack: string): string {
  return path.join(repoRoot, `terraform.${stack}.tfstate`);
}

/**
 * Deploy state kept beside the local services' state: <RTDS_HOME or <repo>/.rtds>/deploy for the
 * Docker target (where it always was), .../deploy/kubernetes for Kubernetes.
 */
export function deployHome(env: NodeJS.ProcessEnv = process.env, target: Target = 'docker'): string {
  const home = path.join(env.RTDS_HOME ? path.resolve(env.RTDS_HOME) : path.join(repoRoot, '.rtds'), 'deploy');
  return target === 'docker' ? home : path.join(home, target);
}

export function log(message: string): void {
  process.stderr.write(`[deploy] ${message}\n`);
}

/** Seconds since `since`, rounded to a tenth. */
export function secondsSince(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
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
    return execFileSync(command, args, { cwd: options.cwd ?? repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: options.env, maxBuffer: 64 << 20 }).trim();
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

/** Synthesizes the target's stacks, pinned to the offline mirror, into cdktf.out/stacks/. */
export function synth(env: NodeJS.ProcessEnv, target: Target = 'docker'): void {
  const start = Date.now();
  run('npx', ['ts-node', '--transpile-only', path.join(__dirname, 'offline-app.ts'), target], { env });
  log(`synthesized the ${target} stack in ${secondsSince(start)} s`);
}

/** `cdktf deploy` or `destroy` of one synthesized stack, non-interactive. */
export function cdktf(command: 'deploy' | 'destroy', stack: string, env: NodeJS.ProcessEnv, extra: readonly string[] = []): void {
  run('npx', ['cdktf', command, stack, '--skip-synth', '--skip-provider-lock', '--auto-approve', ...extra], { env: { ...env, CI: env.CI ?? '1' } });
}

export interface SynthesizedStack {
  resource?: Record<string, Record<string, { name?: string; build?: { context?: string } }>>;
}

export function readStack(stack: string = 'docker'): SynthesizedStack {
  const file = path.join(stackDir(stack), 'cdk.tf.json');
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: synthesize first`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SynthesizedStack;
}

/** The sensitive variables the synthesized stack declares, with their kinds (written by offline-app.ts). */
export const SECRET_VARIABLES_FILE = 'secret-variables.json';

function secretVariables(target: Target): SecretVariable[] {
  const file = path.join(stackDir(target), SECRET_VARIABLES_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: synthesize with scripts/deploy/offline-app.ts first`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SecretVariable[];
}

/**
 * TF_VAR_* values for every sensitive variable of the stack, generated once and kept (mode
 * 0600) so a redeploy over kept volumes uses the passwords their data was created with.
 */
export function deploySecrets(env: NodeJS.ProcessEnv = process.env, target: Target = 'docker'): Record<string, string> {
  const file = path.join(deployHome(env, target), 'secrets.json');
  const kept: Record<string, string> = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const vars: Record<string, string> = {};
  let changed = false;
  for (const { variable, kind, length } of secretVariables(target)) {
    if (!kept[variable]) { kept[variable] = generateSecret(kind, length); changed = true; }
    vars[`TF_VAR_${variable}`] = kept[variable];
  }
  if (changed) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(kept, null, 2), { mode: 0o600 });
  }
  return vars;
}

export function forgetDeploySecrets(env: NodeJS.ProcessEnv = process.env, target: Target = 'docker'): void {
  fs.rmSync(path.join(deployHome(env, target), 'secrets.json'), { force: true });
}

export { sleep } from '../services/process';

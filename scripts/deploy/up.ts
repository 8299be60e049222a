// `npm run up`: installs what is missing (Docker engine, Terraform, providers, local images),
// synthesizes the Docker stack, deploys it with `cdktf deploy`, waits until every service is
// healthy and prints where the UIs answer.
//
// Usage: npm run up -- [--image-mode local|upstream] [--timeout-minutes N]
// Without --image-mode (or RTDS_IMAGE_MODE / imageMode in the config file) it uses the official
// images when the engine can pull them and builds them all locally when it cannot.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { loadConfig } from '../../config';
import {
  ContainerState, containerStates, deployHome, deploySecrets, localImageProblems, log, prepareToolchain, repoRoot, run, sleep, synth,
} from './engine';
import { buildImages, layersFor } from './images';

export interface UpOptions {
  /** @default the config's imageMode (RTDS_IMAGE_MODE, rtds.config.json), else 'upstream' when the engine can pull, 'local' when not */
  readonly imageMode?: 'local' | 'upstream';
  /** How long to wait for every service to be healthy after apply. @default 15 */
  readonly timeoutMinutes?: number;
}

export function parseUpArgs(argv: readonly string[]): UpOptions {
  const options: { imageMode?: 'local' | 'upstream'; timeoutMinutes?: number } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--image-mode') {
      const v = value();
      if (v !== 'local' && v !== 'upstream') throw new Error(`--image-mode must be 'local' or 'upstream', not '${v}'`);
      options.imageMode = v;
    } else if (arg === '--timeout-minutes') {
      const v = Number(value());
      if (!Number.isFinite(v) || v <= 0) throw new Error(`--timeout-minutes must be a positive number, not '${argv[i]}'`);
      options.timeoutMinutes = v;
    } else {
      throw new Error(`unknown argument '${arg}' (known: --image-mode local|upstream, --timeout-minutes N)`);
    }
  }
  return options;
}

/** Settings synthesis runs with; kept so `down` destroys what `up` deployed. */
export function deployEnv(base: NodeJS.ProcessEnv, options: UpOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  if (options.imageMode) env.RTDS_IMAGE_MODE = options.imageMode;
  // The random provider cannot be put in the offline mirror: secrets come from TF_VAR_*.
  env.RTDS_SECRET_SOURCE ??= 'variables';
  // 'kafka-ui' is valid in both image modes, so it only serves to read which mode is configured.
  if (env.RTDS_CONSOLE_KIND === undefined && loadConfig({ env: { ...env, RTDS_CONSOLE_KIND: 'kafka-ui' }, cwd: repoRoot }).imageMode === 'local') {
    env.RTDS_CONSOLE_KIND = consoleForLocalImages(env);
  }
  return env;
}

/**
 * No open console can be built from the package registries (kafka-ui ships as a release jar
 * only), so local images deploy without one where the config allows it.
 */
export function consoleForLocalImages(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig({ env: { ...env, RTDS_CONSOLE_KIND: 'none' }, cwd: repoRoot });
    return 'none';
  } catch {
    log("imageMode 'local': this config has no 'none' console; images/kafka-ui cannot be built offline, so the deploy will fail there");
    return 'kafka-ui';
  }
}

// RTDS_KAFKA_MODE: a KRaft stack has other services and secrets than a ZooKeeper one.
const KEPT_SETTINGS = ['RTDS_IMAGE_MODE', 'RTDS_SECRET_SOURCE', 'RTDS_CONSOLE_KIND', 'RTDS_CONFIG', 'RTDS_KAFKA_MODE'];

export function saveSettings(env: NodeJS.ProcessEnv): void {
  const kept = Object.fromEntries(KEPT_SETTINGS.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  fs.mkdirSync(deployHome(env), { recursive: true });
  fs.writeFileSync(path.join(deployHome(env), 'settings.json'), JSON.stringify(kept, null, 2));
}

export function loadSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  const file = path.join(deployHome(env), 'settings.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
}

/** Waits until every service container is healthy (or running, without a check) and every job exited 0. */
export async function waitHealthy(timeoutMinutes: number): Promise<ContainerState[]> {
  const deadline = Date.now() + timeoutMinutes * 60_000;
  let states: ContainerState[] = [];
  while (Date.now() < deadline) {
    states = containerStates();
    const failed = states.filter((s) => s.status === 'exited' && s.exitCode !== 0);
    if (failed.length) throw new Error(`containers failed: ${failed.map((s) => `${s.name} (exit ${s.exitCode})`).join(', ')}; see docker logs <name>`);
    const waiting = states.filter((s) => s.status !== 'exited' && !(s.health === 'healthy' || (s.health === '' && s.status === 'running')));
    if (states.length > 0 && waiting.length === 0) return states;
    await sleep(5000);
  }
  const waiting = states.filter((s) => s.status !== 'exited' && s.health !== 'healthy');
  throw new Error(`not healthy after ${timeoutMinutes} min: ${waiting.map((s) => `${s.name} (${s.status}${s.health ? ', ' + s.health : ''})`).join(', ')}`);
}

export function printSummary(states: readonly ContainerState[], outputsFile: string): void {
  const table = states.map((s) => `  ${s.name.padEnd(32)} ${(s.health || s.status).padEnd(10)} ${s.status === 'exited' ? `exit ${s.exitCode}` : s.ports}`);
  process.stdout.write(`\nContainers:\n${table.join('\n')}\n`);
  if (fs.existsSync(outputsFile)) {
    const outputs = (JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, unknown>>).docker ?? {};
    const lines = Object.entries(outputs).map(([k, v]) => `  ${k.padEnd(32)} ${String(v)}`);
    process.stdout.write(`\nAddresses:\n${lines.join('\n')}\n`);
  }
  // Where to read the login, never the value itself: terminals end up in logs and screenshots.
  const secretsFile = path.join(path.dirname(outputsFile), 'secrets.json');
  if (fs.existsSync(secretsFile)) {
    process.stdout.write(`\nAirflow login: user admin, password under "airflow_admin_password" in ${secretsFile}\n`);
  }
}

/**
 * One-shot jobs that exited non-zero would fail the plan's exit-code postcondition forever;
 * removing them makes this `up` run them again.
 */
export function retryFailedJobs(): string[] {
  const failed = containerStates().filter((s) => s.status === 'exited' && s.exitCode !== 0).map((s) => s.name);
  if (failed.length) {
    log(`running failed one-shot jobs again: ${failed.join(', ')}`);
    run('docker', ['rm', ...failed], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return failed;
}

/** Whether the user chose an image mode (flag, environment or config file) rather than the default. */
function imageModeChosen(options: UpOptions, env: NodeJS.ProcessEnv): boolean {
  if (options.imageMode || env.RTDS_IMAGE_MODE) return true;
  const file = path.resolve(repoRoot, env.RTDS_CONFIG || 'rtds.config.json');
  if (!fs.existsSync(file)) return false;
  try {
    return 'imageMode' in JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return false; // loadConfig reports a malformed file with the field at fault
  }
}

/**
 * With no image mode chosen, the official images are used when the engine has them or can pull
 * them; on a machine without an image registry every image is built here instead, so the one
 * command works on a laptop and on an air-gapped machine alike.
 */
export function resolveImageMode(options: UpOptions, env: NodeJS.ProcessEnv): UpOptions {
  if (imageModeChosen(options, env)) return options;
  const probe = loadConfig({ env, cwd: repoRoot }).postgres.image;
  const has = spawnSync('docker', ['image', 'inspect', probe], { stdio: 'ignore' }).status === 0;
  if (has) return options;
  log(`checking that the engine can pull the official images (${probe})`);
  const pull = spawnSync('docker', ['pull', '-q', probe], { stdio: 'ignore', timeout: 120_000 });
  if (pull.status === 0) return options;
  log(`no image registry answered for ${probe}: building every image here (imageMode 'local'; --image-mode upstream insists on pulling)`);
  return { ...options, imageMode: 'local' };
}

export async function up(requested: UpOptions): Promise<ContainerState[]> {
  const start = Date.now();
  const lap = (what: string, since: number) => log(`${what} in ${((Date.now() - since) / 1000).toFixed(0)} s`);
  let t = Date.now();
  const toolchain = await prepareToolchain();
  lap('engine and Terraform ready', t);
  const options = resolveImageMode(requested, toolchain);
  const env = deployEnv(toolchain, options);
  const config = loadConfig({ env, cwd: repoRoot });
  if (config.imageMode === 'local') {
    t = Date.now();
    // Shared layers only; the Docker provider builds the component images from images/<dir>.
    await buildImages(layersFor(config.kafka.mode));
    lap('local base layers ready', t);
  }
  t = Date.now();
  synth(env);
  if (config.imageMode === 'local') {
    const problems = localImageProblems();
    const drift = problems.filter((p) => !p.endsWith('does not exist'));
    if (drift.length) throw new Error(`local images do not match the stack's versions:\n  ${drift.join('\n  ')}`);
    for (const p of problems) log(`warning: ${p}; the deploy will fail on that image`);
  }
  saveSettings(env);
  const secrets = deploySecrets(env);
  retryFailedJobs();
  const outputsFile = path.join(deployHome(env), 'outputs.json');
  run('npx', ['cdktf', 'deploy', 'docker', '--skip-synth', '--skip-provider-lock', '--auto-approve', '--outputs-file', outputsFile], {
    env: { ...env, ...secrets, CI: env.CI ?? '1' },
  });
  lap('cdktf deploy finished', t);
  t = Date.now();
  const states = await waitHealthy(options.timeoutMinutes ?? 15);
  lap('every service healthy', t);
  printSummary(states, outputsFile);
  log(`up took ${((Date.now() - start) / 1000).toFixed(0)} s`);
  return states;
}

if (require.main === module) {
  up(parseUpArgs(process.argv.slice(2))).catch((err: Error) => {
    log(`error: ${err.message}`);
    process.exit(1);
  });
}

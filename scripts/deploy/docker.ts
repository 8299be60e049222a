// The Docker target of `npm run up` / `npm run down`: cdktf deploy of the Docker stack (the
// provider builds the component images), health of the project's containers, what destroy leaves.
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from '../../config';
import {
  capture, cdktf, deployHome, deploySecrets, forgetDeploySecrets, log, readStack, repoRoot, run, secondsSince, sleep, stackDir, statePath, synth,
} from './engine';
import { buildLayers, checkLocalImages } from './local-images';
import { deployEnv, ImageModeOption, loadSettings, saveSettings } from './settings';

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

/** Names of the containers, networks, volumes and images the synthesized stack declares. */
export function declaredResources(): { containers: string[]; networks: string[]; volumes: string[]; images: string[] } {
  const r = readStack('docker').resource ?? {};
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

/** Synthesizes, deploys and waits for health. */
export async function upDocker(toolchain: NodeJS.ProcessEnv, imageMode: ImageModeOption | undefined, timeoutMinutes: number): Promise<ContainerState[]> {
  const env = deployEnv(toolchain, imageMode);
  const config = loadConfig({ env, cwd: repoRoot });
  if (config.imageMode === 'local') await buildLayers(config.kafka.mode);
  let t = Date.now();
  synth(env, 'docker');
  if (config.imageMode === 'local') checkLocalImages('docker');
  saveSettings(env, 'docker');
  const secrets = deploySecrets(env, 'docker');
  retryFailedJobs();
  const outputsFile = path.join(deployHome(env), 'outputs.json');
  cdktf('deploy', 'docker', { ...env, ...secrets }, ['--outputs-file', outputsFile]);
  log(`cdktf deploy finished in ${secondsSince(t)} s`);
  t = Date.now();
  const states = await waitHealthy(timeoutMinutes);
  log(`every service healthy in ${secondsSince(t)} s`);
  printSummary(states, outputsFile);
  return states;
}

/** `cdktf destroy docker`, keeping the volumes with `keepData`; fails naming anything left. */
export function downDocker(toolchain: NodeJS.ProcessEnv, keepData: boolean): { containers: string[]; networks: string[]; volumes: string[] } {
  const env: NodeJS.ProcessEnv = { ...toolchain, ...loadSettings(toolchain, 'docker') };
  env.RTDS_SECRET_SOURCE ??= 'variables';
  synth(env, 'docker');
  const tfEnv = { ...env, ...deploySecrets(env, 'docker') };
  const terraform = env.TERRAFORM_BINARY_NAME!;
  if (keepData && fs.existsSync(statePath('docker'))) {
    const cwd = stackDir('docker');
    run(terraform, ['init', '-input=false'], { cwd, env: tfEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    const volumes = capture(terraform, ['state', 'list'], { env: tfEnv, cwd }).split('\n').filter((a) => a.startsWith('docker_volume.'));
    // Forgotten by Terraform, the volumes survive destroy; the next `up` adopts them by name.
    if (volumes.length) run(terraform, ['state', 'rm', ...volumes], { cwd, env: tfEnv });
  }
  cdktf('destroy', 'docker', tfEnv);
  const declared = declaredResources();
  const left = leftovers(declared);
  if (keepData) left.volumes = [];
  else forgetDeploySecrets(env, 'docker');
  const remaining = [...left.containers, ...left.networks, ...left.volumes];
  if (remaining.length) throw new Error(`destroy left these behind: ${remaining.join(', ')}`);
  if (keepData) log(`data volumes kept: ${declared.volumes.join(', ')}`);
  return left;
}

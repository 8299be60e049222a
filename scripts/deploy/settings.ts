// The settings a deploy synthesizes with, on either target: the image mode (chosen, or found by
// asking the engine to pull), secrets as variables, no console with local images; kept per
// target so that `down` synthesizes exactly what `up` deployed.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { loadConfig } from '../../config';
import { deployHome, log, repoRoot, Target } from './engine';

export type ImageModeOption = 'local' | 'upstream';

/** Settings synthesis runs with, from the chosen image mode and the caller's environment. */
export function deployEnv(base: NodeJS.ProcessEnv, imageMode: ImageModeOption | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  if (imageMode) env.RTDS_IMAGE_MODE = imageMode;
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

/**
 * Kept settings. RTDS_KAFKA_MODE: a KRaft stack has other services and secrets than a ZooKeeper
 * one; RTDS_KUBERNETES_CONFIG_PATH: the cluster a Kubernetes deploy went to.
 */
const KEPT_SETTINGS = ['RTDS_IMAGE_MODE', 'RTDS_SECRET_SOURCE', 'RTDS_CONSOLE_KIND', 'RTDS_CONFIG', 'RTDS_KAFKA_MODE', 'RTDS_KUBERNETES_CONFIG_PATH'];

export function saveSettings(env: NodeJS.ProcessEnv, target: Target = 'docker'): void {
  const kept = Object.fromEntries(KEPT_SETTINGS.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  fs.mkdirSync(deployHome(env, target), { recursive: true });
  fs.writeFileSync(path.join(deployHome(env, target), 'settings.json'), JSON.stringify(kept, null, 2));
}

export function loadSettings(env: NodeJS.ProcessEnv, target: Target = 'docker'): Record<string, string> {
  const file = path.join(deployHome(env, target), 'settings.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
}

export function forgetSettings(env: NodeJS.ProcessEnv, target: Target): void {
  fs.rmSync(path.join(deployHome(env, target), 'settings.json'), { force: true });
}

/** A field the user set in the config file (RTDS_CONFIG or ./rtds.config.json), e.g. ['kubernetes', 'configPath']. */
export function setInConfigFile(env: NodeJS.ProcessEnv, field: readonly string[]): boolean {
  const file = path.resolve(repoRoot, env.RTDS_CONFIG || 'rtds.config.json');
  if (!fs.existsSync(file)) return false;
  try {
    let node: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const key of field) {
      if (typeof node !== 'object' || node === null || !(key in node)) return false;
      node = (node as Record<string, unknown>)[key];
    }
    return true;
  } catch {
    return false; // loadConfig reports a malformed file with the field at fault
  }
}

/**
 * With no image mode chosen (flag, RTDS_IMAGE_MODE or the config file), the official images are
 * used when the engine has them or can pull them; on a machine without an image registry every
 * image is built here instead, so the one command works on a laptop and an air-gapped machine alike.
 */
export function resolveImageMode(requested: ImageModeOption | undefined, env: NodeJS.ProcessEnv): ImageModeOption | undefined {
  if (requested || env.RTDS_IMAGE_MODE || setInConfigFile(env, ['imageMode'])) return requested;
  const probe = loadConfig({ env, cwd: repoRoot }).postgres.image;
  const has = spawnSync('docker', ['image', 'inspect', probe], { stdio: 'ignore' }).status === 0;
  if (has) return requested;
  log(`checking that the engine can pull the official images (${probe})`);
  const pull = spawnSync('docker', ['pull', '-q', probe], { stdio: 'ignore', timeout: 120_000 });
  if (pull.status === 0) return requested;
  log(`no image registry answered for ${probe}: building every image here (imageMode 'local'; --image-mode upstream insists on pulling)`);
  return 'local';
}

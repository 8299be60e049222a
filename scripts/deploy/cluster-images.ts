// The images a Kubernetes deploy runs, for a cluster without an image registry: those the stack
// builds are built on the Docker engine by the `kubernetes-images` stack (the Docker provider,
// as the Docker deploy builds them: one BuildKit cache, the same image ids, so neither deploy
// rebuilds or replaces what the other made), the others are pulled; then all are loaded into
// the project's cluster.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { loadImages, LoadResult } from '../cluster';
import { cdktf, log, run, secondsSince, stackDir, statePath } from './engine';
import { POD_IMAGES_FILE, PodImage } from './offline-app';

export const IMAGES_STACK = 'kubernetes-images';

export function podImages(): PodImage[] {
  const file = path.join(stackDir('kubernetes'), POD_IMAGES_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: synthesize the kubernetes target first`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PodImage[];
}

/**
 * Builds every image the stack builds, from this checkout's sources. The images stack keeps no
 * state between runs, so each run builds (BuildKit answers from its cache in seconds when
 * nothing changed) rather than trusting a tag another checkout may have rebuilt since.
 */
export function buildPodImages(env: NodeJS.ProcessEnv): number {
  const start = Date.now();
  const built = podImages().filter((i) => i.built).map((i) => i.name);
  if (built.length === 0) return 0;
  fs.rmSync(statePath(IMAGES_STACK), { force: true });
  log(`building ${built.join(', ')} (and the local bases they start FROM) with the Docker provider`);
  cdktf('deploy', IMAGES_STACK, env);
  fs.rmSync(statePath(IMAGES_STACK), { force: true });
  log(`images built in ${secondsSince(start)} s`);
  return secondsSince(start);
}

/** Pulls the images the stack does not build and the engine lacks (needs an image registry). */
export function pullPodImages(): void {
  for (const { name } of podImages().filter((i) => !i.built)) {
    if (spawnSync('docker', ['image', 'inspect', name], { stdio: 'ignore' }).status === 0) continue;
    log(`pulling ${name}`);
    run('docker', ['pull', '-q', name]);
  }
}

/** Loads every image a pod runs into the project's cluster (those it already holds with the same id are skipped). */
export async function loadPodImages(): Promise<LoadResult> {
  const result = await loadImages(podImages().map((i) => i.name));
  log(`images in the cluster in ${result.seconds} s (loaded ${result.loaded.length}, already there ${result.skipped.length})`);
  return result;
}

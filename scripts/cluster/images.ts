// Images come from the local Docker engine (there is no registry): `docker save | ctr import`
// into the cluster's containerd, skipping images it already holds with the same id.
import { $ } from 'zx';
import { crictl } from './crictl';
import { StatePaths, statePaths } from './layout';
import { log } from './output';
import { runningPid } from './up';

/** How containerd names an image Docker calls `name` (docker.io/library/..., :latest). */
export function normalizedName(name: string): string {
  const [first, ...rest] = name.split('/');
  const hasRegistry = rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let full = hasRegistry ? name : `docker.io/${rest.length === 0 ? `library/${name}` : name}`;
  if (!/:[^/]+$/.test(full) && !full.includes('@')) full += ':latest';
  return full;
}

async function dockerImageId(name: string): Promise<string> {
  const r = await $({ nothrow: true, quiet: true })`docker image inspect --format ${'{{.Id}}'} ${name}`;
  if (r.exitCode !== 0) {
    const why = r.stderr.includes('No such image') ? 'is not in the local Docker engine (build or tag it first)' : `cannot be inspected: ${r.stderr.trim()}`;
    throw new Error(`image ${name} ${why}`);
  }
  return r.stdout.trim();
}

/** image name -> id (the config digest, as Docker reports it) for every image in the cluster. */
export async function clusterImageIds(paths: StatePaths): Promise<Map<string, string>> {
  const out = (await $({ quiet: true })`${crictl(paths)} images -o json`).stdout;
  const ids = new Map<string, string>();
  for (const image of (JSON.parse(out) as { images: Array<{ id: string; repoTags?: string[] }> }).images) {
    for (const tag of image.repoTags ?? []) ids.set(tag, image.id);
  }
  return ids;
}

export interface LoadResult {
  readonly loaded: string[];
  /** Already in the cluster with the same id. */
  readonly skipped: string[];
  readonly seconds: number;
}

/** Loads local Docker images into the running cluster; pods then find them without pulling. */
export async function loadImages(images: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<LoadResult> {
  const paths = statePaths(env);
  if (runningPid(paths, 'containerd') === undefined) throw new Error('the cluster is not running: `npm run cluster:up` first');
  const start = Date.now();
  const inCluster = await clusterImageIds(paths);
  const loaded: string[] = [];
  const skipped: string[] = [];
  for (const image of [...new Set(images)]) {
    const id = await dockerImageId(image);
    (inCluster.get(normalizedName(image)) === id ? skipped : loaded).push(image);
  }
  // A tag another build moves while it is saved (tags are shared by every checkout on this engine)
  // leaves the cluster with the old image: load those again, a few times, then give up naming them.
  let pending = loaded;
  for (let attempt = 1; pending.length > 0; attempt++) {
    log(`loading ${pending.join(', ')} from Docker into the cluster`);
    // One archive for all: layers the images share are written once.
    await $({ quiet: true })`docker save ${pending}`.pipe($({ quiet: true })`ctr --address ${paths.containerdSocket} -n k8s.io images import -`);
    const after = await clusterImageIds(paths);
    const moved: string[] = [];
    for (const image of pending) if (after.get(normalizedName(image)) !== (await dockerImageId(image))) moved.push(image);
    if (moved.length > 0 && attempt >= 3) {
      throw new Error(`images ${moved.join(', ')} were imported ${attempt} times but the cluster never listed them with Docker's current id (another build keeps retagging them?)`);
    }
    if (moved.length > 0) log(`${moved.join(', ')}: Docker's id changed while loading (another build retagged it): loading again`);
    pending = moved;
  }
  return { loaded, skipped, seconds: Math.round((Date.now() - start) / 100) / 10 };
}

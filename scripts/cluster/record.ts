// The running cluster's record (who started it, from which checkout, and the host as it was
// before), and the lock that keeps two `up`/`down` runs from overlapping.
import * as fs from 'fs';
import * as path from 'path';
import { isAlive, readPid, sleep } from '../services/process';
import { iptablesChains, netnsNames, readSysctls } from './host';
import { StatePaths } from './layout';

/** Host directories the runtime may create outside the state directory (hard-coded upstream). */
export const HOST_DIRS = [
  '/run/containerd/s', // containerd 1.6 puts shim sockets here, whatever its state directory
  '/run/containerd',
  '/var/lib/cni', // libcni's result cache
  '/var/log/containers', // the kubelet's symlinks to container logs
] as const;

export interface HostBaseline {
  readonly sysctls: Record<string, string>;
  readonly chains: string[];
  readonly netns: string[];
  /** Whether each of HOST_DIRS existed. */
  readonly hostDirs: Record<string, boolean>;
}

export interface ClusterRecord {
  /** The checkout whose `cluster:up` started it. */
  readonly checkout: string;
  readonly startedAt: string;
  readonly baseline: HostBaseline;
}

export async function captureBaseline(): Promise<HostBaseline> {
  return {
    sysctls: readSysctls(),
    chains: await iptablesChains(),
    netns: netnsNames(),
    hostDirs: Object.fromEntries(HOST_DIRS.map((d) => [d, fs.existsSync(d)])),
  };
}

export function readRecord(paths: StatePaths): ClusterRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.owner, 'utf8')) as ClusterRecord;
  } catch {
    return undefined;
  }
}

export function writeRecord(paths: StatePaths, record: ClusterRecord): void {
  fs.mkdirSync(path.dirname(paths.owner), { recursive: true });
  fs.writeFileSync(paths.owner, JSON.stringify(record, null, 2));
}

/** Runs `work` holding the state directory's lock; a lock whose holder died is taken over. */
export async function withLock<T>(paths: StatePaths, what: string, work: () => Promise<T>): Promise<T> {
  fs.mkdirSync(paths.root, { recursive: true });
  for (let waited = 0; ; waited += 500) {
    try {
      fs.writeFileSync(paths.lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readPid(paths.lock);
      if (holder === undefined || !isAlive(holder)) {
        fs.rmSync(paths.lock, { force: true });
        continue;
      }
      if (waited === 0) process.stderr.write(`[cluster] waiting for pid ${holder}, which holds ${paths.lock}, before ${what}\n`);
      if (waited > 15 * 60_000) throw new Error(`pid ${holder} has held ${paths.lock} for 15 minutes; is another cluster:up stuck?`);
      await sleep(500);
    }
  }
  try {
    return await work();
  } finally {
    if (readPid(paths.lock) === process.pid) fs.rmSync(paths.lock, { force: true });
  }
}

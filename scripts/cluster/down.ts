// `npm run cluster:down`: removes the pods through CRI, stops every component, removes what
// they left on the host (kube-proxy's and the CNI plugins' iptables chains, the bridge, network
// namespaces, mounts, cgroups), restores the sysctls recorded before `up`, then checks that
// nothing is left and names whatever is. Works after an interrupted `up` as well.
import * as fs from 'fs';
import * as path from 'path';
import { $ } from 'zx';
import { sleep, stopPid } from '../services/process';
import { programPath } from './build';
import { crictl } from './crictl';
import { componentPath } from './components';
import {
  changedSysctls, clusterChains, clusterLinks, clusterNetns, clusterProcesses, deleteChains, kubepodsCgroups, mountsUnder, unmountAll,
  writeSysctl,
} from './host';
import { CNI_NETWORK, StatePaths, statePaths, VOLUME_DIR } from './layout';
import { log, timed } from './output';
import { requireRoot } from './prereqs';
import { HOST_DIRS, HostBaseline, readRecord, withLock } from './record';
import { pidFile, runningPid } from './up';

export interface DownOptions {
  /** Keep etcd's data and the volumes, so the next `up` finds the same objects. @default false */
  readonly keepData?: boolean;
  /** Also remove the image store, certificates and logs: the next `up` starts from nothing. @default false */
  readonly purge?: boolean;
}

/** Stop order: nothing recreates or restarts pods once the first four are gone. */
const STOP_ORDER = ['kube-controller-manager', 'kube-scheduler', 'coredns', 'kubelet', 'kube-proxy', 'kube-apiserver', 'etcd', 'containerd'];

async function removePodsThroughCri(paths: StatePaths): Promise<void> {
  if (runningPid(paths, 'containerd') === undefined || !fs.existsSync(programPath('crictl'))) return;
  // Stops and removes every sandbox: CNI DEL for each (veth, IP, per-pod chains), netns, mounts.
  const r = await $({ nothrow: true, quiet: true })`${crictl(paths)} --timeout 60s rmp --all --force`;
  if (r.exitCode !== 0) log(`crictl rmp: ${r.stderr.trim().split('\n').slice(-2).join(' ')} (what is left is removed below)`);
}

async function killLeftoverProcesses(paths: StatePaths): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const p of clusterProcesses(paths.root)) {
      try {
        process.kill(p.pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  if (clusterProcesses(paths.root).length === 0) return;
  signal('SIGTERM');
  for (let i = 0; i < 25 && clusterProcesses(paths.root).length > 0; i++) await sleep(200);
  signal('SIGKILL');
  for (let i = 0; i < 25 && clusterProcesses(paths.root).length > 0; i++) await sleep(200);
}

async function removeNetns(baseline: HostBaseline): Promise<void> {
  for (const name of clusterNetns(baseline.netns)) {
    const file = path.join('/var/run/netns', name);
    await $({ nothrow: true, quiet: true })`umount ${file}`;
    fs.rmSync(file, { force: true });
  }
}

async function removeLinks(): Promise<void> {
  for (const link of (await clusterLinks()).reverse()) await $({ nothrow: true, quiet: true })`ip link delete ${link}`;
}

function restoreSysctls(baseline: HostBaseline): void {
  for (const [name, { before }] of Object.entries(changedSysctls(baseline.sysctls))) {
    try {
      writeSysctl(name, before);
    } catch (err) {
      log(`could not restore ${name}=${before}: ${(err as Error).message}`);
    }
  }
}

async function removeCgroups(): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const dirs = kubepodsCgroups();
    if (dirs.length === 0) return;
    for (const d of dirs) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* still busy: retried */
      }
    }
    await sleep(300);
  }
}

/** Host directories outside the state directory: only the cluster's own entries go. */
function cleanHostDirs(paths: StatePaths, baseline: HostBaseline): void {
  try {
    for (const link of fs.readdirSync('/var/log/containers')) {
      const file = path.join('/var/log/containers', link);
      try {
        if (fs.readlinkSync(file).startsWith(paths.root)) fs.rmSync(file);
      } catch {
        /* not a link */
      }
    }
  } catch {
    /* absent */
  }
  // libcni's cached results: the pod network's, and containerd's loopback ones for this
  // cluster's sandboxes (their netns path is inside the state directory).
  const results = '/var/lib/cni/results';
  for (const f of fs.existsSync(results) ? fs.readdirSync(results) : []) {
    const file = path.join(results, f);
    if (f.startsWith(`${CNI_NETWORK}-`) || fs.readFileSync(file, 'utf8').includes(paths.root)) fs.rmSync(file, { force: true });
  }
  for (const dir of HOST_DIRS) if (baseline.hostDirs[dir] === false) removeEmptyTree(dir);
}

function removeEmptyTree(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  const emptied = entries.every((e) => e.isDirectory() && removeEmptyTree(path.join(dir, e.name)));
  if (!emptied) return false;
  try {
    fs.rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

function removeData(paths: StatePaths, opts: DownOptions, clean: boolean): void {
  const rm = (p: string) => fs.rmSync(p, { recursive: true, force: true });
  if (opts.purge && clean) {
    for (const entry of fs.existsSync(paths.root) ? fs.readdirSync(paths.root) : []) if (path.join(paths.root, entry) !== paths.lock) rm(path.join(paths.root, entry));
    rm(VOLUME_DIR);
    return;
  }
  rm(paths.pids);
  rm(paths.containerdState);
  rm(path.join(paths.root, 'runc'));
  if (opts.keepData) return;
  rm(paths.etcdData);
  rm(paths.kubeletRoot);
  rm(path.join(paths.root, 'pod-logs'));
  rm(path.join(paths.root, 'cni', 'ipam'));
  rm(VOLUME_DIR);
}

/** Everything of the cluster still on the host, one line each; empty when the host is clean. */
export async function leftovers(paths: StatePaths, baseline: HostBaseline): Promise<string[]> {
  const left: string[] = [];
  for (const p of clusterProcesses(paths.root)) left.push(`process ${p.pid}: ${p.command}`);
  for (const m of mountsUnder([paths.root, '/run/containerd', VOLUME_DIR])) left.push(`mount ${m}`);
  for (const n of clusterNetns(baseline.netns)) left.push(`network namespace ${n}`);
  for (const l of await clusterLinks()) left.push(`link ${l}`);
  for (const c of await clusterChains(baseline.chains)) left.push(`iptables chain ${c}`);
  for (const [name, v] of Object.entries(changedSysctls(baseline.sysctls))) left.push(`sysctl ${name}=${v.now} (was ${v.before})`);
  for (const d of kubepodsCgroups()) left.push(`cgroup ${d}`);
  for (const dir of HOST_DIRS) if (baseline.hostDirs[dir] === false && fs.existsSync(dir)) left.push(`directory ${dir} (created by the cluster)`);
  return left;
}

export interface DownResult {
  /** What could not be removed; empty when the host is as it was before `up`. */
  readonly left: string[];
  readonly seconds: number;
}

export async function clusterDown(opts: DownOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<DownResult> {
  requireRoot();
  const paths = statePaths(env);
  const start = Date.now();
  return withLock(paths, 'cluster:down', async () => {
    const record = readRecord(paths);
    // Without a record (never started, or `up` died before writing it) every cluster chain counts.
    const baseline: HostBaseline = record?.baseline ?? { sysctls: {}, chains: [], netns: [], hostDirs: {} };
    for (const name of STOP_ORDER.slice(0, 4)) await stopPid(pidFile(paths, name), 15_000);
    await timed('pods removed through CRI', () => removePodsThroughCri(paths));
    for (const name of STOP_ORDER.slice(4)) await stopPid(pidFile(paths, name), name === 'containerd' ? 20_000 : 15_000);
    if (fs.existsSync(programPath('kube-proxy'))) {
      await $({ nothrow: true, quiet: true, env: { ...process.env, PATH: componentPath() } })`${programPath('kube-proxy')} --cleanup`;
    }
    await killLeftoverProcesses(paths);
    await unmountAll([paths.root, VOLUME_DIR]);
    await removeNetns(baseline);
    await removeLinks();
    await deleteChains(await clusterChains(baseline.chains));
    restoreSysctls(baseline);
    await removeCgroups();
    cleanHostDirs(paths, baseline);
    const left = await leftovers(paths, baseline);
    // The record stays while something is left, so that a second `down` still knows the baseline.
    if (left.length === 0) fs.rmSync(paths.owner, { force: true });
    removeData(paths, opts, left.length === 0);
    return { left, seconds: Math.round((Date.now() - start) / 100) / 10 };
  });
}

// What the cluster changes on the host, read from the host itself: sysctls, iptables chains,
// links, network namespaces, mounts, cgroups and processes. `up` records a baseline before it
// starts anything; `down` removes what is new and reports what it could not.
import * as fs from 'fs';
import * as path from 'path';
import { $ } from 'zx';
import { ALL_PROGRAMS } from './build';
import { BRIDGE_NAME } from './layout';

/**
 * Every sysctl a component may change: the kubelet's kernel tunables
 * (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables), and what kube-proxy and the
 * bridge need for forwarding. Restored to the recorded values on teardown.
 */
export const HOST_SYSCTLS = [
  'vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes',
  'net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables',
  'net.ipv4.conf.all.route_localnet', 'net.netfilter.nf_conntrack_max',
] as const;

function sysctlFile(name: string): string {
  return path.join('/proc/sys', ...name.split('.'));
}

export function readSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of HOST_SYSCTLS) {
    try {
      values[name] = fs.readFileSync(sysctlFile(name), 'utf8').trim();
    } catch {
      /* absent on this kernel (e.g. br_netfilter not loaded): nothing to restore */
    }
  }
  return values;
}

export function writeSysctl(name: string, value: string): void {
  fs.writeFileSync(sysctlFile(name), `${value}\n`);
}

/** Sysctls whose value differs from the baseline, as "name: now -> baseline". */
export function changedSysctls(baseline: Record<string, string>): Record<string, { now: string; before: string }> {
  const now = readSysctls();
  const changed: Record<string, { now: string; before: string }> = {};
  for (const [name, before] of Object.entries(baseline)) {
    if (now[name] !== undefined && now[name] !== before) changed[name] = { now: now[name], before };
  }
  return changed;
}

export const IPTABLES = ['iptables', 'ip6tables'] as const;
export const TABLES = ['filter', 'nat', 'mangle', 'raw'] as const;
/** Chains the cluster's components create: kube-proxy and the kubelet (KUBE-), the CNI plugins (CNI-). */
export const CLUSTER_CHAIN = /^(KUBE-|CNI-|RTDS-)/;

/** "iptables/nat/KUBE-SERVICES" for every chain of every table and family that exists now. */
export async function iptablesChains(): Promise<string[]> {
  const chains: string[] = [];
  for (const cmd of IPTABLES) {
    for (const table of TABLES) {
      const r = await $({ nothrow: true, quiet: true })`${cmd} -w 5 -t ${table} -S`;
      if (r.exitCode !== 0) continue;
      for (const line of r.stdout.split('\n')) {
        const m = /^-N (\S+)$/.exec(line.trim());
        if (m) chains.push(`${cmd}/${table}/${m[1]}`);
      }
    }
  }
  return chains;
}

/** The cluster's chains that were not there before it started. */
export async function clusterChains(baseline: readonly string[]): Promise<string[]> {
  const before = new Set(baseline);
  return (await iptablesChains()).filter((c) => CLUSTER_CHAIN.test(c.split('/')[2]) && !before.has(c));
}

/**
 * Deletes chains: first every rule (in any chain) that jumps to one of them, then the chains.
 * Rules that do not reference these chains, such as Docker's, are left as they are.
 */
export async function deleteChains(chains: readonly string[]): Promise<void> {
  const byTable = new Map<string, Set<string>>();
  for (const c of chains) {
    const [cmd, table, name] = c.split('/');
    const key = `${cmd}/${table}`;
    if (!byTable.has(key)) byTable.set(key, new Set());
    byTable.get(key)!.add(name);
  }
  for (const [key, names] of byTable) {
    const [cmd, table] = key.split('/');
    const rules = (await $({ nothrow: true, quiet: true })`${cmd} -w 5 -t ${table} -S`).stdout.split('\n');
    for (const rule of rules) {
      const m = /^-A (\S+) (.*)$/.exec(rule.trim());
      if (!m || names.has(m[1])) continue;
      const target = /(?:^| )-[jg] (\S+)/.exec(m[2])?.[1];
      if (target && names.has(target)) {
        // `-S` prints a rule the way `-D` accepts it; quoting as the shell would read it.
        await $({ nothrow: true, quiet: true })`sh -c ${`${cmd} -w 5 -t ${table} -D ${m[1]} ${m[2]}`}`;
      }
    }
    for (const name of names) await $({ nothrow: true, quiet: true })`${cmd} -w 5 -t ${table} -F ${name}`;
    for (const name of names) await $({ nothrow: true, quiet: true })`${cmd} -w 5 -t ${table} -X ${name}`;
  }
}

export function netnsNames(): string[] {
  try {
    return fs.readdirSync('/var/run/netns');
  } catch {
    return [];
  }
}

/** The pod network namespaces containerd's CRI made (cni-<uuid>) that were not there before. */
export function clusterNetns(baseline: readonly string[]): string[] {
  const before = new Set(baseline);
  return netnsNames().filter((n) => n.startsWith('cni-') && !before.has(n));
}

export async function linkExists(name: string): Promise<boolean> {
  return (await $({ nothrow: true, quiet: true })`ip link show ${name}`).exitCode === 0;
}

/** The bridge and any interface still enslaved to it. */
export async function clusterLinks(): Promise<string[]> {
  const links: string[] = [];
  if (await linkExists(BRIDGE_NAME)) {
    links.push(BRIDGE_NAME);
    const r = await $({ nothrow: true, quiet: true })`ip -o link show master ${BRIDGE_NAME}`;
    for (const line of r.stdout.split('\n')) {
      const m = /^\d+: ([^:@]+)/.exec(line);
      if (m) links.push(m[1]);
    }
  }
  return links;
}

/** Mount points under any of the prefixes, deepest first (the order to unmount them in). */
export function mountsUnder(prefixes: readonly string[]): string[] {
  const points = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => prefixes.some((prefix) => p === prefix || p.startsWith(`${prefix}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function unmountAll(prefixes: readonly string[]): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    const points = mountsUnder(prefixes);
    if (points.length === 0) return;
    for (const p of points) {
      if ((await $({ nothrow: true, quiet: true })`umount ${p}`).exitCode !== 0) {
        await $({ nothrow: true, quiet: true })`umount -l ${p}`;
      }
    }
  }
}

/** The cgroup directories the kubelet made (cgroupfs driver: <controller>/kubepods...), deepest first. */
export function kubepodsCgroups(): string[] {
  const roots: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const fsType = fields[fields.indexOf('-') + 1];
    if (fsType === 'cgroup' || fsType === 'cgroup2') roots.push(fields[4]);
  }
  const found: string[] = [];
  for (const root of roots) {
    const top = path.join(root, 'kubepods');
    if (!fs.existsSync(top)) continue;
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
      found.push(dir);
    };
    walk(top);
  }
  return found;
}

export interface HostProcess {
  readonly pid: number;
  readonly command: string;
}

function readProc(pid: string, file: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** Programs the cluster runs on the host (its components, containerd, its shims and runc). */
const CLUSTER_PROGRAMS = new Set([...ALL_PROGRAMS, 'containerd', 'containerd-shim-runc-v2', 'runc']);

/**
 * The cluster's processes: every cluster program whose command line names the state directory
 * (all are started with paths inside it, shims with the containerd socket), and every process
 * in a pod's cgroup.
 */
export function clusterProcesses(stateRoot: string): HostProcess[] {
  const found: HostProcess[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    const cmdline = readProc(pid, 'cmdline').split('\0').filter(Boolean);
    if (cmdline.length === 0) continue;
    const program = path.basename(cmdline[0]);
    const ours = (CLUSTER_PROGRAMS.has(program) && cmdline.some((a) => a.includes(stateRoot)))
      || /:\/kubepods(\/|$)/m.test(readProc(pid, 'cgroup'));
    if (ours) found.push({ pid: Number(pid), command: cmdline.join(' ').slice(0, 160) });
  }
  return found;
}

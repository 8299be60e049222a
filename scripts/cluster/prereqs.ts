// What the host must offer before the cluster can start; each failure names what is wrong and
// what to do. Missing Debian packages are installed with apt-get, saying so first.
import * as fs from 'fs';
import * as path from 'path';
import { $ } from 'zx';
import { portFree } from '../services/process';
import { writeSysctl } from './host';
import { BRIDGE_NAME, HOST_ADDRESS, PORTS, StatePaths } from './layout';
import { log } from './output';

/** A program the runtime needs, and the Debian package that installs it. */
const DEBIAN_PROGRAMS: ReadonlyArray<{ path: string; pkg: string; why: string }> = [
  { path: '/usr/bin/containerd', pkg: 'containerd', why: 'the container runtime' },
  { path: '/usr/bin/ctr', pkg: 'containerd', why: 'loading images into the runtime' },
  { path: '/usr/bin/containerd-shim-runc-v2', pkg: 'containerd', why: 'the runtime shim' },
  { path: '/usr/sbin/runc', pkg: 'runc', why: 'the OCI runtime' },
  { path: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins', why: 'the pod network (bridge, host-local, portmap, firewall, loopback)' },
  { path: '/usr/sbin/conntrack', pkg: 'conntrack', why: 'kube-proxy in iptables mode' },
  { path: '/usr/sbin/iptables', pkg: 'iptables', why: 'kube-proxy and the CNI plugins' },
  { path: '/usr/sbin/ip', pkg: 'iproute2', why: 'the pod bridge' },
];

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the test cluster needs root (it creates network namespaces, iptables chains, mounts and cgroups): run it as root');
  }
}

export async function ensureDebianPackages(): Promise<void> {
  const missing = DEBIAN_PROGRAMS.filter((p) => !fs.existsSync(p.path));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((p) => p.pkg))];
  const why = missing.map((p) => `${p.path} (${p.why})`).join(', ');
  if (!fs.existsSync('/usr/bin/apt-get')) {
    throw new Error(`missing ${why}; there is no apt-get here, install the Debian packages ${pkgs.join(' ')} or their equivalents`);
  }
  log(`installing Debian packages ${pkgs.join(' ')} with apt-get: missing ${why}`);
  const install = () => $({ nothrow: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`apt-get install -y --no-install-recommends ${pkgs}`;
  if ((await install()).exitCode !== 0) {
    await $({ nothrow: true })`apt-get update`;
    const r = await install();
    if (r.exitCode !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
  const still = DEBIAN_PROGRAMS.filter((p) => !fs.existsSync(p.path)).map((p) => p.path);
  if (still.length > 0) throw new Error(`after installing ${pkgs.join(' ')}, still missing: ${still.join(', ')}`);
}

/** cgroup controllers the kubelet cannot run without, v1 or v2. */
export function checkCgroups(): void {
  const enabled = new Set(fs.readFileSync('/proc/cgroups', 'utf8').split('\n')
    .map((l) => l.split('\t')).filter((f) => f[3] === '1').map((f) => f[0]));
  const missing = ['cpu', 'cpuset', 'memory', 'pids'].filter((c) => !enabled.has(c));
  if (missing.length > 0) {
    throw new Error(`cgroup controllers ${missing.join(', ')} are not enabled (/proc/cgroups); the kubelet needs them: enable them on the kernel command line (e.g. cgroup_enable=memory)`);
  }
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  if (!/ - cgroup2? /.test(mounts)) throw new Error('no cgroup filesystem is mounted under /sys/fs/cgroup; the kubelet needs one');
}

/** Kernel features: overlayfs for images, br_netfilter so bridged pod traffic meets iptables. */
export async function checkKernel(): Promise<void> {
  if (!fs.readFileSync('/proc/filesystems', 'utf8').includes('overlay')) {
    await $({ nothrow: true, quiet: true })`modprobe overlay`;
    if (!fs.readFileSync('/proc/filesystems', 'utf8').includes('overlay')) {
      throw new Error('the kernel has no overlay filesystem (containerd stores images with it): load the overlay module');
    }
  }
  if (!fs.existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    await $({ nothrow: true, quiet: true })`modprobe br_netfilter`;
    if (!fs.existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
      throw new Error('br_netfilter is not available (Services between pods on one bridge need it): load the br_netfilter module');
    }
  }
  // Both are recorded in the baseline first and restored on teardown.
  for (const name of ['net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables']) {
    if (fs.readFileSync(path.join('/proc/sys', ...name.split('.')), 'utf8').trim() !== '1') writeSysctl(name, '1');
  }
}

/** The process listening on a TCP port of 127.0.0.1 (or any address), from `ss`. */
async function listener(port: number): Promise<{ pid?: number; cmdline: string; description: string }> {
  const r = await $({ nothrow: true, quiet: true })`ss -H -ltnp ${`sport = :${port}`}`;
  const m = /pid=(\d+)/.exec(r.stdout);
  if (!m) return { cmdline: '', description: 'an unknown process' };
  const pid = Number(m[1]);
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    /* exited meanwhile */
  }
  return { pid, cmdline, description: `pid ${pid} (${cmdline.slice(0, 160)})` };
}

/** The state directory of the RTDataStream cluster a component's command line belongs to. */
function otherClusterState(cmdline: string): string | undefined {
  return /(?:^|[\s=])(\/[^\s=]+?)\/(?:pki|kubeconfigs\/|Corefile|kubelet-config\.yaml|kube-proxy-config\.yaml|containerd\/config\.toml)/.exec(cmdline)?.[1];
}

function otherClusterError(state: string): Error {
  let from = '';
  try {
    from = ` (started from ${(JSON.parse(fs.readFileSync(path.join(state, 'owner.json'), 'utf8')) as { checkout: string }).checkout})`;
  } catch {
    /* no record */
  }
  return new Error(`another RTDataStream cluster is running with its state in ${state}${from}: use it with RTDS_CLUSTER_STATE=${state}, or stop it first with \`RTDS_CLUSTER_STATE=${state} npm run cluster:down\``);
}

/**
 * Fails when a port the cluster needs is taken by something that is not this cluster's own
 * component (`ours` lists the component names already running from this state directory).
 */
export async function checkPorts(ours: ReadonlySet<string>): Promise<void> {
  const owner: Record<keyof typeof PORTS, string> = {
    apiserver: 'kube-apiserver', etcdClient: 'etcd', etcdPeer: 'etcd', kubelet: 'kubelet', kubeletHealthz: 'kubelet',
    proxyHealthz: 'kube-proxy', proxyMetrics: 'kube-proxy', controllerManager: 'kube-controller-manager',
    scheduler: 'kube-scheduler', corednsHealth: 'coredns', corednsReady: 'coredns',
  };
  const problems: string[] = [];
  for (const [key, port] of Object.entries(PORTS) as Array<[keyof typeof PORTS, number]>) {
    if (ours.has(owner[key])) continue;
    if (!(await portFree(port, HOST_ADDRESS))) {
      const l = await listener(port);
      const state = otherClusterState(l.cmdline);
      if (state) throw otherClusterError(state);
      problems.push(`port ${port} (${owner[key]}) is taken by ${l.description}`);
    }
  }
  if (problems.length > 0) throw new Error(`cannot start the cluster, its ports are taken:\n  ${problems.join('\n  ')}`);
}

/** The pod bridge existing while this state directory has no cluster record: someone else's. */
export async function checkBridgeFree(paths: StatePaths, recorded: boolean): Promise<void> {
  if (recorded) return;
  if ((await $({ nothrow: true, quiet: true })`ip link show ${BRIDGE_NAME}`).exitCode !== 0) return;
  const state = otherClusterState((await listener(PORTS.kubelet)).cmdline);
  if (state) throw otherClusterError(state);
  throw new Error(`the pod bridge ${BRIDGE_NAME} exists but no cluster was started from ${paths.root}: a cluster with another state directory left it; remove it with \`ip link delete ${BRIDGE_NAME}\` once no such cluster runs`);
}

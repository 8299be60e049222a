// The test cluster's facts in one place: versions, addresses, ports and where its files live.
import * as os from 'os';
import * as path from 'path';

export const KUBERNETES_VERSION = 'v1.34.4';
/** The CoreDNS release built for cluster DNS. */
export const COREDNS_VERSION = 'v1.15.0';
/** crictl, the CRI client teardown uses. */
export const CRI_TOOLS_VERSION = 'v1.34.0';
/** Kubernetes' own pause program (build/pause), tagged as its Makefile tags it. */
export const PAUSE_VERSION = '3.10.1';
/** Bump with any change to a version above or to the build (patches, plugins, flags): the cache key. */
export const RECIPE = 1;

/**
 * The node is named localhost: the API server reaches a kubelet at the node's Hostname address,
 * the kubelet listens on loopback only, and a node IP may not be loopback.
 */
export const NODE_NAME = 'localhost';
export const API_PORT = 6443;
export const HOST_ADDRESS = '127.0.0.1';
// Outside Docker's 172.17.0.0/16 and its user-defined 172.18+ networks.
export const POD_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/12';
/** The pod bridge's gateway address, where the host-network CoreDNS answers. */
export const BRIDGE_GATEWAY = '10.244.0.1';
export const BRIDGE_NAME = 'rtds-cni0';
export const CNI_NETWORK = 'rtds-pods';
export const CLUSTER_DOMAIN = 'cluster.local';

/** Loopback ports: Kubernetes' usual ones; etcd and CoreDNS's health moved off their defaults. */
export const PORTS = {
  apiserver: API_PORT,
  etcdClient: 12379,
  etcdPeer: 12380,
  kubelet: 10250,
  kubeletHealthz: 10248,
  proxyHealthz: 10256,
  proxyMetrics: 10249,
  controllerManager: 10257,
  scheduler: 10259,
  corednsHealth: 18053,
  corednsReady: 18054,
} as const;

function xdg(name: 'XDG_CACHE_HOME' | 'XDG_STATE_HOME', fallback: string, env: NodeJS.ProcessEnv): string {
  return env[name] ? path.resolve(env[name] as string) : path.join(env.HOME ?? os.homedir(), fallback);
}

/** Built binaries and images: shared by every checkout, keyed by version and recipe. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(xdg('XDG_CACHE_HOME', '.cache', env), 'rtdatastream', 'cluster');
}

export function buildKey(): string {
  return `${KUBERNETES_VERSION}-r${RECIPE}`;
}

export function binDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), buildKey(), 'bin');
}

/**
 * The running cluster's state. Machine-wide, not per checkout: only one cluster can own port
 * 6443 and the bridge, so every checkout must see the same one.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.RTDS_CLUSTER_STATE ? path.resolve(env.RTDS_CLUSTER_STATE) : path.join(xdg('XDG_STATE_HOME', '.local/state', env), 'rtdatastream', 'cluster');
}

/** Where the hostPath provisioner puts volumes; patched into kube-controller-manager (build.ts). */
export const VOLUME_BASE = 'rtdatastream-cluster-volumes';
export const VOLUME_DIR = `/tmp/${VOLUME_BASE}`;

export interface StatePaths {
  readonly root: string;
  readonly pki: string;
  readonly kubeconfigs: string;
  /** The admin kubeconfig users, kubectl and Terraform use. */
  readonly kubeconfig: string;
  readonly etcdData: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly containerdConfig: string;
  readonly kubeletRoot: string;
  readonly kubeletConfig: string;
  readonly proxyConfig: string;
  readonly corefile: string;
  readonly cniConf: string;
  readonly cniCache: string;
  readonly logs: string;
  readonly pids: string;
  /** JSON: who started the cluster, from which checkout, and the sysctls found before start. */
  readonly owner: string;
  readonly lock: string;
  /** A kubectl that always talks to this cluster (symlink target of `kubectl` in bin). */
  readonly bin: string;
}

export function statePaths(env: NodeJS.ProcessEnv = process.env): StatePaths {
  const root = stateDir(env);
  return {
    root,
    pki: path.join(root, 'pki'),
    kubeconfigs: path.join(root, 'kubeconfigs'),
    kubeconfig: path.join(root, 'kubeconfig'),
    etcdData: path.join(root, 'etcd'),
    containerdRoot: path.join(root, 'containerd', 'root'),
    containerdState: path.join(root, 'containerd', 'state'),
    containerdSocket: path.join(root, 'containerd', 'containerd.sock'),
    containerdConfig: path.join(root, 'containerd', 'config.toml'),
    kubeletRoot: path.join(root, 'kubelet'),
    kubeletConfig: path.join(root, 'kubelet-config.yaml'),
    proxyConfig: path.join(root, 'kube-proxy-config.yaml'),
    corefile: path.join(root, 'Corefile'),
    cniConf: path.join(root, 'cni', 'net.d'),
    cniCache: path.join(root, 'cni', 'cache'),
    logs: path.join(root, 'logs'),
    pids: path.join(root, 'pids'),
    owner: path.join(root, 'owner.json'),
    lock: path.join(root, 'lock'),
    bin: path.join(root, 'bin'),
  };
}

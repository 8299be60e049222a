// The files the components read: kubeadm's config (for the PKI and kubeconfigs), containerd's
// config, the CNI network, the kubelet's and kube-proxy's configs, and the Corefile.
import * as fs from 'fs';
import * as path from 'path';
import { YAML } from 'zx';
import { PAUSE_IMAGE } from './build';
import {
  API_PORT, BRIDGE_GATEWAY, BRIDGE_NAME, CLUSTER_DOMAIN, CNI_NETWORK, HOST_ADDRESS, KUBERNETES_VERSION, NODE_NAME, POD_CIDR, PORTS,
  SERVICE_CIDR, StatePaths,
} from './layout';

/** Debian's containernetworking-plugins install here. */
export const CNI_BIN_DIR = '/usr/lib/cni';

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function yamlDocs(...docs: object[]): string {
  return docs.map((d) => YAML.stringify(d)).join('---\n');
}

export function kubeadmConfigPath(paths: StatePaths): string {
  return path.join(paths.root, 'kubeadm.yaml');
}

export function writeKubeadmConfig(paths: StatePaths): void {
  write(kubeadmConfigPath(paths), yamlDocs(
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'InitConfiguration',
      localAPIEndpoint: { advertiseAddress: BRIDGE_GATEWAY, bindPort: API_PORT },
      nodeRegistration: { name: NODE_NAME, criSocket: `unix://${paths.containerdSocket}` },
    },
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      clusterName: 'rtdatastream',
      kubernetesVersion: KUBERNETES_VERSION,
      controlPlaneEndpoint: `${HOST_ADDRESS}:${API_PORT}`,
      certificatesDir: paths.pki,
      networking: { serviceSubnet: SERVICE_CIDR, podSubnet: POD_CIDR, dnsDomain: CLUSTER_DOMAIN },
      apiServer: { certSANs: [HOST_ADDRESS, 'localhost', BRIDGE_GATEWAY] },
    },
  ));
}

/**
 * A separate containerd: its own root, state, socket and runc root, so dockerd's containerd
 * never sees it. `restrict_oom_score_adj` because root here lacks CAP_SYS_RESOURCE; without it
 * every sandbox fails with "can't get final child's PID from pipe".
 */
export function writeContainerdConfig(paths: StatePaths): void {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  write(paths.containerdConfig, `# Written by scripts/cluster (RTDataStream's test cluster).
version = 2
root = "${paths.containerdRoot}"
state = "${paths.containerdState}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${paths.containerdSocket}"

[ttrpc]
  address = "${paths.containerdSocket}.ttrpc"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "${path.join(paths.root, 'containerd', 'opt')}"
  [${cri}]
    sandbox_image = "${PAUSE_IMAGE}"
    restrict_oom_score_adj = true
    stream_server_address = "${HOST_ADDRESS}"
    stream_server_port = "0"
    enable_selinux = false
    # Pod network namespaces under the state directory, not /var/run/netns.
    netns_mounts_under_state_dir = true
    [${cri}.containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [${cri}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [${cri}.containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "${path.join(paths.root, 'runc')}"
    [${cri}.cni]
      bin_dir = "${CNI_BIN_DIR}"
      conf_dir = "${paths.cniConf}"
      max_conf_num = 1
`);
}

/**
 * bridge + host-local + portmap + firewall. The firewall plugin admits pod traffic in FORWARD,
 * whose policy dockerd sets to DROP. containerd adds the loopback plugin to every sandbox itself.
 */
export function writeCniConfig(paths: StatePaths): void {
  write(path.join(paths.cniConf, `10-${CNI_NETWORK}.conflist`), JSON.stringify({
    cniVersion: '1.0.0',
    name: CNI_NETWORK,
    plugins: [
      {
        type: 'bridge', bridge: BRIDGE_NAME, isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: POD_CIDR, gateway: BRIDGE_GATEWAY }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: path.join(paths.root, 'cni', 'ipam'),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'firewall', backend: 'iptables', iptablesAdminChainName: 'RTDS-CNI-ADMIN' },
    ],
  }, null, 2));
}

export function writeKubeletConfig(paths: StatePaths): void {
  write(paths.kubeletConfig, YAML.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: HOST_ADDRESS,
    port: PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: HOST_ADDRESS,
    healthzPort: PORTS.kubeletHealthz,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: path.join(paths.pki, 'ca.crt') },
    },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
    clusterDNS: [BRIDGE_GATEWAY],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf: '/etc/resolv.conf',
    podLogsDir: path.join(paths.root, 'pod-logs'),
    failSwapOn: false,
    // This machine runs cgroup v1 (hybrid); 1.34 still accepts it.
    failCgroupV1: false,
    rotateCertificates: false,
    serializeImagePulls: false,
    // Images are loaded from the local Docker engine; never evict them behind the user's back.
    imageGCHighThresholdPercent: 100,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%' },
    maxPods: 110,
  }));
}

export function writeProxyConfig(paths: StatePaths, kubeconfig: string): void {
  write(paths.proxyConfig, YAML.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig },
    mode: 'iptables',
    clusterCIDR: POD_CIDR,
    hostnameOverride: NODE_NAME,
    bindAddress: HOST_ADDRESS,
    healthzBindAddress: `${HOST_ADDRESS}:${PORTS.proxyHealthz}`,
    metricsBindAddress: `${HOST_ADDRESS}:${PORTS.proxyMetrics}`,
    // NodePorts only on the bridge: never on the host's real interfaces, and no route_localnet.
    nodePortAddresses: [`${BRIDGE_GATEWAY}/32`],
    iptables: { localhostNodePorts: false },
    // Zero leaves the host's conntrack sysctls as they are.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', udpTimeout: '0s', udpStreamTimeout: '0s' },
  }));
}

/** CoreDNS on the host network, answering on the bridge gateway, the kubelet's clusterDNS. */
export function writeCorefile(paths: StatePaths, kubeconfig: string): void {
  write(paths.corefile, `.:53 {
    bind ${BRIDGE_GATEWAY}
    errors
    health ${HOST_ADDRESS}:${PORTS.corednsHealth}
    ready ${HOST_ADDRESS}:${PORTS.corednsReady}
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 30
    loop
}
`);
}

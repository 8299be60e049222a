// The test cluster's generated configuration agrees with itself: what the kubelet tells pods
// about DNS is where CoreDNS answers, the runtime's sandbox image is the one the build makes,
// and nothing is exposed beyond loopback and the pod bridge.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { YAML } from 'zx';
import { PAUSE_IMAGE } from '../../../scripts/cluster/build';
import { writeCniConfig, writeContainerdConfig, writeCorefile, writeKubeletConfig, writeProxyConfig } from '../../../scripts/cluster/config';
import { normalizedName } from '../../../scripts/cluster/images';
import { BRIDGE_GATEWAY, BRIDGE_NAME, statePaths } from '../../../scripts/cluster/layout';

describe('the test cluster configuration (scripts/cluster)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-cluster-unit-'));
  const paths = statePaths({ RTDS_CLUSTER_STATE: root });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('state lives where RTDS_CLUSTER_STATE says, else under XDG_STATE_HOME', () => {
    expect(paths.kubeconfig).toBe(path.join(root, 'kubeconfig'));
    expect(statePaths({ XDG_STATE_HOME: '/x/state' }).root).toBe('/x/state/rtdatastream/cluster');
  });

  test('pods are told to resolve names where CoreDNS answers', () => {
    writeKubeletConfig(paths);
    writeCorefile(paths, '/k/coredns.conf');
    const kubelet = YAML.parse(fs.readFileSync(paths.kubeletConfig, 'utf8')) as { clusterDNS: string[]; address: string };
    expect(kubelet.clusterDNS).toEqual([BRIDGE_GATEWAY]);
    expect(fs.readFileSync(paths.corefile, 'utf8')).toMatch(new RegExp(`^\\s+bind ${BRIDGE_GATEWAY.replace(/\./g, '\\.')}$`, 'm'));
    expect(kubelet.address).toBe('127.0.0.1');
  });

  test('containerd is a separate instance that can start sandboxes without CAP_SYS_RESOURCE and uses the built pause image', () => {
    writeContainerdConfig(paths);
    const toml = fs.readFileSync(paths.containerdConfig, 'utf8');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain(`sandbox_image = "${PAUSE_IMAGE}"`);
    expect(toml).toContain(`address = "${paths.containerdSocket}"`);
    expect(toml).not.toMatch(/\/run\/containerd\/containerd\.sock|\/var\/lib\/containerd/);
  });

  test('the pod network chains the firewall plugin, which admits pod traffic past dockerd\'s FORWARD DROP', () => {
    writeCniConfig(paths);
    const [file] = fs.readdirSync(paths.cniConf);
    const conf = JSON.parse(fs.readFileSync(path.join(paths.cniConf, file), 'utf8')) as { plugins: Array<{ type: string; bridge?: string }> };
    expect(conf.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'firewall']);
    expect(conf.plugins[0].bridge).toBe(BRIDGE_NAME);
  });

  test('kube-proxy opens NodePorts only on the pod bridge and leaves the host conntrack sysctls alone', () => {
    writeProxyConfig(paths, '/k/proxy.conf');
    const proxy = YAML.parse(fs.readFileSync(paths.proxyConfig, 'utf8')) as {
      nodePortAddresses: string[]; iptables: { localhostNodePorts: boolean }; conntrack: Record<string, unknown>;
    };
    expect(proxy.nodePortAddresses).toEqual([`${BRIDGE_GATEWAY}/32`]);
    expect(proxy.iptables.localhostNodePorts).toBe(false);
    expect(proxy.conntrack).toMatchObject({ maxPerCore: 0, min: 0 });
  });

  test('images are matched under the names containerd gives Docker image names', () => {
    expect(normalizedName('rtdatastream/debian:bookworm-slim')).toBe('docker.io/rtdatastream/debian:bookworm-slim');
    expect(normalizedName('postgres:16')).toBe('docker.io/library/postgres:16');
    expect(normalizedName('busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizedName('localhost:5000/a/b')).toBe('localhost:5000/a/b:latest');
    expect(normalizedName('quay.io/x/y:1')).toBe('quay.io/x/y:1');
  });
});

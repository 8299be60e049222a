// The k8s tier's smoke test: the project's own cluster works as Kubernetes. It starts the
// cluster, runs a local image, keeps a non-root volume across a pod delete, resolves and calls
// a Service by name, uses logs/exec/port-forward, applies Terraform with the mirrored
// kubernetes provider, then takes the cluster down and checks the host against its own
// snapshot taken before `up`.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { clusterDown, clusterStatus, clusterUp, loadImages, statePaths } from '../../scripts/cluster';

const IMAGE = 'rtdatastream/debian:bookworm-slim';
const NS = 'rtds-smoke';
const repoRoot = path.resolve(__dirname, '../..');
const MINUTE = 60_000;

let kubectlPath = '';
let kubeconfig = '';
const phase: Record<string, number> = {};

function kubectl(args: readonly string[], input?: string): string {
  const r = spawnSync(kubectlPath, args, { input, encoding: 'utf8', timeout: 5 * MINUTE });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout.trim();
}

function apply(manifest: object[]): void {
  kubectl(['apply', '-f', '-'], manifest.map((m) => JSON.stringify(m)).join('\n---\n'));
}

function sh(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The host as the cluster could change it, read with plain tools, independent of scripts/cluster. */
function hostSnapshot(): Record<string, string[]> {
  const chains: string[] = [];
  for (const cmd of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      for (const line of sh(cmd, ['-w', '5', '-t', table, '-S']).split('\n')) {
        if (/^-N (KUBE-|CNI-|RTDS-)/.test(line)) chains.push(`${cmd}/${table}/${line.slice(3)}`);
        // Rules anyone added that send traffic to such chains, e.g. from FORWARD.
        if (/^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-|RTDS-)/.test(line)) chains.push(`${cmd}/${table}/${line}`);
      }
    }
  }
  const links = sh('ip', ['-o', 'link', 'show']).split('\n')
    .filter((l) => /rtds-cni0|^\d+: veth/.test(l) && !/master (docker0|br-)/.test(l))
    .map((l) => l.split(':')[1].trim().split('@')[0]);
  const netns = fs.existsSync('/var/run/netns') ? fs.readdirSync('/var/run/netns') : [];
  const sysctls = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'net/ipv4/conf/all/route_localnet',
    'net/netfilter/nf_conntrack_max', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes']
    .map((s) => `${s}=${fs.readFileSync(`/proc/sys/${s}`, 'utf8').trim()}`);
  const root = statePaths().root;
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(root) || m.startsWith('/var/run/netns/') || m.startsWith('/run/netns/') || m.startsWith('/run/containerd'));
  const processes = sh('ps', ['-eo', 'pid=,args=']).split('\n').filter((l) => l.includes(root) && !l.includes('jest'));
  const cgroups = fs.readdirSync('/sys/fs/cgroup').filter((c) => fs.existsSync(`/sys/fs/cgroup/${c}/kubepods`)).map((c) => `${c}/kubepods`);
  return { chains, links, netns, sysctls, mounts, processes, cgroups };
}

function waitReady(target: string, timeout = '180s'): void {
  kubectl(['-n', NS, 'wait', '--for=condition=Ready', target, `--timeout=${timeout}`]);
}

function get(port: number, urlPath = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

// A tiny HTTP server in perl (perl-base is in every Debian image): no image beyond the base.
const HTTP_SERVER = "print \"listening on 8080\\n\"; $|=1; use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 16, ReuseAddr => 1) or die $!; "
  + "while (my $c = $s->accept) { <$c>; print $c \"HTTP/1.0 200 OK\\r\\n\\r\\nhello from $ENV{HOSTNAME}\\n\"; close $c; }";

const before = hostSnapshot();
let downDone = false;

describe('the project\'s own Kubernetes cluster (scripts/cluster)', () => {
  beforeAll(async () => {
    if ((await clusterStatus()).components.some((c) => c.pid !== undefined)) {
      throw new Error('a cluster already runs from this state directory: `npm run cluster:down` first (this tier proves that up -> down leaves the host as it was)');
    }
    if (spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status !== 0) {
      execFileSync('bash', [path.join(repoRoot, 'scripts/deploy/base-image.sh')], { stdio: 'inherit' });
    }
    const start = Date.now();
    const up = await clusterUp();
    phase.up = (Date.now() - start) / 1000;
    kubectlPath = up.kubectl;
    kubeconfig = up.kubeconfig;
    kubectl(['create', 'namespace', NS]);
    // Pods may start only once the namespace's default service account exists.
    for (let i = 0; i < 60 && spawnSync(kubectlPath, ['-n', NS, 'get', 'serviceaccount', 'default'], { stdio: 'ignore' }).status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
    }
    // A cold cache builds the cluster first: about 20 CPU-minutes (15 min on two idle cores, 49 min
    // niced on this busy machine); a warm start takes about 15 s.
  }, 60 * MINUTE);

  // A failed test must not leave the cluster running; the last test checks this path itself.
  afterAll(async () => {
    if (!downDone) await clusterDown();
  }, 5 * MINUTE);

  test('the node is Ready and runs the Kubernetes version the cluster was built from', () => {
    const node = JSON.parse(kubectl(['get', 'node', 'localhost', '-o', 'json'])) as {
      status: { conditions: Array<{ type: string; status: string }>; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } };
    };
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.34.4');
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
    expect(JSON.parse(kubectl(['version', '-o', 'json'])).serverVersion.gitVersion).toBe('v1.34.4');
  });

  test('an image loaded from the local Docker engine runs as a pod that never pulls, and a second load skips it', async () => {
    const first = await loadImages([IMAGE]);
    expect([...first.loaded, ...first.skipped]).toEqual([IMAGE]);
    const second = await loadImages([IMAGE]);
    expect(second).toMatchObject({ loaded: [], skipped: [IMAGE] });
    apply([{
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: NS, labels: { app: 'web' } },
      spec: {
        containers: [{
          name: 'web', image: IMAGE, imagePullPolicy: 'Never', command: ['perl', '-e', HTTP_SERVER],
          ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
        }],
      },
    }]);
    waitReady('pod/web');
    const events = kubectl(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={.items[*].reason}']);
    expect(events).not.toMatch(/Pulling|ErrImageNeverPull/);
  }, 5 * MINUTE);

  test('a StatefulSet volume written by a non-root user keeps its data when the pod is deleted', () => {
    apply([{
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'keeper', namespace: NS },
      spec: {
        serviceName: 'keeper', replicas: 1, selector: { matchLabels: { app: 'keeper' } },
        template: {
          metadata: { labels: { app: 'keeper' } },
          spec: {
            securityContext: { runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true },
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'keeper', image: IMAGE, imagePullPolicy: 'Never',
              command: ['sh', '-c', '[ -f /data/first ] || (cat /proc/sys/kernel/random/uuid > /data/first) || exit 1; touch /data/ready; exec sleep infinity'],
              readinessProbe: { exec: { command: ['test', '-f', '/data/ready'] }, periodSeconds: 1 },
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } } }],
      },
    }]);
    kubectl(['-n', NS, 'rollout', 'status', 'statefulset/keeper', '--timeout=180s']);
    expect(kubectl(['-n', NS, 'get', 'pvc', 'data-keeper-0', '-o', 'jsonpath={.status.phase} {.spec.storageClassName}'])).toBe('Bound standard');
    const written = kubectl(['-n', NS, 'exec', 'keeper-0', '--', 'cat', '/data/first']);
    expect(kubectl(['-n', NS, 'exec', 'keeper-0', '--', 'stat', '-c', '%u', '/data/first'])).toBe('999');
    const uid = kubectl(['-n', NS, 'get', 'pod', 'keeper-0', '-o', 'jsonpath={.metadata.uid}']);
    kubectl(['-n', NS, 'delete', 'pod', 'keeper-0', '--wait=true']);
    for (let i = 0; i < 120; i++) {
      const r = spawnSync(kubectlPath, ['-n', NS, 'get', 'pod', 'keeper-0', '-o', 'jsonpath={.metadata.uid}'], { encoding: 'utf8' });
      if (r.status === 0 && r.stdout && r.stdout !== uid) break;
      spawnSync('sleep', ['1']);
    }
    waitReady('pod/keeper-0');
    expect(kubectl(['-n', NS, 'get', 'pod', 'keeper-0', '-o', 'jsonpath={.metadata.uid}'])).not.toBe(uid);
    expect(kubectl(['-n', NS, 'exec', 'keeper-0', '--', 'cat', '/data/first'])).toBe(written);
  }, 8 * MINUTE);

  test('a Service name resolves through cluster DNS from another pod and answers on its ClusterIP', () => {
    apply([{
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    }]);
    const clusterIp = kubectl(['-n', NS, 'get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(clusterIp).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    // kube-proxy programs a new Service within its sync period; until then the address is unknown.
    for (let i = 0; i < 60 && !sh('iptables', ['-w', '5', '-t', 'nat', '-S', 'KUBE-SERVICES']).includes(`-d ${clusterIp}/32`); i++) spawnSync('sleep', ['0.5']);
    const client = ['-n', NS, 'exec', 'keeper-0', '--'];
    expect(kubectl([...client, 'getent', 'hosts', 'web']).split(/\s+/)[0]).toBe(clusterIp);
    expect(kubectl([...client, 'getent', 'hosts', `web.${NS}.svc.cluster.local`]).split(/\s+/)[0]).toBe(clusterIp);
    const answer = kubectl([...client, 'bash', '-c', 'exec 3<>/dev/tcp/web/80; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3']);
    expect(answer).toContain('HTTP/1.0 200 OK');
    expect(answer).toContain('hello from web');
  }, 3 * MINUTE);

  test('kubectl logs, exec and port-forward reach a pod', async () => {
    expect(kubectl(['-n', NS, 'logs', 'web'])).toContain('listening on 8080');
    expect(kubectl(['-n', NS, 'exec', 'web', '--', 'cat', '/etc/hostname'])).toBe('web');
    const forward: ChildProcess = spawn(kubectlPath, ['-n', NS, 'port-forward', 'service/web', ':80'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        forward.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        forward.on('exit', (code) => reject(new Error(`kubectl port-forward exited with ${code}: ${out}`)));
      });
      expect(await get(port)).toContain('hello from web');
    } finally {
      forward.kill();
    }
  }, 3 * MINUTE);

  test('Docker containers still reach each other over a Docker network while the cluster runs', () => {
    const name = `k8s-smoke-${process.pid}`;
    const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    docker('network', 'create', name);
    try {
      docker('run', '-d', '--name', `${name}-web`, '--network', name, IMAGE, 'perl', '-e', HTTP_SERVER);
      const answer = docker('run', '--rm', '--network', name, IMAGE, 'bash', '-c',
        `for i in $(seq 50); do exec 3<>/dev/tcp/${name}-web/8080 && break; sleep 0.2; done; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3`);
      expect(answer).toContain('HTTP/1.0 200 OK');
    } finally {
      spawnSync('docker', ['rm', '-f', `${name}-web`], { stdio: 'ignore' });
      spawnSync('docker', ['network', 'rm', name], { stdio: 'ignore' });
    }
  }, 3 * MINUTE);

  test('Terraform applies and destroys a namespace and a configmap with the mirrored kubernetes provider 3.2.1', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const line of sh('bash', [path.join(repoRoot, 'scripts/deploy/terraform.sh'), '--print-env']).split('\n')) {
      const m = /^export ([A-Z0-9_]+)="?([^"]*)"?$/.exec(line.trim());
      if (m) env[m[1]] = m[2];
    }
    expect(env.RTDS_PROVIDER_KUBERNETES).toBe('3.2.1');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-k8s-tf-'));
    try {
      fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({
        terraform: { required_providers: { kubernetes: { source: 'hashicorp/kubernetes', version: env.RTDS_PROVIDER_KUBERNETES } } },
        provider: { kubernetes: { config_path: kubeconfig } },
        resource: {
          kubernetes_namespace_v1: { smoke: { metadata: { name: 'rtds-smoke-tf' } } },
          kubernetes_config_map_v1: {
            smoke: { metadata: { name: 'settings', namespace: '${kubernetes_namespace_v1.smoke.metadata[0].name}' }, data: { users: '2000' } },
          },
        },
      }));
      const tf = (...args: string[]) => execFileSync(env.TERRAFORM_BINARY_NAME!, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      tf('init', '-input=false');
      expect(fs.readFileSync(path.join(dir, '.terraform.lock.hcl'), 'utf8')).toContain('version     = "3.2.1"');
      tf('apply', '-auto-approve', '-input=false');
      expect(kubectl(['-n', 'rtds-smoke-tf', 'get', 'configmap', 'settings', '-o', 'jsonpath={.data.users}'])).toBe('2000');
      tf('destroy', '-auto-approve', '-input=false');
      expect(spawnSync(kubectlPath, ['get', 'namespace', 'rtds-smoke-tf'], { encoding: 'utf8' }).stderr).toMatch(/NotFound/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20 * MINUTE);

  test('cluster:down leaves no process, mount, iptables chain, link, network namespace, cgroup or sysctl change', async () => {
    const start = Date.now();
    const down = await clusterDown();
    downDone = true;
    phase.down = (Date.now() - start) / 1000;
    expect(down.left).toEqual([]);
    expect(hostSnapshot()).toEqual(before);
    process.stderr.write(`[k8s test] cluster up ${phase.up} s, down ${phase.down} s\n`);
  }, 5 * MINUTE);
});

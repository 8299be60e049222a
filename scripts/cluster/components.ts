// The cluster's host processes, in start order, each with its command line and its readiness
// check. Everything listens on 127.0.0.1, except CoreDNS, which answers on the pod bridge's
// gateway so that pods can reach it.
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { $ } from 'zx';
import { Program, programPath } from './build';
import { CNI_BIN_DIR } from './config';
import { BRIDGE_GATEWAY, HOST_ADDRESS, NODE_NAME, PORTS, SERVICE_CIDR, StatePaths } from './layout';
import { kubeconfigFor } from './pki';

export interface Component {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** True once the component serves. */
  readonly ready: () => Promise<boolean>;
  /** How long a cold start may take on a busy 2-core machine. */
  readonly startTimeoutMs: number;
  /** The command that prints its version. */
  readonly versionArgs: readonly string[];
}

/** GET url; true on a 2xx answer (and `body` in it, when given). Self-signed serving certs are expected. */
export function probe(url: string, opts: { cert?: string; key?: string; ca?: string; body?: string } = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const tls = url.startsWith('https:');
    const req = (tls ? https : http).get(url, {
      timeout: 2000,
      ...(tls ? {
        rejectUnauthorized: !!opts.ca,
        ca: opts.ca ? fs.readFileSync(opts.ca) : undefined,
        cert: opts.cert ? fs.readFileSync(opts.cert) : undefined,
        key: opts.key ? fs.readFileSync(opts.key) : undefined,
      } : {}),
    }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve((res.statusCode ?? 0) < 300 && (res.statusCode ?? 0) >= 200 && (!opts.body || body.includes(opts.body))));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The PATH every component runs with: the built programs, runc, iptables, conntrack. */
export function componentPath(): string {
  return [path.dirname(programPath('kubelet')), CNI_BIN_DIR, '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
}

export function components(paths: StatePaths): Component[] {
  const pki = (f: string) => path.join(paths.pki, f);
  const bin = (p: Program) => programPath(p);
  const etcdUrl = `https://${HOST_ADDRESS}:${PORTS.etcdClient}`;
  const kube = (name: 'controller-manager' | 'scheduler') => {
    const conf = kubeconfigFor(paths, name);
    return [`--kubeconfig=${conf}`, `--authentication-kubeconfig=${conf}`, `--authorization-kubeconfig=${conf}`,
      `--bind-address=${HOST_ADDRESS}`, '--leader-elect=false', '--profiling=false'];
  };
  return [
    {
      name: 'containerd',
      command: '/usr/bin/containerd',
      args: ['--config', paths.containerdConfig],
      ready: async () => (await $({ nothrow: true, quiet: true })`ctr --address ${paths.containerdSocket} version`).exitCode === 0,
      startTimeoutMs: 30_000,
      versionArgs: ['--version'],
    },
    {
      name: 'etcd',
      command: bin('etcd'),
      args: [
        '--name=rtdatastream', `--data-dir=${paths.etcdData}`,
        `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=https://${HOST_ADDRESS}:${PORTS.etcdPeer}`, `--initial-advertise-peer-urls=https://${HOST_ADDRESS}:${PORTS.etcdPeer}`,
        `--initial-cluster=rtdatastream=https://${HOST_ADDRESS}:${PORTS.etcdPeer}`,
        `--cert-file=${pki('etcd/server.crt')}`, `--key-file=${pki('etcd/server.key')}`, '--client-cert-auth', `--trusted-ca-file=${pki('etcd/ca.crt')}`,
        `--peer-cert-file=${pki('etcd/peer.crt')}`, `--peer-key-file=${pki('etcd/peer.key')}`, '--peer-client-cert-auth', `--peer-trusted-ca-file=${pki('etcd/ca.crt')}`,
        '--snapshot-count=10000', '--log-level=warn',
      ],
      ready: () => probe(`${etcdUrl}/health`, { ca: pki('etcd/ca.crt'), cert: pki('etcd/healthcheck-client.crt'), key: pki('etcd/healthcheck-client.key'), body: '"health":"true"' }),
      startTimeoutMs: 60_000,
      versionArgs: ['--version'],
    },
    {
      name: 'kube-apiserver',
      command: bin('kube-apiserver'),
      args: [
        `--bind-address=${HOST_ADDRESS}`, `--secure-port=${PORTS.apiserver}`,
        // The `kubernetes` Service's endpoint may not be loopback; pods are not meant to reach it.
        `--advertise-address=${BRIDGE_GATEWAY}`,
        `--etcd-servers=${etcdUrl}`, `--etcd-cafile=${pki('etcd/ca.crt')}`,
        `--etcd-certfile=${pki('apiserver-etcd-client.crt')}`, `--etcd-keyfile=${pki('apiserver-etcd-client.key')}`,
        `--client-ca-file=${pki('ca.crt')}`, `--tls-cert-file=${pki('apiserver.crt')}`, `--tls-private-key-file=${pki('apiserver.key')}`,
        `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`, `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
        // The kubelet listens on loopback only and the node is named localhost (layout.ts).
        '--kubelet-preferred-address-types=Hostname',
        `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`, `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
        `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`, '--requestheader-allowed-names=front-proxy-client',
        '--requestheader-extra-headers-prefix=X-Remote-Extra-', '--requestheader-group-headers=X-Remote-Group', '--requestheader-username-headers=X-Remote-User',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki('sa.pub')}`, `--service-account-signing-key-file=${pki('sa.key')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--allow-privileged=true',
        '--profiling=false', '--enable-bootstrap-token-auth=false',
      ],
      ready: () => probe(`https://${HOST_ADDRESS}:${PORTS.apiserver}/readyz`, { ca: pki('ca.crt') }),
      startTimeoutMs: 120_000,
      versionArgs: ['--version'],
    },
    {
      name: 'kube-controller-manager',
      command: bin('kube-controller-manager'),
      args: [
        ...kube('controller-manager'), `--secure-port=${PORTS.controllerManager}`,
        `--cluster-signing-cert-file=${pki('ca.crt')}`, `--cluster-signing-key-file=${pki('ca.key')}`,
        `--root-ca-file=${pki('ca.crt')}`, `--service-account-private-key-file=${pki('sa.key')}`,
        '--use-service-account-credentials=true', `--service-cluster-ip-range=${SERVICE_CIDR}`, '--allocate-node-cidrs=false',
        // The built-in provisioner behind the default StorageClass (patched: build.ts).
        '--enable-hostpath-provisioner=true',
      ],
      ready: () => probe(`https://${HOST_ADDRESS}:${PORTS.controllerManager}/healthz`),
      startTimeoutMs: 60_000,
      versionArgs: ['--version'],
    },
    {
      name: 'kube-scheduler',
      command: bin('kube-scheduler'),
      args: [...kube('scheduler'), `--secure-port=${PORTS.scheduler}`],
      ready: () => probe(`https://${HOST_ADDRESS}:${PORTS.scheduler}/healthz`),
      startTimeoutMs: 60_000,
      versionArgs: ['--version'],
    },
    {
      name: 'kubelet',
      command: bin('kubelet'),
      args: [
        `--config=${paths.kubeletConfig}`, `--kubeconfig=${kubeconfigFor(paths, 'kubelet')}`,
        `--root-dir=${paths.kubeletRoot}`, `--cert-dir=${path.join(paths.kubeletRoot, 'pki')}`,
        `--hostname-override=${NODE_NAME}`, `--node-ip=${BRIDGE_GATEWAY}`,
      ],
      ready: () => probe(`http://${HOST_ADDRESS}:${PORTS.kubeletHealthz}/healthz`),
      startTimeoutMs: 60_000,
      versionArgs: ['--version'],
    },
    {
      name: 'kube-proxy',
      command: bin('kube-proxy'),
      args: [`--config=${paths.proxyConfig}`],
      ready: () => probe(`http://${HOST_ADDRESS}:${PORTS.proxyHealthz}/livez`),
      startTimeoutMs: 60_000,
      versionArgs: ['--version'],
    },
    {
      name: 'coredns',
      command: bin('coredns'),
      args: ['-conf', paths.corefile],
      ready: () => probe(`http://${HOST_ADDRESS}:${PORTS.corednsReady}/ready`),
      startTimeoutMs: 60_000,
      versionArgs: ['-version'],
    },
  ];
}

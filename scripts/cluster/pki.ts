// Certificates and kubeconfigs, made by kubeadm's own phases (no hand-written CA): the standard
// layout (ca, apiserver, etcd/*, sa.key, front-proxy) under <state>/pki, and one kubeconfig
// per client under <state>/kubeconfigs. Kept across `down` so a user's kubeconfig stays valid.
import * as fs from 'fs';
import * as path from 'path';
import { $ } from 'zx';
import { programPath } from './build';
import { kubeadmConfigPath, writeKubeadmConfig } from './config';
import { API_PORT, BRIDGE_GATEWAY, HOST_ADDRESS, StatePaths } from './layout';

/** Clients outside kubeadm's set, each a user name the bootstrap RBAC (bootstrap.ts) knows. */
export const EXTRA_CLIENTS = { 'kube-proxy': 'system:kube-proxy', coredns: 'rtdatastream:coredns' } as const;

export function kubeconfigFor(paths: StatePaths, client: 'admin' | 'super-admin' | 'kubelet' | 'controller-manager' | 'scheduler' | keyof typeof EXTRA_CLIENTS): string {
  return path.join(paths.kubeconfigs, `${client}.conf`);
}

export async function ensurePki(paths: StatePaths): Promise<void> {
  const complete = fs.existsSync(path.join(paths.pki, 'sa.key'))
    && Object.keys(EXTRA_CLIENTS).every((c) => fs.existsSync(kubeconfigFor(paths, c as keyof typeof EXTRA_CLIENTS)))
    && fs.existsSync(paths.kubeconfig);
  if (complete) return;
  writeKubeadmConfig(paths);
  const kubeadm = programPath('kubeadm');
  const config = kubeadmConfigPath(paths);
  // Each phase skips files that already exist, so a half-made PKI is completed, not replaced.
  await $({ quiet: true })`${kubeadm} init phase certs all --config ${config}`;
  await $({ quiet: true })`${kubeadm} init phase kubeconfig all --config ${config} --kubeconfig-dir ${paths.kubeconfigs}`;
  for (const [client, user] of Object.entries(EXTRA_CLIENTS)) {
    const conf = (await $({ quiet: true })`${kubeadm} kubeconfig user --config ${config} --client-name ${user}`).stdout;
    fs.writeFileSync(kubeconfigFor(paths, client as keyof typeof EXTRA_CLIENTS), conf, { mode: 0o600 });
  }
  // kubeadm points the node's own clients at the advertise address, which may not be loopback;
  // the API server listens on loopback only.
  for (const file of fs.readdirSync(paths.kubeconfigs)) {
    const conf = path.join(paths.kubeconfigs, file);
    const text = fs.readFileSync(conf, 'utf8');
    fs.writeFileSync(conf, text.split(`server: https://${BRIDGE_GATEWAY}:${API_PORT}`).join(`server: https://${HOST_ADDRESS}:${API_PORT}`));
  }
  fs.copyFileSync(kubeconfigFor(paths, 'admin'), paths.kubeconfig);
  fs.chmodSync(paths.kubeconfig, 0o600);
}

import { Problem } from './rules';

export interface KubernetesTargetConfig {
  /** @default 'rtdatastream' */
  readonly namespace: string;
  /** StorageClass of every PVC; '' = the cluster default. @default '' */
  readonly storageClass: string;
  /** kubeconfig the provider reads. @default '~/.kube/config' */
  readonly configPath: string;
  /** kubeconfig context; '' = the current one. @default '' */
  readonly configContext: string;
  /**
   * Give each persistent volume to the pod's user with a root init container (chown of the mount
   * point only) before the service starts, for storage that ignores fsGroup (the built-in hostPath
   * provisioner makes root-owned 0750 directories). Turn it off where Pod Security 'restricted'
   * forbids root containers; the storage must then honour fsGroup. @default true
   */
  readonly chownVolumes: boolean;
}

export interface DockerTargetConfig {
  /** Docker engine address. @default 'unix:///var/run/docker.sock' */
  readonly host: string;
  /** Name of the one network every container joins. @default 'rtdatastream' */
  readonly network: string;
}

export const DOCKER_DEFAULTS: DockerTargetConfig = { host: 'unix:///var/run/docker.sock', network: 'rtdatastream' };
export const KUBERNETES_DEFAULTS: KubernetesTargetConfig = {
  namespace: 'rtdatastream', storageClass: '', configPath: '~/.kube/config', configContext: '', chownVolumes: true,
};

export function validateDocker(d: DockerTargetConfig, bad: Problem): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(d.network)) bad('docker.network', d.network, 'must be a Docker network name');
}

export function validateKubernetes(k: KubernetesTargetConfig, bad: Problem): void {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(k.namespace))
    bad('kubernetes.namespace', k.namespace, 'must be a DNS-1123 label (lowercase letters, digits, -)');
}

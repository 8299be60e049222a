// The objects a fresh cluster needs before anyone uses it, applied with kubeadm's super-admin
// kubeconfig: admin rights for kubeadm's admin.conf group, read access for CoreDNS, and the
// default StorageClass on the built-in hostPath provisioner.
import { $, YAML } from 'zx';
import { programPath } from './build';
import { StatePaths } from './layout';
import { EXTRA_CLIENTS, kubeconfigFor } from './pki';

export const STORAGE_CLASS = 'standard';

export function bootstrapObjects(): object[] {
  return [
    {
      // kubeadm's admin.conf is in this group; `kubeadm init` would create the binding.
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
      metadata: { name: 'kubeadm:cluster-admins' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
      metadata: { name: 'rtdatastream:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
      metadata: { name: 'rtdatastream:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'rtdatastream:coredns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: EXTRA_CLIENTS.coredns }],
    },
    {
      apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
      metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/host-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    },
  ];
}

export async function applyBootstrap(paths: StatePaths): Promise<void> {
  const manifest = bootstrapObjects().map((o) => YAML.stringify(o)).join('---\n');
  await $({ input: manifest, quiet: true })`${programPath('kubectl')} --kubeconfig ${kubeconfigFor(paths, 'super-admin')} apply --server-side --field-manager=rtdatastream-cluster -f -`;
}

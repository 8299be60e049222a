// What the deploy tooling and tests call: a cluster to deploy to, whether the project's own or
// the user's. Nothing here is imported by the stacks.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { $ } from 'zx';
import { ensureKubectl } from './build';
import { clusterUp } from './up';

export { clusterDown, DownOptions, DownResult, leftovers } from './down';
export { clusterStatus, formatStatus } from './status';
export { loadImages, LoadResult } from './images';
export { clusterUp, UpResult } from './up';
export { statePaths } from './layout';
export { programPath } from './build';

export interface ClusterAccess {
  readonly kubeconfig: string;
  /** A kubectl to run against it: built with the cluster (v1.34); /usr/bin/kubectl may be another program. */
  readonly kubectl: string;
  /** True when the cluster is the project's own (scripts/cluster), false when the user brought one. */
  readonly owned: boolean;
}

export interface EnsureOptions {
  /** A kubeconfig the user configured (e.g. the stack's kubernetes.configPath, when set explicitly). */
  readonly kubeconfig?: string;
  readonly env?: NodeJS.ProcessEnv;
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p;
}

/**
 * The user's cluster when they configured one (`kubeconfig`, else KUBECONFIG), checked to
 * answer; otherwise the project's own, started (and built) if it is not running.
 */
export async function ensureCluster(opts: EnsureOptions = {}): Promise<ClusterAccess> {
  const env = opts.env ?? process.env;
  const configured = opts.kubeconfig ?? env.KUBECONFIG;
  if (configured) {
    const kubeconfig = configured.split(':').map(expandHome).join(':');
    const missing = kubeconfig.split(':').filter((f) => !fs.existsSync(f));
    if (missing.length > 0) throw new Error(`the configured kubeconfig ${missing.join(', ')} does not exist (from ${opts.kubeconfig ? 'kubernetes.configPath' : 'KUBECONFIG'})`);
    const kubectl = await ensureKubectl();
    const r = await $({ nothrow: true, quiet: true, env: { ...env, KUBECONFIG: kubeconfig } })`${kubectl} --request-timeout 10s version -o json`;
    if (r.exitCode !== 0) throw new Error(`the cluster in ${kubeconfig} does not answer: ${r.stderr.trim().split('\n')[0]}`);
    return { kubeconfig, kubectl, owned: false };
  }
  const up = await clusterUp(env);
  return { kubeconfig: up.kubeconfig, kubectl: up.kubectl, owned: true };
}

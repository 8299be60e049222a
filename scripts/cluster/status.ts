// `npm run cluster:status`: each component's version, pid, readiness and memory, the node's
// state, and where the kubeconfig and kubectl are.
import * as fs from 'fs';
import { $ } from 'zx';
import { programPath } from './build';
import { components } from './components';
import { clusterProcesses } from './host';
import { KUBERNETES_VERSION, NODE_NAME, StatePaths, statePaths } from './layout';
import { readRecord } from './record';
import { runningPid } from './up';

export interface ComponentStatus {
  readonly name: string;
  readonly version: string;
  readonly pid?: number;
  readonly ready: boolean;
  /** Resident memory in MiB. */
  readonly rssMiB?: number;
}

export interface ClusterStatus {
  readonly running: boolean;
  readonly components: ComponentStatus[];
  /** e.g. "localhost Ready v1.34.4", or why it is unknown. */
  readonly node: string;
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly startedFrom?: string;
  /** Resident memory of every cluster process (components, shims, pods), MiB. */
  readonly totalRssMiB: number;
}

function rssMiB(pid: number): number | undefined {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function version(command: string, args: readonly string[]): Promise<string> {
  if (!fs.existsSync(command)) return 'not built';
  const r = await $({ nothrow: true, quiet: true })`${command} ${args}`;
  const text = `${r.stdout}${r.stderr}`;
  return /v?\d+\.\d+\.\d+(-[\w.]+)?/.exec(text)?.[0] ?? text.trim().split('\n')[0];
}

async function nodeState(paths: StatePaths): Promise<string> {
  const r = await $({ nothrow: true, quiet: true })`${programPath('kubectl')} --kubeconfig ${paths.kubeconfig} --request-timeout 5s get node ${NODE_NAME} --no-headers`;
  return r.exitCode === 0 ? r.stdout.trim().replace(/\s+/g, ' ') : `unknown (${r.stderr.trim().split('\n')[0] || 'API not answering'})`;
}

export async function clusterStatus(env: NodeJS.ProcessEnv = process.env): Promise<ClusterStatus> {
  const paths = statePaths(env);
  const list: ComponentStatus[] = [];
  for (const c of components(paths)) {
    const pid = runningPid(paths, c.name);
    list.push({ name: c.name, version: await version(c.command, c.versionArgs), pid, ready: pid !== undefined && (await c.ready()), rssMiB: pid ? rssMiB(pid) : undefined });
  }
  const running = list.every((c) => c.ready);
  const total = clusterProcesses(paths.root).reduce((sum, p) => sum + (rssMiB(p.pid) ?? 0), 0);
  return {
    running,
    components: list,
    node: list.some((c) => c.name === 'kube-apiserver' && c.ready) ? await nodeState(paths) : 'unknown (API server not running)',
    kubeconfig: paths.kubeconfig,
    kubectl: `${paths.bin}/kubectl`,
    startedFrom: readRecord(paths)?.checkout,
    totalRssMiB: total,
  };
}

export function formatStatus(s: ClusterStatus): string {
  const rows = s.components.map((c) => `  ${c.name.padEnd(24)} ${c.version.padEnd(10)} ${c.pid ? `pid ${String(c.pid).padEnd(8)}` : 'stopped     '} ${c.ready ? 'ready' : c.pid ? 'NOT READY' : ''}${c.rssMiB !== undefined ? ` ${c.rssMiB} MiB` : ''}`);
  return [
    `cluster (Kubernetes ${KUBERNETES_VERSION}): ${s.running ? 'running' : 'not running'}${s.startedFrom ? `, started from ${s.startedFrom}` : ''}`,
    ...rows,
    `  node: ${s.node}`,
    `  memory of all cluster processes (pods included): ${s.totalRssMiB} MiB`,
    `  kubeconfig: ${s.kubeconfig}`,
    `  kubectl:    ${s.kubectl}`,
  ].join('\n');
}

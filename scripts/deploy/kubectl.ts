// kubectl for the Kubernetes deploy: the cluster it talks to, the command lines printed for the
// user, waiting until every workload of the namespace is ready, and what destroy leaves behind.
import { capture, log, sleep } from './engine';

/** A cluster and the kubectl to reach it with. */
export interface Kube {
  /** kubectl program: the v1.34 one built with the project's cluster. */
  readonly kubectl: string;
  readonly kubeconfig: string;
  /** kubeconfig context; '' = its current one. */
  readonly context: string;
  /** The project's own cluster (scripts/cluster), rather than one the user brought. */
  readonly owned: boolean;
}

function baseArgs(kube: Kube): string[] {
  return ['--kubeconfig', kube.kubeconfig, ...(kube.context ? ['--context', kube.context] : [])];
}

/** kubectl's output, trimmed; throws with its stderr. */
export function kubectl(kube: Kube, args: readonly string[]): string {
  return capture(kube.kubectl, [...baseArgs(kube), ...args]);
}

/**
 * How a user runs kubectl against this cluster in a new shell: for the project's cluster the
 * absolute paths of its kubectl and kubeconfig (nothing of it is on PATH), for the user's own
 * their `kubectl`, naming the kubeconfig the deploy used.
 */
export function userKubectl(kube: Kube): string {
  return [kube.owned ? kube.kubectl : 'kubectl', ...baseArgs(kube)].join(' ');
}

interface Item {
  kind: string;
  metadata: { name: string; generation?: number };
  spec: { replicas?: number; completions?: number };
  status?: {
    readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number; succeeded?: number;
    conditions?: Array<{ type: string; status: string; message?: string }>;
  };
}

interface PodItem {
  metadata: { name: string };
  status?: { containerStatuses?: Array<{ name: string; image: string; state?: { waiting?: { reason?: string; message?: string } } }> };
}

export interface WorkloadState {
  /** e.g. `statefulset/kafka`. */
  readonly name: string;
  readonly ready: boolean;
  /** `2/3 ready`, `complete`, `failed: ...`. */
  readonly detail: string;
}

/** Every Deployment, StatefulSet and Job of the namespace: ready (or, for a Job, completed)? */
export function workloadStates(kube: Kube, namespace: string): WorkloadState[] {
  const items = (JSON.parse(kubectl(kube, ['get', 'deployments,statefulsets,jobs', '-n', namespace, '-o', 'json'])) as { items: Item[] }).items;
  return items.map((w) => {
    const name = `${w.kind.toLowerCase()}/${w.metadata.name}`;
    const s = w.status ?? {};
    if (w.kind === 'Job') {
      const failed = s.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
      if (failed) return { name, ready: false, detail: `failed: ${failed.message ?? 'no message'}` };
      const done = (s.succeeded ?? 0) >= (w.spec.completions ?? 1);
      return { name, ready: done, detail: done ? 'complete' : 'running' };
    }
    const want = w.spec.replicas ?? 1;
    const current = (s.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
    const ready = current && (s.readyReplicas ?? 0) === want && (s.updatedReplicas ?? 0) === want;
    return { name, ready, detail: `${s.readyReplicas ?? 0}/${want} ready` };
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** Pods that wait for a reason they will not get over alone (no registry here to pull from). */
function stuckPods(kube: Kube, namespace: string): string[] {
  const pods = (JSON.parse(kubectl(kube, ['get', 'pods', '-n', namespace, '-o', 'json'])) as { items: PodItem[] }).items;
  return pods.flatMap((p) => (p.status?.containerStatuses ?? [])
    .filter((c) => /ErrImagePull|ImagePullBackOff|ErrImageNeverPull|InvalidImageName|CreateContainerConfigError/.test(c.state?.waiting?.reason ?? ''))
    .map((c) => `pod/${p.metadata.name} (${c.state!.waiting!.reason}: ${c.image})`));
}

/** Waits until every Deployment and StatefulSet is ready and every Job completed; fails on a failed Job. */
export async function waitReady(kube: Kube, namespace: string, timeoutMinutes: number): Promise<WorkloadState[]> {
  const deadline = Date.now() + timeoutMinutes * 60_000;
  let states: WorkloadState[] = [];
  let said = '';
  while (Date.now() < deadline) {
    states = workloadStates(kube, namespace);
    const failed = states.filter((s) => s.detail.startsWith('failed'));
    if (failed.length) throw new Error(`jobs failed: ${failed.map((s) => `${s.name} (${s.detail})`).join(', ')}; see ${userKubectl(kube)} logs -n ${namespace} <job>`);
    const stuck = stuckPods(kube, namespace);
    if (stuck.length) throw new Error(`pods cannot start: ${stuck.join(', ')}`);
    const waiting = states.filter((s) => !s.ready);
    if (states.length > 0 && waiting.length === 0) return states;
    const now = waiting.map((s) => `${s.name} ${s.detail}`).join(', ');
    if (now !== said) log(`waiting for ${now}`);
    said = now;
    await sleep(5000);
  }
  throw new Error(`not ready after ${timeoutMinutes} min: ${states.filter((s) => !s.ready).map((s) => `${s.name} (${s.detail})`).join(', ')}`);
}

/** What of the namespace is still in the cluster: the namespace itself, and volumes its claims bound. */
export function namespaceLeftovers(kube: Kube, namespace: string): string[] {
  const left: string[] = [];
  const ns = JSON.parse(kubectl(kube, ['get', 'namespaces', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; status?: { phase?: string } }> };
  for (const n of ns.items) if (n.metadata.name === namespace) left.push(`namespace/${namespace} (${n.status?.phase ?? '?'})`);
  const pvs = JSON.parse(kubectl(kube, ['get', 'persistentvolumes', '-o', 'json'])) as { items: Array<{ metadata: { name: string }; spec: { claimRef?: { namespace?: string; name?: string } } }> };
  for (const pv of pvs.items) {
    if (pv.spec.claimRef?.namespace === namespace) left.push(`persistentvolume/${pv.metadata.name} (claim ${pv.spec.claimRef.name})`);
  }
  return left;
}

/** Waits for namespace deletion to finish and the volumes' reclaim; returns what is still there. */
export async function waitNamespaceGone(kube: Kube, namespace: string, timeoutSeconds = 180): Promise<string[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let left = namespaceLeftovers(kube, namespace);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(2000);
    left = namespaceLeftovers(kube, namespace);
  }
  return left;
}

// Airflow 3's API as a user reaches it through the port-forward: a token from the FAB auth
// manager's /auth/token with the admin login, then the v2 REST API.
import { setTimeout as sleep } from 'timers/promises';

export interface DagRun {
  readonly dag_run_id: string;
  readonly state: string;
  readonly run_type: string;
}

export class AirflowApi {
  private constructor(private readonly base: string, private readonly token: string) {}

  /** Logs in; throws with the status when the login is refused. */
  static async login(base: string, username: string, password: string): Promise<AirflowApi> {
    const res = await fetch(`${base}/auth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`POST /auth/token as ${username}: HTTP ${res.status} ${await res.text()}`);
    return new AirflowApi(base, ((await res.json()) as { access_token: string }).access_token);
  }

  async call<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
    const res = await fetch(`${this.base}/api/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, accept, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} /api/v2${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  runs(dag: string): Promise<{ dag_runs: DagRun[] }> {
    return this.call('GET', `/dags/${dag}/dagRuns?order_by=-start_date`);
  }

  trigger(dag: string): Promise<DagRun> {
    return this.call('POST', `/dags/${dag}/dagRuns`, { logical_date: null, note: 'k8s tier' });
  }

  /** Waits until the run ends; returns its final state. */
  async waitRun(dag: string, runId: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.call<DagRun>('GET', `/dags/${dag}/dagRuns/${encodeURIComponent(runId)}`);
      if (['success', 'failed'].includes(run.state)) return run.state;
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.state} after ${timeoutMs / 1000} s`);
      await sleep(5000);
    }
  }

  /** The task instances of a run, with the host each ran on. */
  async tasks(dag: string, runId: string): Promise<Array<{ task_id: string; state: string; hostname: string; try_number: number }>> {
    return (await this.call<{ task_instances: Array<{ task_id: string; state: string; hostname: string; try_number: number }> }>(
      'GET', `/dags/${dag}/dagRuns/${encodeURIComponent(runId)}/taskInstances`)).task_instances;
  }

  /** A task's log as the UI shows it: the API server fetches it from the host the task ran on. */
  async taskLog(dag: string, runId: string, task: string, tryNumber: number): Promise<string> {
    const log = await this.call<{ content: Array<{ event?: string } | string> }>(
      'GET', `/dags/${dag}/dagRuns/${encodeURIComponent(runId)}/taskInstances/${task}/logs/${tryNumber}`);
    return log.content.map((l) => (typeof l === 'string' ? l : l.event ?? '')).join('\n');
  }
}

// The Airflow side of the scheduler scenario: trigger user_pipeline over the REST API with the
// scenario's size, and read the DAG run's state (what Airflow says about the run).
import { LocalEndpoints } from '../../scripts/services/endpoints';

async function token(e: LocalEndpoints): Promise<string> {
  const a = e.airflow!;
  const res = await fetch(`${a.url}/auth/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: a.username, password: a.password }),
  });
  if (!res.ok) throw new Error(`Airflow refused a token: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function call<T>(e: LocalEndpoints, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${e.airflow!.url}/api/v2${route}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(e)}` },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`Airflow ${method} ${route}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Unpauses user_pipeline and triggers a run of `users` users; returns the DAG run id. */
export async function triggerUserPipeline(e: LocalEndpoints, users: number): Promise<string> {
  await call(e, 'PATCH', '/dags/user_pipeline', { is_paused: false });
  const run = await call<{ dag_run_id: string }>(e, 'POST', '/dags/user_pipeline/dagRuns', { logical_date: null, conf: { users } });
  return run.dag_run_id;
}

/** The DAG run's state (queued, running, success, failed). */
export async function dagRunState(e: LocalEndpoints, runId: string): Promise<string> {
  return (await call<{ state: string }>(e, 'GET', `/dags/user_pipeline/dagRuns/${encodeURIComponent(runId)}`)).state;
}

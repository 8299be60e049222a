import * as http from 'node:http';
import { Pool } from 'pg';
import { close, listen, readJsonBody, sendJson, sendText } from '../shared/http';
import { log } from '../shared/log';
import { Metrics } from '../shared/metrics';
import { checkRunRequest, MAX_BATCH, newRunStatus, runIngest, RunStatus } from './run';
import { FetchProps } from './fetch';

export interface IngestServiceProps {
  readonly pool: Pool;
  readonly sourceUrl: string;
  /** @default 8000 */
  readonly port?: number;
  /** @default '0.0.0.0' */
  readonly host?: string;
  /** Retry policy against the source. @default see FetchProps */
  readonly fetch?: FetchProps;
}

export interface RunningIngest {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The control API the Airflow DAG drives: POST /runs {users, seed?, batchSize?, nat?} → 202 {id},
 * GET /runs/:id → status, GET /runs, GET /healthz, GET /metrics. Runs execute one at a time
 * in arrival order (the landing write lock would serialize them anyway).
 */
export async function startIngestService(props: IngestServiceProps): Promise<RunningIngest> {
  const runs = new Map<string, RunStatus>();
  const metrics = new Metrics('rtds_ingest');
  for (const [n, h] of [['users_inserted_total', 'users newly landed'], ['users_already_landed_total', 'users skipped because their id was already landed'], ['users_quarantined_total', 'records and pages quarantined'], ['runs_total', 'runs finished']] as const) metrics.declare(n, h);
  metrics.declare('runs_in_progress', 'runs running or queued', 'gauge');
  let queue: Promise<unknown> = Promise.resolve();
  // Shutdown stops queued and running runs between pages instead of waiting for them.
  const shutdown = new AbortController();

  const account = (before: RunStatus, after: RunStatus) => {
    metrics.inc('users_inserted_total', 'users newly landed', after.inserted - before.inserted);
    metrics.inc('users_already_landed_total', 'users skipped because their id was already landed', after.alreadyLanded - before.alreadyLanded);
    metrics.inc('users_quarantined_total', 'records and pages quarantined', after.quarantined - before.quarantined);
  };

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://ingest');
      if (url.pathname === '/healthz') {
        try {
          await props.pool.query('SELECT 1');
          return sendJson(res, 200, { status: 'ok' });
        } catch (e) {
          return sendJson(res, 503, { status: 'unhealthy', error: `postgres: ${(e as Error).message}` });
        }
      }
      if (url.pathname === '/metrics') {
        metrics.set('runs_in_progress', 'runs running or queued', [...runs.values()].filter((r) => r.state === 'running').length);
        return sendText(res, 200, metrics.render());
      }
      if (url.pathname === '/runs' && req.method === 'POST') {
        const body = (await readJsonBody(req)) as { users?: unknown; seed?: unknown; batchSize?: unknown; nat?: unknown } | undefined;
        if (typeof body !== 'object' || body === null) return sendJson(res, 400, { error: 'body must be a JSON object like {"users": 1000, "seed": "abc"}' });
        const problem = checkRunRequest(body.users, body.seed, body.batchSize ?? MAX_BATCH, body.nat);
        if (problem) return sendJson(res, 400, { error: problem });
        const request = { users: body.users as number, seed: body.seed as string | undefined, batchSize: (body.batchSize as number | undefined) ?? MAX_BATCH, nat: body.nat as string | undefined };
        const status = newRunStatus(request);
        runs.set(status.id, status);
        let seen = { ...status };
        queue = queue.then(() =>
          runIngest({ ...request, seed: status.seed, runId: status.id, signal: shutdown.signal, pool: props.pool, sourceUrl: props.sourceUrl, fetch: props.fetch, onProgress: (s) => { account(seen, s); seen = { ...s }; } }, status)
            .then((s) => { account(seen, s); metrics.inc('runs_total', 'runs finished', 1, { state: s.state }); }),
        );
        log('info', 'ingest', 'run accepted', { run: status.id, users: status.users, seed: status.seed });
        return sendJson(res, 202, status, { location: `/runs/${status.id}` });
      }
      if (url.pathname === '/runs' && req.method === 'GET') return sendJson(res, 200, { runs: [...runs.values()] });
      const m = /^\/runs\/([^/]+)$/.exec(url.pathname);
      if (m && req.method === 'GET') {
        const run = runs.get(m[1]);
        if (run) return sendJson(res, 200, run);
        // A run from before a restart of this service.
        const row = await props.pool.query('SELECT id, seed, users, state, counts, error FROM ingest_runs WHERE id = $1', [m[1]]).catch(() => ({ rows: [] as Record<string, unknown>[] }));
        if (row.rows.length === 0) return sendJson(res, 404, { error: `no run with id ${m[1]}` });
        const r = row.rows[0] as { id: string; seed: string; users: number; state: string; counts: Record<string, unknown>; error: string | null };
        return sendJson(res, 200, { ...r.counts, id: r.id, seed: r.seed, users: r.users, state: r.state, error: r.error ?? undefined });
      }
      return sendJson(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (e) {
      sendJson(res, 400, { error: (e as Error).message });
    }
  });
  const port = await listen(server, props.port ?? 8000, props.host);
  log('info', 'ingest', 'control API listening', { port });
  return {
    port,
    async close() {
      shutdown.abort('the ingest service is shutting down');
      await close(server);
      await queue.catch(() => undefined);
    },
  };
}

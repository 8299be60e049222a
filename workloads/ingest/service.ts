import * as http from 'node:http';
import { Pool } from 'pg';
import { close, listen, readJsonBody, sendJson, sendText } from '../shared/http';
import { log } from '../shared/log';
import { exposition, IngestMetrics } from '../shared/metrics';
import { checkRunRequest, MAX_BATCH, newRunStatus, runIngest, RunStatus } from './run';
import { FetchProps } from './fetch';
import { failAbandonedRuns, HEARTBEAT_SECONDS } from './lease';

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
  const metrics = new IngestMetrics();
  let pageStarted = Date.now();
  let queue: Promise<unknown> = Promise.resolve();
  // Shutdown stops queued and running runs between pages instead of waiting for them.
  const shutdown = new AbortController();

  const account = (before: RunStatus, after: RunStatus) => {
    metrics.usersInserted.inc(after.inserted - before.inserted);
    metrics.usersAlreadyLanded.inc(after.alreadyLanded - before.alreadyLanded);
    metrics.usersQuarantined.inc(after.quarantined - before.quarantined);
    // One page per progress call: the time since the previous one is that page's fetch and write.
    if (after.pagesDone > before.pagesDone) metrics.pageSeconds.observe((Date.now() - pageStarted) / 1000);
    pageStarted = Date.now();
  };

  const server = http.createServer(async (req, res) => {
    const timer = metrics.requestSeconds.startTimer({ method: req.method ?? '' });
    res.on('finish', () => timer({ route: (req.url ?? '/').split('?')[0].replace(/^\/runs\/[^/]+$/, '/runs/:id'), code: String(res.statusCode) }));
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
        metrics.runsInProgress.set([...runs.values()].filter((r) => r.state === 'running').length);
        const m = await exposition(metrics.registry);
        return sendText(res, 200, m.text, m.contentType);
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
        queue = queue.then(() => (pageStarted = Date.now())).then(() =>
          runIngest({ ...request, seed: status.seed, runId: status.id, signal: shutdown.signal, pool: props.pool, sourceUrl: props.sourceUrl, fetch: props.fetch, onProgress: (s) => { account(seen, s); seen = { ...s }; } }, status)
            .then((s) => { account(seen, s); metrics.runs.inc({ state: s.state }); }),
        );
        log('info', 'ingest', 'run accepted', { run: status.id, users: status.users, seed: status.seed });
        return sendJson(res, 202, status, { location: `/runs/${status.id}` });
      }
      if (url.pathname === '/runs' && req.method === 'GET') return sendJson(res, 200, { runs: [...runs.values()] });
      const m = /^\/runs\/([^/]+)$/.exec(url.pathname);
      if (m && req.method === 'GET') {
        const run = runs.get(m[1]);
        if (run) return sendJson(res, 200, run);
        // A run from before a restart of this service (failed if its process is gone).
        await sweep();
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
  // Runs of a process that died (this service before a restart, another replica) end `failed`.
  const sweep = () => failAbandonedRuns(props.pool, [...runs.values()].filter((r) => r.state === 'running').map((r) => r.id)).catch((e: Error) => log('warn', 'ingest', 'could not check for abandoned runs', { error: e.message }));
  await sweep();
  const sweeper = setInterval(sweep, HEARTBEAT_SECONDS * 1000);
  sweeper.unref();
  const port = await listen(server, props.port ?? 8000, props.host);
  log('info', 'ingest', 'control API listening', { port });
  return {
    port,
    async close() {
      clearInterval(sweeper);
      shutdown.abort('the ingest service is shutting down');
      await close(server);
      await queue.catch(() => undefined);
    },
  };
}

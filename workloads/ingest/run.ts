import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { log } from '../shared/log';
import { backoffMs, fetchPage, FetchProps } from './fetch';
import { BatchOutcome, landBatch } from './landing';
import { sortBatch } from './normalize';
import { copyRows } from './copy-text';
import { randomSeed } from '../source/generate';
import { keepRunAlive } from './lease';

/** The real API's per-request ceiling. */
export const MAX_BATCH = 5000;

export interface IngestRunProps {
  readonly pool: Pool;
  /** randomuser.me or the bundled source, ending in /api/. */
  readonly sourceUrl: string;
  /** Users to land. */
  readonly users: number;
  /** Same seed, same users: re-running a seed lands nothing new. @default a random seed */
  readonly seed?: string;
  /** Users per request and per transaction. @default 5000 */
  readonly batchSize?: number;
  /** Comma-separated nationalities to ask for. @default all */
  readonly nat?: string;
  /** Retry policy against the source. @default see FetchProps */
  readonly fetch?: FetchProps;
  /** Attempts of one page's transaction when PostgreSQL is unreachable. @default 10 */
  readonly writeAttempts?: number;
  /** First delay between write attempts, doubling up to 5 s. @default 250 */
  readonly writeBaseDelayMs?: number;
  /** @default a random UUID */
  readonly runId?: string;
  /** Called after every page. */
  readonly onProgress?: (status: RunStatus) => void;
  /** Stops the run between pages (shutdown); the run ends `failed` with the reason. @default none */
  readonly signal?: AbortSignal;
  /**
   * Pages requested ahead of the one being written. One keeps a single request in flight while a
   * page is written; two keep the source busy while ingest parses one page and writes another.
   * @default 2
   */
  readonly prefetch?: number;
}

export type RunState = 'running' | 'succeeded' | 'failed';

export interface RunStatus {
  id: string;
  state: RunState;
  seed: string;
  users: number;
  batchSize: number;
  pages: number;
  pagesDone: number;
  /** Records received from the source (before validation). */
  fetched: number;
  inserted: number;
  alreadyLanded: number;
  quarantined: number;
  /** Pages given up after retries (each left a quarantine row). */
  failedPages: number;
  warnings: number;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

/** Validates run parameters; the message names the bad one. */
export function checkRunRequest(users: unknown, seed: unknown, batchSize: unknown = MAX_BATCH, nat?: unknown): string | undefined {
  if (nat !== undefined && (typeof nat !== 'string' || !/^[A-Za-z]{2}(,[A-Za-z]{2})*$/.test(nat))) return `nat must be comma-separated two-letter codes like "US,GB", got ${JSON.stringify(nat)}`;
  if (typeof users !== 'number' || !Number.isInteger(users) || users < 1 || users > 100_000_000) return `users must be an integer from 1 to 100000000, got ${JSON.stringify(users)}`;
  if (seed !== undefined && (typeof seed !== 'string' || seed.length === 0 || seed.length > 256)) return `seed must be a string of 1 to 256 characters, got ${JSON.stringify(seed)}`;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) return `batchSize must be an integer from 1 to ${MAX_BATCH}, got ${JSON.stringify(batchSize)}`;
  return undefined;
}

/** Errors after which the same transaction may succeed: connection loss, shutdown, serialization. */
export function isTransientPgError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  const msg = (e as Error).message ?? '';
  return /^(08|57P|40|53)/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|AI_AGAIN)$/.test(code)
    || /Connection terminated|connection timeout|not queryable|Client has encountered a connection error/i.test(msg);
}

import { setTimeout as sleep } from 'node:timers/promises';

async function landWithRetry(props: IngestRunProps, fn: () => Promise<BatchOutcome>, page: number): Promise<BatchOutcome> {
  const attempts = props.writeAttempts ?? 10;
  const base = props.writeBaseDelayMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransientPgError(e) || attempt >= attempts) throw e;
      const delay = backoffMs(attempt - 1, base, 5000, Math.random);
      log('warn', 'ingest', 'landing write failed, retrying the whole page', { page, attempt, error: (e as Error).message, delayMs: delay });
      await sleep(delay);
    }
  }
}

async function saveRun(pool: Pool, s: RunStatus): Promise<void> {
  const { id, seed, users, state, error, ...counts } = s;
  await pool.query(
    `INSERT INTO ingest_runs (id, seed, users, state, counts, error, started_at, finished_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
     ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, counts = EXCLUDED.counts, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, heartbeat_at = now()`,
    [id, seed, users, state, JSON.stringify(counts), error ?? null, s.startedAt, s.finishedAt ?? null],
  ).catch((e: Error) => log('warn', 'ingest', 'could not record run status', { run: id, error: e.message }));
}

/**
 * Lands `users` users: the next pages of the seed are fetched while one is written. Each page
 * is one transaction; a page the source never serves right is quarantined and the run goes on.
 */
export async function runIngest(props: IngestRunProps, status: RunStatus = newRunStatus(props)): Promise<RunStatus> {
  const problem = checkRunRequest(props.users, props.seed, props.batchSize ?? MAX_BATCH, props.nat);
  if (problem) throw new Error(problem);
  const prefetch = props.prefetch ?? 2;
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 8) throw new Error(`prefetch must be an integer from 1 to 8, got ${JSON.stringify(prefetch)}`);
  const { pool, sourceUrl } = props;
  const batch = status.batchSize;
  await saveRun(pool, status);
  const stopHeartbeat = keepRunAlive(pool, status.id);
  const fetchOne = (page: number) => fetchPage(sourceUrl, { results: batch, seed: status.seed, page, nat: props.nat }, { ...props.fetch, signal: props.signal });
  // Pages are requested in order and written in order; up to `prefetch` are in flight.
  const ahead: ReturnType<typeof fetchOne>[] = [];
  let requested = 0;
  const topUp = () => {
    while (ahead.length < prefetch && requested < status.pages) ahead.push(fetchOne(++requested));
  };
  // Page n is made ready (validated, normalized, encoded for COPY) while page n - 1 is written.
  const prepare = (page: number, fetched: Awaited<ReturnType<typeof fetchOne>>): (() => Promise<BatchOutcome>) => {
    const pos = { seed: status.seed, page, pageSize: batch };
    if (!fetched.ok) {
      status.failedPages++;
      log('error', 'ingest', 'source page given up', { run: status.id, page, attempts: fetched.error.attempts, reason: fetched.error.reason });
      const payload = (() => { try { return JSON.parse(fetched.error.body); } catch { return fetched.error.body.slice(0, 65536); } })();
      const failed = [{ index: -1, reason: `page ${page} given up after ${fetched.error.attempts} attempts: ${fetched.error.reason}`, payload }];
      return () => landBatch(pool, [], failed, pos, status.id);
    }
    const wanted = Math.min(batch, status.users - (page - 1) * batch);
    const all = fetched.value.results;
    const results = all.length > wanted ? all.slice(0, wanted) : all;
    if (all.length < wanted) log('warn', 'ingest', 'source returned fewer users than asked', { run: status.id, page, asked: wanted, got: all.length });
    status.fetched += results.length;
    const sorted = sortBatch(results, new Date());
    for (const r of sorted.rejected) log('warn', 'ingest', 'record quarantined', { run: status.id, page, index: r.index, reason: r.reason.slice(0, 500) });
    for (const w of sorted.warnings) log('warn', 'ingest', 'record landed with a warning', { run: status.id, page, warning: w });
    status.warnings += sorted.warnings.length;
    const rows = copyRows(sorted.accepted, status.id, pos.seed, page);
    return () => landBatch(pool, sorted.accepted, sorted.rejected, pos, status.id, rows);
  };
  // Progress in the table too, so any ingest replica can answer GET /runs/:id; saved in order,
  // beside the next page's write rather than before it.
  let saved = Promise.resolve();
  const finish = (page: number, outcome: BatchOutcome) => {
    status.inserted += outcome.inserted;
    status.alreadyLanded += outcome.alreadyLanded;
    status.quarantined += outcome.quarantined;
    status.pagesDone = page;
    const snapshot = { ...status };
    saved = saved.then(() => saveRun(pool, snapshot));
    props.onProgress?.(status);
  };
  let writing: Promise<BatchOutcome> | undefined;
  try {
    topUp();
    for (let page = 1; page <= status.pages; page++) {
      const fetched = await ahead.shift()!;
      if (props.signal?.aborted) {
        // The page being written still commits or fails as a whole; the status says which.
        if (writing) finish(page - 1, await writing);
        throw new Error(`run stopped after ${page - 1} of ${status.pages} pages: ${String(props.signal.reason ?? 'shutdown')}`);
      }
      topUp();
      const write = prepare(page, fetched);
      if (writing) finish(page - 1, await writing);
      writing = landWithRetry(props, write, page);
      // Its failure is taken where it is awaited; until then the next page is prepared.
      writing.catch(() => undefined);
    }
    if (writing) finish(status.pages, await writing);
    status.state = 'succeeded';
  } catch (e) {
    status.state = 'failed';
    status.error = (e as Error).message;
    log('error', 'ingest', 'run failed', { run: status.id, page: status.pagesDone + 1, error: status.error });
  }
  stopHeartbeat();
  status.finishedAt = new Date().toISOString();
  await saved;
  await saveRun(pool, status);
  log('info', 'ingest', 'run finished', { ...status });
  return status;
}

export function newRunStatus(props: Pick<IngestRunProps, 'users' | 'seed' | 'batchSize' | 'runId'>): RunStatus {
  const batchSize = props.batchSize ?? MAX_BATCH;
  return {
    id: props.runId ?? randomUUID(),
    state: 'running',
    seed: props.seed ?? randomSeed(),
    users: props.users,
    batchSize,
    pages: Math.ceil(props.users / batchSize),
    pagesDone: 0,
    fetched: 0,
    inserted: 0,
    alreadyLanded: 0,
    quarantined: 0,
    failedPages: 0,
    warnings: 0,
    startedAt: new Date().toISOString(),
  };
}


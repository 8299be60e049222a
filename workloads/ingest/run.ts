import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { log } from '../shared/log';
import { backoffMs, FetchProps } from './fetch';
import { BatchOutcome, landBatch, NO_ROWS } from './landing';
import { fetchAndPrepare, PageRequest, PortableFetchProps, PreparedPage } from './prepare';
import { prepareOnThread } from './page-thread';
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

/**
 * PostgreSQL's disk is full: SQLSTATE 53100 (disk_full, what the server sends for ENOSPC on a data
 * file or on its WAL). Retrying the page cannot help until someone frees space; when the WAL could
 * not be written the server has stopped (PANIC) and must be started again.
 */
export function isDiskFull(e: unknown): boolean {
  return (e as { code?: string }).code === '53100' || /No space left on device/i.test((e as Error).message ?? '');
}

/** A page's transaction refused because PostgreSQL's disk is full; the run stops with a message that says so. */
export class DiskFullError extends Error {
  constructor(readonly page: number, readonly cause: Error, then?: Error) {
    super(`PostgreSQL is out of disk space (SQLSTATE 53100 disk_full: ${cause.message}${then ? `; the page's write then failed with: ${then.message}` : ''})`);
    this.name = 'DiskFullError';
  }
}

/** Errors after which the same transaction may succeed: connection loss, shutdown, serialization, too many connections. */
export function isTransientPgError(e: unknown): boolean {
  if (isDiskFull(e)) return false;
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
      if (isDiskFull(e)) throw new DiskFullError(page, e as Error);
      if (!isTransientPgError(e) || attempt >= attempts) throw e;
      const delay = backoffMs(attempt - 1, base, 5000, Math.random);
      log('warn', 'ingest', 'landing write failed, retrying the whole page', { page, attempt, error: (e as Error).message, delayMs: delay });
      await sleep(delay);
    }
  }
}

/** The fetch settings without test hooks, or undefined when it has some (they cannot cross threads). */
function portableFetchProps(f: FetchProps = {}): PortableFetchProps | undefined {
  if (f.sleep !== undefined || f.random !== undefined) return undefined;
  return { timeoutMs: f.timeoutMs, maxAttempts: f.maxAttempts, baseDelayMs: f.baseDelayMs, maxDelayMs: f.maxDelayMs };
}

/** Upserts the run's row; false (logged) when PostgreSQL did not take it. */
async function saveRun(pool: Pool, s: RunStatus, onError: (e: Error) => void = () => undefined): Promise<boolean> {
  const { id, seed, users, state, error, ...counts } = s;
  return pool.query(
    `INSERT INTO ingest_runs (id, seed, users, state, counts, error, started_at, finished_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
     ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, counts = EXCLUDED.counts, error = EXCLUDED.error, finished_at = EXCLUDED.finished_at, heartbeat_at = now()`,
    [id, seed, users, state, JSON.stringify(counts), error ?? null, s.startedAt, s.finishedAt ?? null],
  ).then(() => true, (e: Error) => {
    onError(e);
    log('warn', 'ingest', 'could not record run status', { run: id, error: e.message });
    return false;
  });
}

/** How long a finished run's status keeps being offered to a PostgreSQL that did not take it. */
export const FINAL_STATUS_RETRY_MINUTES = 30;

/**
 * The run's last status. When PostgreSQL cannot take it (its disk is full, it is down), it is
 * offered again every 5 s in the background, so that `ingest_runs` ends up saying how the run
 * ended once the database is back (a lease sweep would otherwise say the process died). The
 * timer does not keep a one-shot process alive; a replica's GET /runs/:id has it in memory meanwhile.
 */
async function saveFinalRun(pool: Pool, s: RunStatus, retryMinutes = FINAL_STATUS_RETRY_MINUTES): Promise<void> {
  if (await saveRun(pool, s)) return;
  const until = Date.now() + retryMinutes * 60_000;
  const again = () => {
    const timer = setTimeout(() => void saveRun(pool, s).then((ok) => {
      if (ok) log('info', 'ingest', 'run status recorded after PostgreSQL came back', { run: s.id, state: s.state });
      else if (Date.now() < until) again();
      else log('error', 'ingest', 'run status never recorded: PostgreSQL did not take it', { run: s.id, state: s.state, minutes: retryMinutes });
    }), 5000);
    timer.unref();
  };
  again();
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
  // The server's disk-full error goes to the one session that hit it; when that was the run's own
  // status or heartbeat write, the page's write sees only the lost connection that follows.
  let diskFull: Error | undefined;
  const noteDiskFull = (e: Error) => { if (isDiskFull(e)) diskFull = e; };
  await saveRun(pool, status, noteDiskFull);
  const stopHeartbeat = keepRunAlive(pool, status.id, noteDiskFull);
  // Pages are fetched and parsed on the page thread when the run has more than one (test hooks in
  // `fetch` cannot cross threads: those runs prepare pages on this thread, the same way).
  const portable = portableFetchProps(props.fetch);
  const offThread = status.pages > 1 && portable !== undefined;
  const wantedOf = (page: number) => Math.min(batch, status.users - (page - 1) * batch);
  const fetchOne = (page: number): Promise<PreparedPage> => {
    const req: PageRequest = { sourceUrl, query: { results: batch, seed: status.seed, page, nat: props.nat }, wanted: wantedOf(page), runId: status.id };
    return offThread ? prepareOnThread(req, portable!, props.signal) : fetchAndPrepare(req, { ...props.fetch, signal: props.signal });
  };
  // Pages are requested in order and written in order; up to `prefetch` are in flight.
  const ahead: Promise<PreparedPage>[] = [];
  let requested = 0;
  const topUp = () => {
    while (ahead.length < prefetch && requested < status.pages) {
      const next = fetchOne(++requested);
      // Its failure is taken where it is awaited.
      next.catch(() => undefined);
      ahead.push(next);
    }
  };
  // Page n (fetched, validated, normalized and encoded for COPY on the page thread) is accounted
  // for while page n - 1 is written.
  const prepare = (page: number, ready: PreparedPage): (() => Promise<BatchOutcome>) => {
    const pos = { seed: status.seed, page, pageSize: batch };
    if (!ready.ok) {
      status.failedPages++;
      log('error', 'ingest', 'source page given up', { run: status.id, page, attempts: ready.error.attempts, reason: ready.error.reason });
      const payload = (() => { try { return JSON.parse(ready.error.body); } catch { return ready.error.body.slice(0, 65536); } })();
      const failed = [{ index: -1, reason: `page ${page} given up after ${ready.error.attempts} attempts: ${ready.error.reason}`, payload }];
      return () => landBatch(pool, NO_ROWS, failed, pos, status.id);
    }
    if (ready.got < wantedOf(page)) log('warn', 'ingest', 'source returned fewer users than asked', { run: status.id, page, asked: wantedOf(page), got: ready.got });
    status.fetched += ready.fetched;
    for (const r of ready.rejected) log('warn', 'ingest', 'record quarantined', { run: status.id, page, index: r.index, reason: r.reason.slice(0, 500) });
    for (const w of ready.warnings) log('warn', 'ingest', 'record landed with a warning', { run: status.id, page, warning: w });
    status.warnings += ready.warnings.length;
    const users = { count: ready.accepted, rows: ready.rows };
    return () => landBatch(pool, users, ready.rejected, pos, status.id);
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
    saved = saved.then(async () => { await saveRun(pool, snapshot, noteDiskFull); });
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
  } catch (err) {
    const e = !(err instanceof DiskFullError) && diskFull && isTransientPgError(err) ? new DiskFullError(status.pagesDone + 1, diskFull, err as Error) : err;
    status.state = 'failed';
    status.error = e instanceof DiskFullError
      ? `${e.message}: page ${e.page} of ${status.pages} rolled back whole, ${status.inserted + status.alreadyLanded} users in ${status.pagesDone} pages landed before it. ` +
        `Free space on the database server's disk (start PostgreSQL again if it stopped), then rerun with seed ${status.seed}: the landed pages are skipped and the rest lands once.`
      : (e as Error).message;
    log('error', 'ingest', 'run failed', { run: status.id, page: status.pagesDone + 1, error: status.error });
  }
  stopHeartbeat();
  status.finishedAt = new Date().toISOString();
  await saved;
  await saveFinalRun(pool, status);
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


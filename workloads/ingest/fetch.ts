import { log } from '../shared/log';
import { err, ok, Result } from '../shared/result';
import { PageFailure, parsePage, SourcePage } from './page';

export interface FetchProps {
  /** Per-attempt timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** Attempts per page before it is given up. @default 6 */
  readonly maxAttempts?: number;
  /** First backoff step; doubles each attempt. @default 500 */
  readonly baseDelayMs?: number;
  /** Ceiling of one backoff (and of an honoured Retry-After). @default 30000 */
  readonly maxDelayMs?: number;
  /** Replaced in tests to keep them fast. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Random in [0,1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Aborts the request and the waits between attempts (service shutdown). @default none */
  readonly signal?: AbortSignal;
}

export interface PageQuery {
  readonly results: number;
  readonly seed: string;
  readonly page: number;
  /** Comma-separated nationalities; omitted = all. */
  readonly nat?: string;
}

export interface FetchFailure extends PageFailure {
  readonly attempts: number;
}

function abortableSleep(signal: AbortSignal | undefined): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
}

/** Exponential backoff with full jitter: uniform in [base, min(max, base·2^attempt)]. */
export function backoffMs(attempt: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** attempt);
  return Math.round(base + random() * Math.max(0, ceiling - base));
}

export function pageUrl(base: string, q: PageQuery): string {
  const u = new URL(base);
  u.searchParams.set('results', String(q.results));
  u.searchParams.set('seed', q.seed);
  u.searchParams.set('page', String(q.page));
  if (q.nat) u.searchParams.set('nat', q.nat);
  return u.toString();
}

/** Fetches one page, retrying what may succeed later; gives up with the last reason. */
export async function fetchPage(base: string, q: PageQuery, props: FetchProps = {}): Promise<Result<SourcePage, FetchFailure>> {
  const timeoutMs = props.timeoutMs ?? 30_000;
  const maxAttempts = props.maxAttempts ?? 6;
  const base0 = props.baseDelayMs ?? 500;
  const maxDelay = props.maxDelayMs ?? 30_000;
  const sleep = props.sleep ?? abortableSleep(props.signal);
  const random = props.random ?? Math.random;
  const url = pageUrl(base, q);
  let last: PageFailure = { reason: 'not attempted', retryable: false, body: '' };
  let attempts = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (props.signal?.aborted) return err({ reason: 'stopped before the page was fetched', retryable: false, body: '', attempts });
    attempts = attempt;
    let result: Result<SourcePage, PageFailure>;
    try {
      const res = await fetch(url, { signal: props.signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), props.signal]) : AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      const body = await res.text();
      result = parsePage(res.status, res.headers.get('content-type'), body, res.headers.get('retry-after'));
      if (result.ok && result.value.results.length === 0 && q.results > 0)
        result = err({ reason: `empty results for page ${q.page} (asked for ${q.results})`, retryable: true, body });
    } catch (e) {
      const error = e as Error & { cause?: { code?: string; message?: string } };
      const detail = error.cause?.code ?? error.cause?.message;
      const reason = error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${error.message}${detail ? ` (${detail})` : ''}`;
      result = err({ reason, retryable: true, body: '' });
    }
    if (result.ok) return ok(result.value);
    last = result.error;
    if (!last.retryable || attempt === maxAttempts) break;
    const delay = last.retryAfterMs !== undefined ? Math.min(maxDelay, last.retryAfterMs) : backoffMs(attempt - 1, base0, maxDelay, random);
    log('warn', 'ingest', 'source page failed, retrying', { page: q.page, seed: q.seed, attempt, reason: last.reason, delayMs: delay });
    await sleep(delay);
  }
  return err({ ...last, attempts });
}

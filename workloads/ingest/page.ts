import { err, ok, Result } from '../shared/result';

/** What went wrong with one HTTP answer, and whether asking again may help. */
export interface PageFailure {
  readonly reason: string;
  readonly retryable: boolean;
  /** Milliseconds the server asked us to wait (429/503 Retry-After). */
  readonly retryAfterMs?: number;
  /** The body as received, for the quarantine row when the page is given up. */
  readonly body: string;
}

export interface SourcePage {
  readonly results: readonly unknown[];
  readonly info?: unknown;
}

/** Retry-After is either delta-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

const snippet = (body: string): string => JSON.stringify(body.slice(0, 120));

/**
 * Classifies an HTTP answer from randomuser.me (or the bundled source). Pure: the caller
 * did the I/O and decides about retrying from `retryable`.
 */
export function parsePage(status: number, contentType: string | null, body: string, retryAfter: string | null, now = Date.now()): Result<SourcePage, PageFailure> {
  const fail = (reason: string, retryable: boolean, retryAfterMs?: number): Result<never, PageFailure> => err({ reason, retryable, retryAfterMs, body });
  if (status === 429) return fail(`HTTP 429 Too Many Requests${retryAfter ? ` (Retry-After: ${retryAfter})` : ' without Retry-After'}`, true, parseRetryAfter(retryAfter, now));
  const trimmed = body.trimStart();
  if ((contentType ?? '').includes('text/html') || trimmed.startsWith('<'))
    return fail(`HTTP ${status}: an HTML page instead of JSON: ${snippet(trimmed)}`, status >= 500 || status === 200 || status === 408);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    return fail(`HTTP ${status}: body is not valid JSON (${(e as Error).message}; ${body.length} bytes, ends ${JSON.stringify(body.slice(-40))})`, true);
  }
  const errorText = typeof json === 'object' && json !== null && 'error' in json ? String((json as { error: unknown }).error) : undefined;
  if (status >= 500) return fail(`HTTP ${status}${errorText ? `: ${errorText}` : ''}`, true, parseRetryAfter(retryAfter, now));
  if (status === 408) return fail('HTTP 408 Request Timeout', true);
  if (errorText !== undefined) return fail(`source answered error: ${errorText}`, status < 400);
  if (status < 200 || status >= 300) return fail(`HTTP ${status}: ${snippet(body)}`, false);
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { results?: unknown }).results))
    return fail(`HTTP ${status}: JSON has no results array: ${snippet(body)}`, true);
  const page = json as { results: unknown[]; info?: unknown };
  return ok({ results: page.results, info: page.info });
}

import { copyRows } from './copy-text';
import { fetchPage, FetchFailure, FetchProps, PageQuery } from './fetch';
import { Rejected, sortBatch } from './normalize';

/** Fetch settings that can cross to another thread: numbers only (no test hooks, no signal). */
export type PortableFetchProps = Pick<FetchProps, 'timeoutMs' | 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>;

/** One page of a run to fetch and make ready for its transaction. */
export interface PageRequest {
  readonly sourceUrl: string;
  readonly query: PageQuery;
  /** Users the run still needs from this page (the last page may be asked in full and cut). */
  readonly wanted: number;
  /** Written on every row, with the seed and page. */
  readonly runId: string;
}

/** A page ready to land: its users as COPY text, its rejects, and what was seen on the way. */
export interface ReadyPage {
  readonly ok: true;
  /** Records received and kept for this run (before validation). */
  readonly fetched: number;
  /** Records the source sent; fewer than `wanted` is worth a warning. */
  readonly got: number;
  /** Users that passed validation, as COPY text rows (copyRows). */
  readonly accepted: number;
  readonly rows: Buffer;
  readonly rejected: readonly Rejected[];
  readonly warnings: readonly string[];
}

export type PreparedPage = ReadyPage | { readonly ok: false; readonly error: FetchFailure };

/**
 * Fetches a page (with fetchPage's retries), then validates, normalizes and encodes its users for
 * COPY. Pure CPU after the fetch and the same on any thread: ingest runs it on its page thread
 * (page-thread.ts) so that parsing one page overlaps with writing the one before.
 */
export async function fetchAndPrepare(req: PageRequest, fetchProps: FetchProps = {}): Promise<PreparedPage> {
  const fetched = await fetchPage(req.sourceUrl, req.query, fetchProps);
  if (!fetched.ok) return fetched;
  const all = fetched.value.results;
  const results = all.length > req.wanted ? all.slice(0, req.wanted) : all;
  const sorted = sortBatch(results, new Date());
  return {
    ok: true,
    fetched: results.length,
    got: all.length,
    accepted: sorted.accepted.length,
    rows: copyRows(sorted.accepted, req.runId, req.query.seed, req.query.page),
    rejected: sorted.rejected,
    warnings: sorted.warnings,
  };
}

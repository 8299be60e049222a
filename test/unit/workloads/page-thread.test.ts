import { prepareOnThread } from '../../../workloads/ingest/page-thread';
import { fetchAndPrepare, PageRequest, ReadyPage } from '../../../workloads/ingest/prepare';
import { generatePage, USER_FIELDS } from '../../../workloads/source/generate';
import { setQuiet } from '../../../workloads/shared/log';
import { SourceServer, startSourceServer } from '../../shared/source-server';

/** A page of the bundled source with one bad record and one duplicate, served over real HTTP. */
let server: SourceServer;
let base: string;
let hold = false;

function body(): string {
  const page = generatePage({ results: 50, seed: 'thread', page: 2, nat: [], fields: [...USER_FIELDS], noinfo: false }, Date.parse('2026-01-01T00:00:00Z'));
  const results = page.results as Record<string, unknown>[];
  results[3] = { ...results[3], email: 'no-at-sign' };
  results[7] = results[6];
  return JSON.stringify(page);
}

beforeAll(async () => {
  setQuiet(true);
  const text = body();
  server = await startSourceServer((_req, res) => {
    if (hold) return; // never answers: the request waits for its timeout or an abort
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  });
  base = server.url;
});
afterAll(async () => {
  await server.close();
  setQuiet(false);
});
afterEach(() => (hold = false));

const request = (wanted = 50): PageRequest => ({ sourceUrl: base, query: { results: 50, seed: 'thread', page: 2 }, wanted, runId: 'run-1' });
/** COPY rows without ingested_at (column 13), which is the moment the page was prepared. */
const rowsWithoutTime = (p: ReadyPage) => p.rows.toString('utf8').trim().split('\n').map((line) => line.split('\t').filter((_, i) => i !== 13).join('\t'));

test('a page prepared on the page thread is the page prepared here: rows, rejects and warnings', async () => {
  const there = await prepareOnThread(request(), { maxAttempts: 1 });
  const here = await fetchAndPrepare(request(), { maxAttempts: 1 });
  if (!there.ok || !here.ok) throw new Error('both should have fetched');
  expect(there.accepted).toBe(48);
  expect(there.rejected.map((r) => r.index)).toEqual([3, 7]);
  expect(there.rejected[1].reason).toMatch(/duplicate login\.uuid/);
  expect({ ...there, rows: rowsWithoutTime(there) }).toEqual({ ...here, rows: rowsWithoutTime(here) });
  expect(Buffer.isBuffer(there.rows)).toBe(true);
});

test('the last page is cut to what the run still needs', async () => {
  const p = await prepareOnThread(request(10), { maxAttempts: 1 });
  if (!p.ok) throw new Error(p.error.reason);
  expect([p.got, p.fetched, p.accepted, p.rejected.length]).toEqual([50, 10, 8, 2]);
});

test('a stopped run stops the page thread\'s request instead of waiting for its timeout', async () => {
  hold = true;
  const stop = new AbortController();
  const asked = prepareOnThread(request(), { maxAttempts: 3, timeoutMs: 60_000 }, stop.signal);
  setTimeout(() => stop.abort(new Error('shutdown')), 200);
  const t0 = Date.now();
  const p = await asked;
  expect(p.ok).toBe(false);
  if (!p.ok) expect(p.error.reason).toMatch(/stopped|abort/i);
  expect(Date.now() - t0).toBeLessThan(30_000);
});

test('a source that fails is given up on the thread with the reason, as here', async () => {
  const p = await prepareOnThread({ ...request(), sourceUrl: 'http://127.0.0.1:1/api/' }, { maxAttempts: 1 });
  expect(p.ok).toBe(false);
  if (!p.ok) expect(p.error).toMatchObject({ attempts: 1, retryable: true });
});

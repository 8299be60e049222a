import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { backoffMs, fetchPage } from '../../../workloads/ingest/fetch';
import { parsePage, parseRetryAfter } from '../../../workloads/ingest/page';
import { generatePage, USER_FIELDS } from '../../../workloads/source/generate';
import { setQuiet } from '../../../workloads/shared/log';
import { SourceServer, startSourceServer } from '../../shared/source-server';

/** A real HTTP server standing in for randomuser.me, misbehaving on purpose, one answer per request. */
type Answer = { status: number; body: string; headers?: Record<string, string>; delayMs?: number };
let answers: Answer[] = [];
let requests: string[] = [];
let server: SourceServer;
let base: string;

const page = (n = 3) => JSON.stringify(generatePage({ results: n, seed: 'f', page: 1, nat: [], fields: [...USER_FIELDS], noinfo: false }));
const json = (status: number, body: string, headers: Record<string, string> = {}): Answer => ({ status, body, headers: { 'content-type': 'application/json', ...headers } });

beforeAll(async () => {
  setQuiet(true);
  server = await startSourceServer((req, res) => {
    requests.push(req.url ?? '');
    const a = answers.shift() ?? json(500, '{"error":"no answer scripted"}');
    setTimeout(() => {
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body);
    }, a.delayMs ?? 0);
  });
  base = server.url;
});
afterAll(async () => {
  await server.close();
  setQuiet(false);
});
beforeEach(() => {
  answers = [];
  requests = [];
});

const waits: number[] = [];
const props = { sleep: async (ms: number) => void waits.push(ms), random: () => 0.5, baseDelayMs: 100, maxDelayMs: 10_000, maxAttempts: 4, timeoutMs: 500 };
const q = { results: 3, seed: 'f', page: 1 };

describe('ingest: fetching pages from a misbehaving source', () => {
  beforeEach(() => (waits.length = 0));

  test('asks with results, seed and page', async () => {
    answers = [json(200, page())];
    const r = await fetchPage(base, q, props);
    expect(r.ok && r.value.results).toHaveLength(3);
    expect(requests).toEqual(['/api/?results=3&seed=f&page=1']);
  });

  test('HTTP 500 then recovery: retried with backoff, the page arrives', async () => {
    answers = [json(500, '{"error":"Uh oh, something has gone wrong."}'), json(502, 'bad gateway'), json(200, page())];
    const r = await fetchPage(base, q, props);
    expect(r.ok).toBe(true);
    expect(requests).toHaveLength(3);
    expect(waits).toEqual([100, 150]);
  });

  test('truncated JSON is retried, and reported when it persists', async () => {
    const cut = page().slice(0, 200);
    answers = [json(200, cut), json(200, cut), json(200, cut), json(200, cut)];
    const r = await fetchPage(base, q, props);
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ attempts: 4, reason: expect.stringContaining('not valid JSON'), body: cut }) });
  });

  test('an HTML error page is named as such', async () => {
    answers = [{ status: 503, body: '<html><body><h1>503 Service Unavailable</h1></body></html>', headers: { 'content-type': 'text/html' } }, json(200, page())];
    const r = await fetchPage(base, q, props);
    expect(r.ok).toBe(true);
    expect(parsePage(503, 'text/html', '<html>oops</html>', null)).toEqual({ ok: false, error: expect.objectContaining({ reason: expect.stringContaining('HTML page instead of JSON'), retryable: true }) });
  });

  test('{error} with HTTP 200 is retried; with HTTP 400 it is not', async () => {
    answers = [json(200, '{"error":"Uh oh, something has gone wrong. Please tell us on GitHub."}'), json(200, page())];
    expect((await fetchPage(base, q, props)).ok).toBe(true);
    answers = [json(400, '{"error":"bad results"}')];
    const r = await fetchPage(base, q, props);
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ attempts: 1, retryable: false, reason: 'source answered error: bad results' }) });
  });

  test('429 with Retry-After in seconds waits that long', async () => {
    answers = [json(429, '{"error":"slow down"}', { 'retry-after': '3' }), json(200, page())];
    expect((await fetchPage(base, q, props)).ok).toBe(true);
    expect(waits).toEqual([3000]);
  });

  test('429 with Retry-After as an HTTP-date waits until then', async () => {
    const when = new Date(Date.now() + 5000).toUTCString();
    answers = [json(429, '{"error":"slow down"}', { 'retry-after': when }), json(200, page())];
    expect((await fetchPage(base, q, props)).ok).toBe(true);
    expect(waits[0]).toBeGreaterThan(3000);
    expect(waits[0]).toBeLessThanOrEqual(5000);
  });

  test('429 without Retry-After falls back to exponential backoff', async () => {
    answers = [json(429, '{}'), json(429, '{}'), json(200, page())];
    expect((await fetchPage(base, q, props)).ok).toBe(true);
    expect(waits).toEqual([100, 150]);
  });

  test('empty results are retried, then reported', async () => {
    answers = [json(200, '{"results":[],"info":{}}'), json(200, page())];
    expect((await fetchPage(base, q, props)).ok).toBe(true);
    expect(waits).toHaveLength(1);
  });

  test('a source that does not answer in time is a timeout, retried', async () => {
    answers = [{ ...json(200, page()), delayMs: 1500 }, json(200, page())];
    expect((await fetchPage(base, q, props)).ok).toBe(true);
    expect(waits).toHaveLength(1);
  });

  test('a refused connection is retried and reported with its code', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await fetchPage(`http://127.0.0.1:${port}/api/`, q, { ...props, maxAttempts: 2 });
    expect(r).toEqual({ ok: false, error: expect.objectContaining({ attempts: 2, reason: expect.stringContaining('ECONNREFUSED') }) });
  });
});

describe('ingest: retry arithmetic', () => {
  test('Retry-After: seconds, HTTP-date, garbage', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  test('backoff doubles, is jittered, and is capped', () => {
    expect(backoffMs(0, 100, 1000, () => 0)).toBe(100);
    expect(backoffMs(3, 100, 1000, () => 1)).toBe(800);
    expect(backoffMs(10, 100, 1000, () => 1)).toBe(1000);
    expect(backoffMs(3, 100, 1000, () => 0.5)).toBe(450);
  });
});

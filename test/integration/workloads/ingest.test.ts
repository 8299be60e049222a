import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { runIngest } from '../../../workloads/ingest/run';
import { startIngestService } from '../../../workloads/ingest/service';
import { generatePage, USER_FIELDS } from '../../../workloads/source/generate';
import { startSource, RunningSource } from '../../../workloads/source/server';
import { setQuiet } from '../../../workloads/shared/log';
import { restart } from '../../../scripts/services/lifecycle';
import { freshDatabase, TestDatabase, waitFor } from './harness';

jest.setTimeout(180_000);

let db: TestDatabase;
let source: RunningSource;
const fast = { baseDelayMs: 50, maxDelayMs: 2000, maxAttempts: 4, timeoutMs: 10_000 };

beforeAll(async () => {
  setQuiet(true);
  db = await freshDatabase();
  source = await startSource({ port: 0, host: '127.0.0.1', ratePerSecond: 1000 });
});
afterAll(async () => {
  await source?.close();
  await db?.drop();
  setQuiet(false);
});

const count = async (sql: string, params: unknown[] = []) => Number((await db.pool.query(sql, params)).rows[0].n);

describe('ingest against real PostgreSQL', () => {
  test('N users from the bundled source land exactly once; a second ingest of the same seed adds nothing', async () => {
    const first = await runIngest({ pool: db.pool, sourceUrl: source.url, users: 12_345, seed: 'once', fetch: fast });
    expect(first).toMatchObject({ state: 'succeeded', pages: 3, fetched: 12_345, inserted: 12_345, alreadyLanded: 0, quarantined: 0 });
    expect(await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'once'")).toBe(12_345);
    expect(await count("SELECT count(DISTINCT id) AS n FROM landing_users WHERE source_seed = 'once'")).toBe(12_345);

    const again = await runIngest({ pool: db.pool, sourceUrl: source.url, users: 12_345, seed: 'once', fetch: fast });
    expect(again).toMatchObject({ state: 'succeeded', inserted: 0, alreadyLanded: 12_345 });
    expect(await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'once'")).toBe(12_345);
    const runs = await db.pool.query("SELECT state, counts->>'inserted' AS inserted FROM ingest_runs WHERE seed = 'once' ORDER BY started_at");
    expect(runs.rows).toEqual([{ state: 'succeeded', inserted: '12345' }, { state: 'succeeded', inserted: '0' }]);
  });

  test('landed rows carry the normalized fields and a seq that orders them', async () => {
    const r = await db.pool.query("SELECT id, post_code, address, dob, seq FROM landing_users WHERE source_seed = 'once' ORDER BY seq LIMIT 3");
    for (const row of r.rows) {
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof row.post_code).toBe('string');
      expect(row.address.split(', ')).toHaveLength(4);
      expect(row.dob).toBeInstanceOf(Date);
    }
    expect(Number(r.rows[1].seq)).toBeGreaterThan(Number(r.rows[0].seq));
  });

  test('malformed source payloads: each is retried, quarantined or logged, the run goes on, no valid record is lost', async () => {
    const good = (page: number, n = 10) => generatePage({ results: n, seed: 'bad', page, nat: [], fields: [...USER_FIELDS], noinfo: false });
    const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
    // Page 7 holds every record-level defect next to valid users.
    const p7 = good(7);
    const r7 = p7.results as Record<string, any>[];
    delete r7[0].name;                                   // missing name
    r7[1].dob = { date: 12, age: 'x' };                  // wrong types
    r7[2].location.postcode = 90210;                     // postcode as number: valid
    r7[3].nat = 'XK';                                    // unknown nationality: lands with a warning
    r7[4].name.first = '𝔘𝔫𝔦𝔠𝔬𝔡𝔢'.repeat(730);         // ~10 KB unicode name
    r7[5] = { ...clone(r7[6]), email: 'twin@example.com' }; // duplicated uuid (first one at 5 is kept)
    const script: Record<number, { status: number; body: string; headers?: Record<string, string> }[]> = {
      1: [{ status: 500, body: '{"error":"Uh oh"}' }, { status: 200, body: JSON.stringify(good(1)) }],
      2: [{ status: 200, body: JSON.stringify(good(2)).slice(0, 300) }, { status: 200, body: JSON.stringify(good(2)) }],
      3: [{ status: 502, body: '<html><h1>502 Bad Gateway</h1></html>', headers: { 'content-type': 'text/html' } }, { status: 200, body: JSON.stringify(good(3)) }],
      4: [{ status: 429, body: '{"error":"slow"}', headers: { 'retry-after': '1' } }, { status: 200, body: JSON.stringify(good(4)) }],
      5: [{ status: 429, body: '{}' }, { status: 200, body: JSON.stringify(good(5)) }],
      6: [{ status: 200, body: '{"error":"Uh oh, something has gone wrong."}' }, { status: 200, body: JSON.stringify(good(6)) }],
      7: [{ status: 200, body: JSON.stringify(p7) }],
      8: [{ status: 200, body: '{"results":[],"info":{}}' }],
    };
    const served: Record<number, number> = {};
    const server = http.createServer((req, res) => {
      const page = Number(new URL(req.url!, 'http://x').searchParams.get('page'));
      const answers = script[page];
      const a = answers[Math.min(served[page] ?? 0, answers.length - 1)];
      served[page] = (served[page] ?? 0) + 1;
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
    try {
      const status = await runIngest({ pool: db.pool, sourceUrl: url, users: 80, batchSize: 10, seed: 'bad', fetch: { ...fast, maxAttempts: 3 } });
      expect(status).toMatchObject({ state: 'succeeded', pagesDone: 8, failedPages: 1, warnings: 1 });
      // 6 clean pages of 10, plus 6 of page 7 (4 rejected); page 8 never had users.
      expect(status.inserted).toBe(66);
      expect(await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'bad'")).toBe(66);
      expect(await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'bad' AND nat = 'XK'")).toBe(1);
      expect(await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'bad' AND post_code = '90210'")).toBe(1);
      const q = await db.pool.query("SELECT source_page, source_index, reason, payload FROM landing_quarantine WHERE source_seed = 'bad' ORDER BY source_page, source_index");
      expect(q.rows.map((r) => [r.source_page, r.source_index, r.reason])).toEqual([
        [7, 0, 'name.first is missing; name.last is missing'],
        [7, 1, 'dob.date must be a string, got number'],
        [7, 4, expect.stringMatching(/^name\.first is \d+ characters, longer than 256$/)],
        [7, 6, expect.stringContaining('duplicate login.uuid')],
        [8, -1, expect.stringContaining('page 8 given up after 3 attempts: empty results')],
      ]);
      expect(q.rows[2].payload.name.first).toBe(r7[4].name.first);
      expect(served).toMatchObject({ 1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 1, 8: 3 });
      // Re-running the same seed adds neither users nor quarantine rows.
      const again = await runIngest({ pool: db.pool, sourceUrl: url, users: 70, batchSize: 10, seed: 'bad', fetch: { ...fast, maxAttempts: 3 } });
      expect(again).toMatchObject({ state: 'succeeded', inserted: 0, quarantined: 0 });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  test('PostgreSQL restarted during an ingest run: the run retries and finishes, no page is half-written', async () => {
    const slow = await startSource({ port: 0, host: '127.0.0.1', ratePerSecond: 4, burst: 1 });
    try {
      const run = runIngest({ pool: db.pool, sourceUrl: slow.url, users: 20_000, batchSize: 1000, seed: 'restart', fetch: fast, writeAttempts: 40, writeBaseDelayMs: 200 });
      await waitFor('some pages landed', async () => ((await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'restart'")) >= 2000 ? true : undefined));
      await restart('postgres');
      const status = await run;
      expect(status).toMatchObject({ state: 'succeeded', inserted: 20_000, failedPages: 0 });
      expect(await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'restart'")).toBe(20_000);
      // Pages are all-or-nothing: every page holds exactly its 1000 users.
      const pages = await db.pool.query("SELECT source_page, count(*)::int AS n FROM landing_users WHERE source_seed = 'restart' GROUP BY 1");
      expect(pages.rows).toHaveLength(20);
      expect(pages.rows.every((r) => r.n === 1000)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  test('the control API starts a run and reports its status until it succeeds', async () => {
    const svc = await startIngestService({ pool: db.pool, sourceUrl: source.url, port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${svc.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const bad = await fetch(`${base}/runs`, { method: 'POST', body: JSON.stringify({ users: -3 }) });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: expect.stringContaining('users must be an integer') });
      const created = await fetch(`${base}/runs`, { method: 'POST', body: JSON.stringify({ users: 7000, seed: 'api' }) });
      expect(created.status).toBe(202);
      const { id } = (await created.json()) as { id: string };
      const done = await waitFor('run to finish', async () => {
        const s = (await (await fetch(`${base}/runs/${id}`)).json()) as { state: string; inserted: number };
        return s.state === 'running' ? undefined : s;
      });
      expect(done).toMatchObject({ state: 'succeeded', inserted: 7000 });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('rtds_ingest_users_inserted_total 7000');
      expect(metrics).toContain('rtds_ingest_runs_total{state="succeeded"} 1');
      expect((await fetch(`${base}/runs/nope`)).status).toBe(404);
    } finally {
      await svc.close();
    }
  });

  test('shutting the control API down stops a running run between pages, whole pages kept, reason recorded', async () => {
    const slow = await startSource({ port: 0, host: '127.0.0.1', ratePerSecond: 2, burst: 1 });
    const svc = await startIngestService({ pool: db.pool, sourceUrl: slow.url, port: 0, host: '127.0.0.1', fetch: fast });
    try {
      const created = await fetch(`http://127.0.0.1:${svc.port}/runs`, { method: 'POST', body: JSON.stringify({ users: 100_000, seed: 'shutdown', batchSize: 1000 }) });
      const { id } = (await created.json()) as { id: string };
      await waitFor('a page to land', async () => ((await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'shutdown'")) > 0 ? true : undefined));
      const t = Date.now();
      await svc.close();
      expect(Date.now() - t).toBeLessThan(10_000);
      const run = await db.pool.query('SELECT state, error, counts FROM ingest_runs WHERE id = $1', [id]);
      expect(run.rows[0]).toMatchObject({ state: 'failed', error: expect.stringContaining('the ingest service is shutting down') });
      const landed = await count("SELECT count(*) AS n FROM landing_users WHERE source_seed = 'shutdown'");
      expect(landed % 1000).toBe(0);
      expect(landed).toBe(run.rows[0].counts.inserted);
      expect(landed).toBeLessThan(100_000);
    } finally {
      await slow.close();
    }
  });
});

import { generatePage, generateUser } from '../../../workloads/source/generate';
import { parsePageQuery } from '../../../workloads/source/query';
import { RateLimit, startSource, RunningSource } from '../../../workloads/source/server';
import { setQuiet } from '../../../workloads/shared/log';

const query = (q: string) => parsePageQuery(new URLSearchParams(q), () => 'fixedseed');

describe('randomuser-compatible source: generator', () => {
  const req = (page: number, results = 50) => {
    const r = query(`results=${results}&seed=alpha&page=${page}`);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };

  test('the same seed and page give byte-identical pages', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(JSON.stringify(generatePage(req(3), now))).toBe(JSON.stringify(generatePage(req(3), now)));
  });

  test('another page or seed gives other users', () => {
    const a = generatePage(req(1)).results.map((u) => u.login!.uuid);
    const b = generatePage(req(2)).results.map((u) => u.login!.uuid);
    expect(new Set([...a, ...b]).size).toBe(a.length + b.length);
    expect(generateUser('beta', 1, 0, [], undefined, 0).login.uuid).not.toBe(generateUser('alpha', 1, 0, [], undefined, 0).login.uuid);
  });

  test('every record has the randomuser.me 1.4 shape and info echoes the query', () => {
    const page = generatePage(req(1, 200));
    expect(page.info).toEqual({ seed: 'alpha', results: 200, page: 1, version: '1.4' });
    for (const u of page.results) {
      expect(Object.keys(u)).toEqual(['gender', 'name', 'location', 'email', 'login', 'dob', 'registered', 'phone', 'cell', 'id', 'picture', 'nat']);
      expect(['male', 'female']).toContain(u.gender);
      expect(Object.keys(u.name!)).toEqual(['title', 'first', 'last']);
      expect(typeof u.location!.street.number).toBe('number');
      expect(typeof u.location!.street.name).toBe('string');
      expect(['string', 'number']).toContain(typeof u.location!.postcode);
      expect(typeof u.location!.coordinates.latitude).toBe('string');
      expect(u.location!.timezone.offset).toMatch(/^[+-]?\d{1,2}:\d{2}$/);
      expect(u.login!.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(u.login!.md5).toMatch(/^[0-9a-f]{32}$/);
      expect(u.login!.sha1).toMatch(/^[0-9a-f]{40}$/);
      expect(u.login!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(new Date(u.dob!.date).toISOString()).toBe(u.dob!.date);
      expect(u.dob!.age).toBeGreaterThanOrEqual(18);
      expect(u.picture!.medium).toMatch(/^https:\/\/.+\/portraits\/med\/(men|women)\/\d+\.jpg$/);
      expect(u.nat).toMatch(/^[A-Z]{2}$/);
    }
  });

  test('postcodes are numbers for some nationalities and strings for others, as in the real API', () => {
    const us = generatePage({ ...req(1, 20), nat: ['US'] }).results;
    const gb = generatePage({ ...req(1, 20), nat: ['GB'] }).results;
    expect(us.every((u) => typeof u.location!.postcode === 'number' && u.nat === 'US')).toBe(true);
    expect(gb.every((u) => typeof u.location!.postcode === 'string' && u.nat === 'GB')).toBe(true);
  });

  test('inc and exc select fields; noinfo drops info', () => {
    const inc = query('results=3&inc=name,login,nat');
    const exc = query('results=3&exc=login,picture&noinfo');
    if (!inc.ok || !exc.ok) throw new Error('query rejected');
    expect(Object.keys(generatePage(inc.value).results[0])).toEqual(['name', 'login', 'nat']);
    const e = generatePage(exc.value);
    expect(e.info).toBeUndefined();
    expect(Object.keys(e.results[0])).not.toContain('login');
    expect(Object.keys(e.results[0])).not.toContain('picture');
  });

  test('bad queries are errors naming the parameter', () => {
    expect(query('results=5001')).toEqual({ ok: false, error: expect.stringContaining('results="5001"') });
    expect(query('results=0')).toEqual({ ok: false, error: expect.stringContaining('results') });
    expect(query('page=-1')).toEqual({ ok: false, error: expect.stringContaining('page') });
    expect(query('nat=US,XX')).toEqual({ ok: false, error: expect.stringContaining('unknown nationality: XX') });
    expect(query('inc=name,shoe')).toEqual({ ok: false, error: expect.stringContaining('shoe') });
    expect(query('gender=other')).toEqual({ ok: false, error: expect.stringContaining('gender') });
    expect(query('')).toEqual({ ok: true, value: expect.objectContaining({ results: 1, page: 1, seed: 'fixedseed' }) });
  });

  // How fast it generates is measured by the bench (docs/BENCHMARKS.md), not timed inside a test.
  test('generates a full page of 5,000 users, each with its own id', () => {
    const page = generatePage(req(7, 5000));
    expect(page.results).toHaveLength(5000);
    expect(new Set(page.results.map((u) => u.login?.uuid)).size).toBe(5000);
  });
});

describe('randomuser-compatible source: HTTP server', () => {
  let source: RunningSource;
  beforeAll(async () => {
    setQuiet(true);
    source = await startSource({ port: 0, host: '127.0.0.1', ratePerSecond: 5, burst: 3 });
  });
  afterAll(async () => {
    await source.close();
    setQuiet(false);
  });

  test('answers /api/ with a page and {error} for a bad request, then 429 with Retry-After over the rate', async () => {
    const ok = await fetch(`${source.url}?results=5000&seed=s&page=2`);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { results: unknown[]; info: unknown };
    expect(body.results).toHaveLength(5000);
    expect(body.info).toEqual({ seed: 's', results: 5000, page: 2, version: '1.4' });

    const bad = await fetch(`${source.url}?results=abc`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringContaining('results') });

    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${source.url}?results=1`);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
      await r.text();
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  test('token bucket admits the burst, then refills at the rate', () => {
    let now = 0;
    const rl = new RateLimit(2, 2, () => now);
    expect([rl.take(), rl.take()]).toEqual([0, 0]);
    expect(rl.take()).toBeGreaterThan(0);
    now += 500;
    expect(rl.take()).toBe(0);
  });
});

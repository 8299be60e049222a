import { generateUser } from '../../../workloads/source/generate';
import { normalizeUser, sortBatch } from '../../../workloads/ingest/normalize';

const at = new Date('2026-01-01T00:00:00.000Z');
const sample = () => JSON.parse(JSON.stringify(generateUser('norm', 1, 0, ['US'], 'female', at.getTime())));

describe('ingest: validation and normalization', () => {
  test('maps a randomuser.me record to the pipeline record (seed address format, id = login.uuid)', () => {
    const raw = sample();
    const r = normalizeUser(raw, at);
    if (!r.ok) throw new Error(r.error);
    const l = raw.location;
    expect(r.value.record).toEqual({
      id: raw.login.uuid,
      first_name: raw.name.first,
      last_name: raw.name.last,
      gender: 'female',
      address: `${l.street.number} ${l.street.name}, ${l.city}, ${l.state}, ${l.country}`,
      post_code: String(l.postcode),
      email: raw.email,
      username: raw.login.username,
      dob: raw.dob.date,
      registered_date: raw.registered.date,
      phone: raw.phone,
      picture: raw.picture.medium,
      nat: 'US',
      ingested_at: '2026-01-01T00:00:00.000Z',
    });
    expect(r.value.warnings).toEqual([]);
  });

  test('a numeric postcode becomes a string; a string postcode is kept', () => {
    const n = sample();
    n.location.postcode = 12345;
    const s = sample();
    s.location.postcode = 'W1 4AB';
    expect(normalizeUser(n, at)).toMatchObject({ ok: true, value: { record: { post_code: '12345' } } });
    expect(normalizeUser(s, at)).toMatchObject({ ok: true, value: { record: { post_code: 'W1 4AB' } } });
  });

  test('a missing name is rejected with the path of what is missing', () => {
    const raw = sample();
    delete raw.name;
    expect(normalizeUser(raw, at)).toEqual({ ok: false, error: 'name.first is missing; name.last is missing' });
  });

  test('wrong types are rejected, every problem listed', () => {
    const raw = sample();
    raw.name.first = 42;
    raw.login.uuid = ['x'];
    raw.dob.date = 'yesterday';
    const r = normalizeUser(raw, at);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain('name.first must be a string, got number');
    expect(r.error).toContain('login.uuid must be a string, got array');
    expect(r.error).toContain('dob.date is not a date');
  });

  test('a record that is not an object, or has no uuid, is rejected', () => {
    expect(normalizeUser('hello', at)).toEqual({ ok: false, error: 'record must be an object, got string' });
    expect(normalizeUser(null, at)).toEqual({ ok: false, error: 'record must be an object, got null' });
    const raw = sample();
    raw.login.uuid = 'not-a-uuid';
    expect(normalizeUser(raw, at)).toEqual({ ok: false, error: 'login.uuid is not a UUID: "not-a-uuid"' });
  });

  test('a 10 KB unicode name is rejected with its length, not cut silently', () => {
    const raw = sample();
    raw.name.first = 'Ωμέγα漢字'.repeat(1200);
    const r = normalizeUser(raw, at);
    expect(r).toEqual({ ok: false, error: `name.first is ${raw.name.first.length} characters, longer than 256` });
  });

  test('ordinary unicode names land unchanged', () => {
    const raw = sample();
    raw.name.first = 'Çağan';
    raw.name.last = 'Шевченко';
    expect(normalizeUser(raw, at)).toMatchObject({ ok: true, value: { record: { first_name: 'Çağan', last_name: 'Шевченко' } } });
  });

  test('an unknown nationality lands with a warning; a malformed one is rejected', () => {
    const raw = sample();
    raw.nat = 'XK';
    expect(normalizeUser(raw, at)).toMatchObject({ ok: true, value: { record: { nat: 'XK' }, warnings: ['unknown nationality XK'] } });
    raw.nat = 'Kosovo';
    expect(normalizeUser(raw, at)).toEqual({ ok: false, error: 'nat is not a two-letter code: "KOSOVO"' });
  });

  test('a duplicated uuid in one batch: the first is kept, the other rejected with the reason', () => {
    const a = sample();
    const b = JSON.parse(JSON.stringify(generateUser('norm', 1, 1, [], undefined, at.getTime())));
    const dup = { ...b, name: { title: 'Mr', first: 'Other', last: 'Person' }, login: { ...b.login, uuid: a.login.uuid } };
    const bad = { gender: 'male' };
    const sorted = sortBatch([a, b, dup, bad], at);
    expect(sorted.accepted.map((u) => u.id)).toEqual([a.login.uuid, b.login.uuid]);
    expect(sorted.rejected).toEqual([
      { index: 2, reason: `duplicate login.uuid ${a.login.uuid} in the same page (first at index 0)`, payload: dup },
      { index: 3, reason: expect.stringContaining('login.uuid is missing'), payload: bad },
    ]);
  });

  test('an empty page sorts into nothing', () => {
    expect(sortBatch([], at)).toEqual({ accepted: [], rejected: [], warnings: [] });
  });
});

import { generatePage, USER_FIELDS } from '../../../workloads/source/generate';
import { normalizeUser, quickRecord, sortBatch } from '../../../workloads/ingest/normalize';

const at = '2026-01-01T00:00:00.000Z';
const users = (page: number, n = 400) => JSON.parse(JSON.stringify(generatePage({ results: n, seed: 'quick', page, nat: [], fields: [...USER_FIELDS], noinfo: false }).results)) as Record<string, any>[];

// Every way a field can differ from a clean record: the quick path must give normalizeUser's answer.
const oddValues: unknown[] = [
  undefined, null, 42, 0, -1.5, Number.NaN, Infinity, true, [], ['x'], {}, '', '   ', ' padded ', 'a\u0000b', 'x'.repeat(257), 'y'.repeat(1025),
  'tab\there', 'line\nbreak', 'back\\slash', 'Ωμέγα', 'lower', 'xk', 'XK', 'Kosovo', 'no-at-sign', 'a@b',
  '2021-02-28T10:00:00.000Z', '2021-02-29T10:00:00.000Z', '2020-02-29T00:00:00.000Z', '2021-04-31T00:00:00.000Z', '2021-01-01T24:00:00.000Z',
  '1990-05-06', '1990-05-06T01:02:03Z', '1990-05-06T01:02:03.000+02:00', ' 1990-05-06T01:02:03.000Z ', 'yesterday',
  'E3B0C442-98FC-1C14-9AFB-F4C8996FB924', 'e3b0c442-98fc-1c14-9afb-f4c8996fb92', 'e3b0c442-98fc-1c14-9afb-f4c8996fb924 ',
];
const paths = [
  'gender', 'name', 'name.first', 'name.last', 'location', 'location.street', 'location.street.number', 'location.street.name', 'location.city', 'location.state',
  'location.country', 'location.postcode', 'email', 'login', 'login.uuid', 'login.username', 'dob', 'dob.date', 'registered', 'registered.date', 'phone',
  'picture', 'picture.medium', 'nat',
];

function withValue(raw: Record<string, any>, path: string, value: unknown): Record<string, any> {
  const copy = JSON.parse(JSON.stringify(raw));
  const parts = path.split('.');
  let cur = copy;
  for (const p of parts.slice(0, -1)) cur = cur[p];
  if (value === undefined) delete cur[parts[parts.length - 1]];
  else cur[parts[parts.length - 1]] = value;
  return copy;
}

describe('ingest: normalization of whole pages', () => {
  test('maps every generated user field for field', () => {
    for (const raw of [...users(1), ...users(2)]) {
      const l = raw.location;
      expect(quickRecord(raw, at)).toEqual({
        id: raw.login.uuid, first_name: raw.name.first, last_name: raw.name.last, gender: raw.gender,
        address: `${l.street.number} ${l.street.name}, ${l.city}, ${l.state}, ${l.country}`, post_code: String(l.postcode), email: raw.email,
        username: raw.login.username, dob: raw.dob.date, registered_date: raw.registered.date, phone: raw.phone, picture: raw.picture.medium, nat: raw.nat, ingested_at: at,
      });
    }
  });

  test('any odd value in any field either lands as the trimmed, canonical value or is rejected naming that field', () => {
    const base = users(3, 1)[0];
    let landed = 0;
    for (const path of paths) {
      for (const value of oddValues) {
        const raw = withValue(base, path, value);
        const n = normalizeUser(raw, at);
        expect(n.ok).toBe(quickRecord(raw, at) !== undefined);
        if (!n.ok) {
          // The reason names the field (or its parent) that was wrong.
          expect({ path, value, reason: n.error }).toEqual({ path, value, reason: expect.stringContaining(path.split('.')[0]) });
          continue;
        }
        landed++;
        const r = n.value.record;
        for (const field of [r.first_name, r.last_name, r.email, r.username, r.phone, r.picture, r.nat, r.post_code]) expect(field).toBe(field.trim());
        for (const instant of [r.dob, r.registered_date]) expect(new Date(Date.parse(instant)).toISOString()).toBe(instant);
        expect(r.id).toBe(r.id.toLowerCase());
      }
    }
    // Numbers where numbers are allowed, other-case uuids and nationalities, escapes, other date forms: many odd records still land.
    expect(landed).toBeGreaterThan(50);
  });

  test('a page sorts the same as with normalizeUser alone: records, rejects with reasons, warnings', () => {
    const page: unknown[] = users(4, 50);
    const base = users(5, 1)[0];
    page.push(withValue(base, 'nat', 'XK'), withValue(base, 'name', undefined), page[3], withValue(base, 'dob.date', '2021-02-30T00:00:00.000Z'), 'not a record');
    const sorted = sortBatch(page, new Date(at));
    const expected = { accepted: [] as unknown[], rejected: [] as unknown[], warnings: [] as string[] };
    const seen = new Map<string, number>();
    page.forEach((raw, index) => {
      const n = normalizeUser(raw, at);
      if (!n.ok) {
        expected.rejected.push({ index, reason: n.error, payload: raw });
        return;
      }
      const first = seen.get(n.value.record.id);
      if (first !== undefined) {
        expected.rejected.push({ index, reason: `duplicate login.uuid ${n.value.record.id} in the same page (first at index ${first})`, payload: raw });
        return;
      }
      seen.set(n.value.record.id, index);
      expected.accepted.push(n.value.record);
      for (const w of n.value.warnings) expected.warnings.push(`index ${index}: ${w}`);
    });
    expect(sorted).toEqual(expected);
    expect(sorted.warnings).toEqual(['index 50: unknown nationality XK']);
    expect(sorted.rejected.map((r) => r.index)).toEqual([51, 52, 53, 54]);
  });
});

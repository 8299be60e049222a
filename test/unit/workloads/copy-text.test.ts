import { copyRows, copyValue } from '../../../workloads/ingest/copy-text';
import { UserRecord } from '../../../workloads/shared/user';

const user: UserRecord = {
  id: 'e3b0c442-98fc-4c14-9afb-f4c8996fb924', first_name: 'Ana\tMaria', last_name: 'O\\Brien', gender: 'female', address: '1 Main St, Town, State, Country',
  post_code: '12345', email: 'ana@example.com', username: 'line\nbreak\r', dob: '1990-05-06T01:02:03.000Z', registered_date: '2010-01-01T00:00:00.000Z',
  phone: '\\N', picture: 'https://example.com/p.jpg', nat: 'ÇŞ', ingested_at: '2026-01-01T00:00:00.000Z',
};

describe('ingest: rows for PostgreSQL COPY (text format)', () => {
  test('backslash, tab, newline and carriage return are escaped; everything else is kept', () => {
    expect(copyValue('plain Ωμέγα')).toBe('plain Ωμέγα');
    expect(copyValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    // A literal \N stays text, not NULL.
    expect(copyValue('\\N')).toBe('\\\\N');
  });

  test('one line per user: the record\'s columns, then run id, seed and page', () => {
    const text = copyRows([user, user], 'run\t1', 'seed', 7).toString('utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines[0].split('\t')).toEqual([
      user.id, 'Ana\\tMaria', 'O\\\\Brien', 'female', user.address, '12345', user.email, 'line\\nbreak\\r', user.dob, user.registered_date,
      '\\\\N', user.picture, 'ÇŞ', user.ingested_at, 'run\\t1', 'seed', '7',
    ]);
  });
});

import { Pool } from 'pg';
import { isDiskFull, isTransientPgError, runIngest } from '../../../workloads/ingest/run';

// A pool that fails the test if ingest touches it: bad options must be refused before any write.
const untouchable = new Proxy({}, {
  get: (_t, prop) => {
    throw new Error(`the pool was used (${String(prop)}) before the options were checked`);
  },
}) as Pool;

describe('runIngest options', () => {
  it.each([0, 9, 1.5, Number.NaN])('refuses prefetch %p before writing anything', async (prefetch) => {
    await expect(runIngest({ pool: untouchable, sourceUrl: 'http://127.0.0.1:1/api/', users: 10, prefetch }))
      .rejects.toThrow(`prefetch must be an integer from 1 to 8, got ${JSON.stringify(prefetch)}`);
  });

  it('refuses a bad user count the same way', async () => {
    await expect(runIngest({ pool: untouchable, sourceUrl: 'http://127.0.0.1:1/api/', users: 0 }))
      .rejects.toThrow('users must be an integer from 1 to 100000000, got 0');
  });
});

describe('which PostgreSQL errors a page is retried on', () => {
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('retries connection loss, shutdown, serialization and too many connections', () => {
    expect(isTransientPgError(pgError('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isTransientPgError(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toBe(true);
    expect(isTransientPgError(pgError('40001', 'could not serialize access'))).toBe(true);
    expect(isTransientPgError(pgError('53300', 'sorry, too many clients already'))).toBe(true);
  });

  it('does not retry a full disk: the run stops and says so', () => {
    const wal = pgError('53100', 'could not write to file "pg_wal/xlogtemp.23449": No space left on device');
    const data = pgError('53100', 'could not extend file "base/16384/16385": No space left on device');
    for (const e of [wal, data]) {
      expect(isDiskFull(e)).toBe(true);
      expect(isTransientPgError(e)).toBe(false);
    }
    expect(isDiskFull(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
  });
});

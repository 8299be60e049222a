import { Pool } from 'pg';
import { runIngest } from '../../../workloads/ingest/run';

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

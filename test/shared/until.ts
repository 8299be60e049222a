import { setTimeout as sleep } from 'timers/promises';

/**
 * Polls `probe` every 3 s until it returns a value (errors count as not yet); throws naming `what`
 * and the last error once `timeoutMs` has passed. For the tiers that wait on deployed stacks.
 */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await sleep(3000);
  }
  throw new Error(`${what}: not reached within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

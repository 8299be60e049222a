import { memoryVerdict, MemoryRun } from '../../../bench/memory/memory';

const run = (users: number, ingest: number, relay: number): MemoryRun => {
  const mem = (peakMb: number) => ({ peakMb, at25pct: peakMb, at50pct: peakMb, at75pct: peakMb, atEnd: peakMb, samples: 1 });
  return { users, seconds: 1, ingest: mem(ingest), relay: mem(relay) };
};

describe('bench memory verdict', () => {
  it('is flat when both peaks stay within 10 % for ten times the users', () => {
    expect(memoryVerdict(run(100_000, 200, 250), run(1_000_000, 220, 270))).toBe('flat ✓ (peaks ×1.10 ingest, ×1.08 relay for ×10 users; target ≤ ×1.10)');
  });

  it('says grows when either process grows past 10 %', () => {
    expect(memoryVerdict(run(100_000, 200, 276), run(1_000_000, 206, 417))).toMatch(/^grows ✗ \(peaks ×1.03 ingest, ×1.51 relay/);
  });
});

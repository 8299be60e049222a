import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FULL, parseBenchArgs, QUICK, spread } from '../../../bench/bench';
import { committedThrough } from '../../../scripts/local/checkpoint';
import { writeCheckpointBatch } from '../../shared/checkpoint';

describe('bench options', () => {
  it('defaults to the full run and --quick picks the small one', () => {
    expect(parseBenchArgs([])).toEqual(FULL);
    expect(parseBenchArgs(['--quick'])).toEqual(QUICK);
  });

  it('takes sizes after the mode, in both spellings', () => {
    const s = parseBenchArgs(['--quick', '--pair-users', '50000', '--rounds=2', '--no-synth']);
    expect(s).toMatchObject({ mode: 'quick', pairUsers: 50_000, rounds: 2, synth: false });
  });

  it('names a bad value and an unknown option', () => {
    expect(() => parseBenchArgs(['--rounds', '0'])).toThrow('--rounds must be a positive integer, got "0"');
    expect(() => parseBenchArgs(['--fast'])).toThrow('unknown option "--fast"');
    expect(() => parseBenchArgs(['--memory-users', '100000'])).toThrow('--memory-users must be two positive integers like 100000,1000000, got "100000"');
  });

  it('takes the memory round\'s two sizes as one value', () => {
    expect(parseBenchArgs(['--memory-users=20000,200000']).memoryUsers).toEqual([20_000, 200_000]);
  });

  it('reports the median with min and max', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, runs: [3, 1, 2] });
    expect(spread([4, 1, 2, 3]).median).toBe(2.5);
  });
});

describe('committedThrough: when the bench Spark job has written a topic up to its end', () => {
  let dir: string;
  const topic = 'rtds_bench_relay_x';
  const batch = (n: number, offsets: Record<string, number>, committed: boolean) => writeCheckpointBatch(dir, topic, n, offsets, committed);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-ckpt-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is undefined before the job has committed anything', () => {
    expect(committedThrough(dir, topic, { 0: 10 })).toBeUndefined();
  });

  it('waits for every partition to reach its end offset', () => {
    batch(0, { 0: 10, 1: 4 }, true);
    expect(committedThrough(dir, topic, { 0: 10, 1: 7 })).toBeUndefined();
    batch(1, { 0: 10, 1: 7 }, false);
    expect(committedThrough(dir, topic, { 0: 10, 1: 7 })).toBeUndefined();
    batch(1, { 0: 10, 1: 7 }, true);
    expect(committedThrough(dir, topic, { 0: 10, 1: 7 })).toMatchObject({ batch: 1 });
  });

  it('answers with the commit time of the batch', () => {
    batch(4, { 0: 3 }, true);
    const at = fs.statSync(path.join(dir, 'commits', '4')).mtimeMs;
    expect(committedThrough(dir, topic, { 0: 3 })).toEqual({ batch: 4, at });
  });

  it('does not take another topic for this one', () => {
    fs.mkdirSync(path.join(dir, 'offsets'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'commits'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'offsets', '0'), `v1\n{}\n${JSON.stringify({ other: { 0: 99 } })}`);
    fs.writeFileSync(path.join(dir, 'commits', '0'), 'v1\n{}');
    expect(committedThrough(dir, topic, { 0: 1 })).toBeUndefined();
  });
});

import { parseLocalArgs } from '../../../scripts/local/cli';
import { stageJson, workloadCommand } from '../../../scripts/local/pipeline';
import { WORKLOAD_NODE_OPTIONS } from '../../../config/facts';
import { percentile } from '../../../scripts/local/measure';

describe('npm run local', () => {
  it('prints one JSON object with exactly the figures the issue names, in that order', () => {
    const line = stageJson({
      users: 100, source: 100, postgres: 100, kafka: 100, cassandra: 99, quarantined: 1, deadLettered: 0,
      seconds: 12.345, e2eP50Ms: 250.4, e2eP99Ms: NaN,
    });
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line);
    expect(Object.keys(parsed)).toEqual(['users', 'postgres', 'kafka', 'cassandra', 'quarantined', 'dead_lettered', 'seconds', 'e2e_p50_ms', 'e2e_p99_ms']);
    // A latency that could not be measured is null, not a made-up number.
    expect(parsed).toMatchObject({ cassandra: 99, seconds: 12.3, e2e_p50_ms: 250, e2e_p99_ms: null });
  });

  it('takes --users N with optional --seed and --stall-seconds', () => {
    expect(parseLocalArgs(['--users', '100000', '--seed', 'abc'])).toEqual({ command: 'run', users: 100000, seed: 'abc', stallSeconds: undefined });
    expect(parseLocalArgs(['--users=5', '--stall-seconds=30'])).toMatchObject({ users: 5, stallSeconds: 30 });
    expect(parseLocalArgs(['--stop'])).toEqual({ command: 'stop' });
    expect(parseLocalArgs(['status'])).toEqual({ command: 'status' });
  });

  it.each([
    [['--users', '0'], '--users must be an integer from 1 to 100000000, got "0"'],
    [['--users', '1.5'], '--users must be an integer'],
    [['--users'], '--users needs a value'],
    [[], '--users N is required'],
    [['--users', '10', '--fast'], 'unknown option "--fast"'],
    [['status', '--users', '3'], 'status takes no options'],
  ])('rejects %j naming what was wrong', (argv, message) => {
    expect(() => parseLocalArgs(argv)).toThrow(message);
  });

  it('reads percentiles by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('workloadCommand', () => {
  const flagsOf = (args: string[]) => {
    const all = workloadCommand(args).args;
    return all.slice(0, all.indexOf('-r'));
  };

  it('starts ingest and relay with the V8 flags the stacks give them, and the rest with none', () => {
    expect(flagsOf(['relay'])).toEqual(WORKLOAD_NODE_OPTIONS.relay.split(' '));
    expect(flagsOf(['relay'])).toContain('--max-old-space-size=128');
    expect(flagsOf(['ingest', 'run', '--users', '10'])).toEqual(WORKLOAD_NODE_OPTIONS.ingest.split(' '));
    expect(flagsOf(['source', 'serve'])).toEqual([]);
    expect(workloadCommand(['relay']).args.slice(-1)).toEqual(['relay']);
  });
});

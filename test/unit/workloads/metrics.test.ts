import { Metrics } from '../../../workloads/shared/metrics';
import { progressReporter } from '../../../workloads/ingest/progress';
import { newRunStatus } from '../../../workloads/ingest/run';

describe('workloads: Prometheus text and progress', () => {
  test('counters and gauges render in the exposition format, labels escaped', () => {
    const m = new Metrics('rtds_test');
    m.declare('events_total', 'events seen');
    m.inc('events_total', 'events seen', 2);
    m.inc('runs_total', 'runs', 1, { state: 'ok "quoted"' });
    m.set('lag_rows', 'rows behind', 42);
    expect(m.render()).toBe([
      '# HELP rtds_test_events_total events seen', '# TYPE rtds_test_events_total counter', 'rtds_test_events_total 2',
      '# HELP rtds_test_runs_total runs', '# TYPE rtds_test_runs_total counter', 'rtds_test_runs_total{state="ok \\"quoted\\""} 1',
      '# HELP rtds_test_lag_rows rows behind', '# TYPE rtds_test_lag_rows gauge', 'rtds_test_lag_rows 42', '',
    ].join('\n'));
  });

  test('without a terminal, progress is the first page, then one line per 10 %', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
    const report = progressReporter(stream);
    const s = newRunStatus({ users: 100, batchSize: 5 });
    for (let p = 1; p <= 20; p++) report({ ...s, pagesDone: p, inserted: p * 5 });
    expect(lines).toHaveLength(11);
    expect(lines[10]).toMatch(/^100\.0% 100\/100 users, 100 new/);
  });
});

import { exposition, IngestMetrics, RelayMetrics } from '../../../workloads/shared/metrics';
import { progressReporter } from '../../../workloads/ingest/progress';
import { newRunStatus } from '../../../workloads/ingest/run';

describe('workloads: Prometheus text and progress', () => {
  test('relay and ingest metrics render in the Prometheus exposition format, with latency histograms', async () => {
    const relay = new RelayMetrics();
    relay.records.inc(2000);
    relay.lagRows.set(42);
    relay.batchSeconds.observe(0.03);
    const { text, contentType } = await exposition(relay.registry);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE rtds_relay_records_total counter\nrtds_relay_records_total 2000');
    expect(text).toContain('rtds_relay_lag_rows 42');
    expect(text).toContain('rtds_relay_errors_total 0');
    expect(text).toContain('rtds_relay_batch_seconds_bucket{le="0.025"} 0\nrtds_relay_batch_seconds_bucket{le="0.05"} 1');
    expect(text).toContain('rtds_relay_batch_seconds_count 1');
    const ingest = new IngestMetrics();
    ingest.runs.inc({ state: 'ok "quoted"' });
    ingest.requestSeconds.observe({ method: 'GET', route: '/runs/:id', code: '200' }, 0.002);
    const i = (await exposition(ingest.registry)).text;
    expect(i).toContain('rtds_ingest_runs_total{state="ok \\"quoted\\""} 1');
    expect(i).toContain('rtds_ingest_http_request_seconds_bucket{le="0.005",method="GET",route="/runs/:id",code="200"} 1');
  });

  test('every /metrics carries the process metrics a Grafana user expects: RSS, event-loop lag, GC', async () => {
    const { text } = await exposition(new RelayMetrics().registry);
    for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'process_cpu_seconds_total'])
      expect({ name, present: new RegExp(`^# TYPE ${name} `, 'm').test(text) }).toEqual({ name, present: true });
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

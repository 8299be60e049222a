import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics of the source, ingest and relay, on prom-client. Each service object
 * keeps its own registry (tests run several in one process); the process's default metrics
 * (resident memory, event-loop lag, GC, CPU) are collected once and added to every /metrics.
 */
let processRegistry: Registry | undefined;

export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The text exposition of a service's registry plus the process metrics, for GET /metrics. */
export async function exposition(registry: Registry): Promise<{ contentType: string; text: string }> {
  const merged = Registry.merge([registry, processMetrics()]);
  return { contentType: merged.contentType, text: await merged.metrics() };
}

/** Seconds, from a few milliseconds to a minute: batch sends, pages, HTTP requests. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class RelayMetrics {
  readonly registry = new Registry();
  readonly records = new Counter({ name: 'rtds_relay_records_total', help: 'records acknowledged by Kafka', registers: [this.registry] });
  readonly batches = new Counter({ name: 'rtds_relay_batches_total', help: 'batches acknowledged by Kafka', registers: [this.registry] });
  readonly errors = new Counter({ name: 'rtds_relay_errors_total', help: 'loop turns that failed and were retried', registers: [this.registry] });
  readonly lagRows = new Gauge({ name: 'rtds_relay_lag_rows', help: 'landing rows not yet acknowledged by Kafka (max(seq) - cursor)', registers: [this.registry] });
  readonly cursor = new Gauge({ name: 'rtds_relay_cursor', help: 'last landing seq acknowledged by Kafka', registers: [this.registry] });
  readonly batchSeconds = new Histogram({
    name: 'rtds_relay_batch_seconds', help: 'one batch from send to Kafka acknowledgement and cursor commit', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
}

export class IngestMetrics {
  readonly registry = new Registry();
  readonly usersInserted = new Counter({ name: 'rtds_ingest_users_inserted_total', help: 'users newly landed', registers: [this.registry] });
  readonly usersAlreadyLanded = new Counter({ name: 'rtds_ingest_users_already_landed_total', help: 'users skipped because their id was already landed', registers: [this.registry] });
  readonly usersQuarantined = new Counter({ name: 'rtds_ingest_users_quarantined_total', help: 'records and pages quarantined', registers: [this.registry] });
  readonly runs = new Counter({ name: 'rtds_ingest_runs_total', help: 'runs finished', labelNames: ['state'] as const, registers: [this.registry] });
  readonly runsInProgress = new Gauge({ name: 'rtds_ingest_runs_in_progress', help: 'runs running or queued', registers: [this.registry] });
  readonly pageSeconds = new Histogram({
    name: 'rtds_ingest_page_seconds', help: 'one page of a run: source request(s) and landing write', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'rtds_ingest_http_request_seconds', help: 'control API requests', labelNames: ['method', 'route', 'code'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
}

export class SourceMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'rtds_source_requests_total', help: 'API requests answered', registers: [this.registry] });
  readonly users = new Counter({ name: 'rtds_source_users_total', help: 'users generated', registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'rtds_source_rate_limited_total', help: 'requests answered 429', registers: [this.registry] });
}

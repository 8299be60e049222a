// The measuring library: connections to the local services, per-stage counts of ingest runs,
// end offsets, landing → Cassandra latencies and resident memory. `npm run local`, `npm run
// status` and the bench (bench/bench.ts) measure with it; it starts nothing.
import * as fs from 'fs';
import { Client as CassandraClient } from 'cassandra-driver';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { CASSANDRA_KEYSPACE, CASSANDRA_TABLE } from '../../config/facts';
import { cassandraClient } from '../../workloads/shared/cassandra';
import { LocalEndpoints, localPipelineConfig, rtdsHome } from '../services/endpoints';
import { isAlive, processFiles, sleep, tail } from '../services/process';
import { usersStreamFiles } from './users-stream';

/** The table the Spark job writes, `keyspace.table`. */
export const USERS_TABLE = `${CASSANDRA_KEYSPACE}.${CASSANDRA_TABLE}`;

/** The topics of the local pipeline: the config's (kafka.topic), as the local services created them. */
export function localTopics(): { users: string; deadLetter: string } {
  const t = localPipelineConfig().kafka.topic;
  return { users: t.name, deadLetter: t.deadLetterName };
}

export interface Connections {
  readonly pg: Pool;
  readonly cassandra: CassandraClient;
  readonly kafka: Kafka;
  close(): Promise<void>;
}

export async function connect(e: LocalEndpoints, database: string = e.postgres.database): Promise<Connections> {
  const pg = new Pool({ host: e.postgres.host, port: e.postgres.port, user: e.postgres.user, password: e.postgres.password, database, max: 4, application_name: 'rtds-local' });
  pg.on('error', () => undefined);
  const cassandra = cassandraClient(e.cassandra, { socketOptions: { readTimeout: 60_000 } });
  await cassandra.connect();
  const kafka = new Kafka({ clientId: 'rtds-local', brokers: e.kafka.bootstrapServers.split(','), logLevel: logLevel.NOTHING });
  return {
    pg,
    cassandra,
    kafka,
    async close() {
      await pg.end();
      await cassandra.shutdown();
    },
  };
}

/** The end offset of each of a topic's partitions, by partition number. */
export async function partitionEndOffsets(kafka: Kafka, topic: string): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return Object.fromEntries((await admin.fetchTopicOffsets(topic)).map((p) => [String(p.partition), Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the end offsets of a topic's partitions (messages ever written, as Kafka counts them). */
export async function topicEndOffsets(kafka: Kafka, topic: string): Promise<number> {
  return Object.values(await partitionEndOffsets(kafka, topic)).reduce((sum, high) => sum + high, 0);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Landed users of one ingest run, in landing order, with their landing time. */
export interface RunRows {
  readonly ids: string[];
  readonly seqs: number[];
  readonly ingestedAtMs: number[];
}

/**
 * Rows of the runs, in landing order. `afterSeq` (the landing table's max(seq) before the runs
 * started) bounds the read to the seq index's range: run_id has no index, and without it every
 * call reads the whole table, which the bench's latency round, asking after hundreds of small runs
 * on a table of millions, turned into CPU taken from the pipeline it was timing.
 */
export async function runRows(pg: Pool, runId: string | readonly string[], afterSeq = 0): Promise<RunRows> {
  const ids = typeof runId === 'string' ? [runId] : [...runId];
  const r = await pg.query<{ id: string; seq: string; at: string }>(
    `SELECT id, seq, (extract(epoch FROM ingested_at) * 1000)::bigint AS at FROM landing_users WHERE run_id = ANY($1)${afterSeq > 0 ? ' AND seq > $2' : ''} ORDER BY seq`,
    afterSeq > 0 ? [ids, afterSeq] : [ids],
  );
  return { ids: r.rows.map((x) => x.id), seqs: r.rows.map((x) => Number(x.seq)), ingestedAtMs: r.rows.map((x) => Number(x.at)) };
}

/**
 * Follows a run's ids into Cassandra: each call checks the ids not yet seen, oldest first, and
 * stops early at a stretch of misses (the Spark job writes roughly in landing order), so a run of
 * N users costs about N point reads in all rather than N per poll.
 */
export class CassandraTracker {
  private readonly missing: number[];
  private readonly latencies: number[] = [];
  /** processed_at (epoch ms) of each row, by its index in `rows`; NaN until found. */
  private readonly processedMs: Float64Array;
  private readonly query: string;
  found = 0;
  /** processed_at of the latest user found, epoch ms. */
  lastProcessedMs = NaN;

  constructor(
    private readonly cassandra: CassandraClient,
    private readonly rows: RunRows,
    table: string = USERS_TABLE,
  ) {
    this.missing = rows.ids.map((_, i) => i);
    this.processedMs = new Float64Array(rows.ids.length).fill(NaN);
    this.query = `SELECT id, processed_at FROM ${table} WHERE id IN ?`;
  }

  get total(): number {
    return this.rows.ids.length;
  }

  /** Landing → Cassandra milliseconds of every user found so far, sorted. */
  latenciesMs(): number[] {
    return [...this.latencies].sort((a, b) => a - b);
  }

  /** processed_at (epoch ms) of the i-th tracked user (the start of the micro-batch that wrote it); NaN while not found. */
  processedAtMs(i: number): number {
    return this.processedMs[i];
  }

  async poll(chunk = 100, parallel = 4, missStreak = 2): Promise<number> {
    const stillMissing: number[] = [];
    let emptyGroups = 0;
    let i = 0;
    for (; i < this.missing.length && emptyGroups < missStreak; i += chunk * parallel) {
      const group: number[][] = [];
      for (let g = 0; g < parallel; g++) {
        const part = this.missing.slice(i + g * chunk, i + (g + 1) * chunk);
        if (part.length > 0) group.push(part);
      }
      const answers = await Promise.all(
        group.map((part) => this.cassandra.execute(this.query, [part.map((k) => this.rows.ids[k])], { prepare: true, fetchSize: chunk + 1 })),
      );
      let foundHere = 0;
      answers.forEach((answer, g) => {
        const seen = new Map<string, Date>();
        for (const row of answer.rows) seen.set(row.id as string, row.processed_at as Date);
        for (const k of group[g]) {
          const at = seen.get(this.rows.ids[k]);
          if (at === undefined || at === null) stillMissing.push(k);
          else {
            foundHere++;
            this.processedMs[k] = at.getTime();
            this.latencies.push(at.getTime() - this.rows.ingestedAtMs[k]);
            if (!(at.getTime() <= this.lastProcessedMs)) this.lastProcessedMs = at.getTime();
          }
        }
      });
      this.found += foundHere;
      emptyGroups = foundHere === 0 ? emptyGroups + 1 : 0;
    }
    this.missing.splice(0, Math.min(i, this.missing.length), ...stillMissing);
    return this.found;
  }
}

/** The figures of one run, per stage. */
export interface StageCounts {
  /** Users asked for. */
  readonly users: number;
  /** Records the source answered (before validation). */
  readonly source: number;
  /** Rows of this run in landing_users. */
  readonly postgres: number;
  /** Rows of this run at or below the relay's cursor: acknowledged by Kafka (acks=all). */
  readonly kafka: number;
  /** Ids of this run found in Cassandra. */
  readonly cassandra: number;
  /** Rows of this run in landing_quarantine. */
  readonly quarantined: number;
  /** Messages added to the dead-letter topic (since the command started, or in all for status). */
  readonly deadLettered: number;
  readonly seconds: number;
  readonly e2eP50Ms: number;
  readonly e2eP99Ms: number;
}

/** The runs' counts per stage; `afterSeq` as for runRows. */
export async function postgresCounts(pg: Pool, runId: string | readonly string[], afterSeq = 0): Promise<{ postgres: number; kafka: number; quarantined: number }> {
  const ids = typeof runId === 'string' ? [runId] : [...runId];
  const after = afterSeq > 0 ? ' AND seq > $3' : '';
  const r = await pg.query<{ landed: string; acked: string; quarantined: string }>(
    `SELECT (SELECT count(*) FROM landing_users WHERE run_id = ANY($1)${after}) AS landed,
            (SELECT count(*) FROM landing_users WHERE run_id = ANY($1)${after}
               AND seq <= coalesce((SELECT last_seq FROM relay_cursor WHERE name = $2), 0)) AS acked,
            (SELECT count(*) FROM landing_quarantine WHERE run_id = ANY($1)) AS quarantined`,
    // The relay's cursor is named after the topic it writes.
    afterSeq > 0 ? [ids, localTopics().users, afterSeq] : [ids, localTopics().users],
  );
  return { postgres: Number(r.rows[0].landed), kafka: Number(r.rows[0].acked), quarantined: Number(r.rows[0].quarantined) };
}


/** Peak and sampled resident memory of a process over a run. */
export interface RssTrace {
  readonly peakMb: number;
  /** [seconds since the run started, MB] every second. */
  readonly samples: [number, number][];
}

export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the resident memory of named processes every `everyMs` (1 s) from `t0` until stop() (which may be called again). */
export class RssSampler {
  private readonly samples = new Map<string, [number, number][]>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: () => Record<string, number | undefined>, private readonly t0: number, everyMs = 1000) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }
  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      if (pid === undefined) continue;
      const mb = rssMb(pid);
      if (mb === undefined) continue;
      if (!this.samples.has(name)) this.samples.set(name, []);
      this.samples.get(name)!.push([Math.round((Date.now() - this.t0) / 100) / 10, Math.round(mb)]);
    }
  }
  stop(): Record<string, RssTrace> {
    clearInterval(this.timer);
    const out: Record<string, RssTrace> = {};
    for (const [name, s] of this.samples) out[name] = { peakMb: Math.max(...s.map((x) => x[1])), samples: s };
    return out;
  }
}

/** A process's memory over a run: its peak and where it stood at a quarter, half, three quarters and the end. */
export interface RssSummary {
  readonly peakMb: number;
  readonly at25pct: number;
  readonly at50pct: number;
  readonly at75pct: number;
  readonly atEnd: number;
  readonly samples: number;
}

export function rssSummary(trace: RssTrace | undefined): RssSummary | undefined {
  if (!trace || trace.samples.length === 0) return undefined;
  const s = trace.samples;
  const at = (f: number) => s[Math.min(s.length - 1, Math.floor(f * (s.length - 1)))][1];
  return { peakMb: trace.peakMb, at25pct: at(0.25), at50pct: at(0.5), at75pct: at(0.75), atEnd: at(1), samples: s.length };
}

export interface WaitOptions {
  /** The Spark driver: its exit ends the wait at once. @default not watched */
  readonly streamPid?: number;
  /** Seconds without progress in Cassandra before giving up. @default 300 */
  readonly stallSeconds?: number;
  readonly log?: (message: string) => void;
  /** Start of the run, for progress lines. @default now */
  readonly t0?: number;
  /** The landing table's max(seq) before the runs started (see runRows). @default 0, no bound */
  readonly afterSeq?: number;
}

/** Polls until every tracked user is in Cassandra; throws naming the stage that is stuck. */
export async function waitForCassandra(conn: Connections, tracker: CassandraTracker, runIds: readonly string[], opts: WaitOptions = {}): Promise<{ postgres: number; kafka: number; quarantined: number }> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`[local] ${m}\n`));
  const t0 = opts.t0 ?? Date.now();
  const stallMs = (opts.stallSeconds ?? 300) * 1000;
  const streamLog = () => usersStreamFiles({ home: rtdsHome() }).logFile;
  let lastProgress = Date.now();
  let lastFound = -1;
  let lastReport = Date.now();
  let pgc = await postgresCounts(conn.pg, runIds, opts.afterSeq);
  for (;;) {
    await tracker.poll();
    if (tracker.found >= tracker.total) break;
    pgc = await postgresCounts(conn.pg, runIds, opts.afterSeq);
    if (tracker.found !== lastFound) {
      lastFound = tracker.found;
      lastProgress = Date.now();
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      say(`waiting: Kafka ${pgc.kafka}/${pgc.postgres}, Cassandra ${tracker.found}/${tracker.total} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    if (opts.streamPid !== undefined && !isAlive(opts.streamPid)) {
      throw new Error(`stream stage stuck: the Spark job (pid ${opts.streamPid}) exited with Cassandra at ${tracker.found}/${tracker.total}; run again to restart it; last lines of ${streamLog()}:\n${tail(streamLog())}`);
    }
    const stalled = Date.now() - lastProgress;
    if (stalled > stallMs) {
      const secs = Math.round(stalled / 1000);
      if (pgc.kafka < pgc.postgres) {
        throw new Error(`relay stage stuck: Kafka acknowledged ${pgc.kafka} of ${pgc.postgres} landed users and Cassandra did not grow for ${secs} s; see ${processFiles(rtdsHome(), 'relay').logFile}`);
      }
      throw new Error(`stream stage stuck: Kafka holds all ${pgc.kafka} users but Cassandra has ${tracker.found} and did not grow for ${secs} s; see ${streamLog()}`);
    }
    await sleep(500);
  }
  return postgresCounts(conn.pg, runIds, opts.afterSeq);
}

/**
 * Rows of a table, counted per token range: one `count(*)` over a table of millions fails on a
 * small single node (the coordinator gives up), 64 slices of it do not.
 */
export async function countRows(cassandra: CassandraClient, table: string, slices = 64): Promise<number> {
  const min = -(2n ** 63n);
  const step = (2n ** 64n - 1n) / BigInt(slices);
  const bounds = Array.from({ length: slices }, (_, i) => [min + step * BigInt(i), i === slices - 1 ? 2n ** 63n - 1n : min + step * BigInt(i + 1)] as const);
  let total = 0;
  for (let i = 0; i < bounds.length; i += 4) {
    const counts = await Promise.all(
      bounds.slice(i, i + 4).map(async ([lo, hi], k) => {
        // The first slice starts at the minimum token, which '>' would leave out.
        const op = i + k === 0 ? '>=' : '>';
        const r = await cassandra.execute(`SELECT count(*) AS n FROM ${table} WHERE token(id) ${op} ${lo} AND token(id) <= ${hi}`, [], { readTimeout: 120_000 });
        return Number(r.rows[0].n);
      }),
    );
    total += counts.reduce((a, b) => a + b, 0);
  }
  return total;
}

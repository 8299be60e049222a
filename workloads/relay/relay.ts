import { Client, Pool, QueryResult } from 'pg';
import { PostgresConfig } from '../shared/config';
import { UsersProducer } from '../shared/kafka';
import { log } from '../shared/log';
import { RelayMetrics } from '../shared/metrics';
import { USER_COLUMNS } from '../shared/user';
import { LandedUser, UserEncoder } from './avro';
import { USERS_TOPIC } from '../../config/facts';

/** Only one relay moves the cursor at a time; a second one waits for this lock. */
export const RELAY_LOCK = 7_252_002;

export interface RelayProps {
  readonly postgres: PostgresConfig;
  readonly producer: UsersProducer;
  readonly encoder: UserEncoder;
  /** @default USERS_TOPIC (config/facts/topics.ts) */
  readonly topic?: string;
  /** Rows read, sent and committed together. @default 2000 */
  readonly batchSize?: number;
  /** Wake-up without a NOTIFY, in case one was missed. @default 2000 */
  readonly pollIntervalMs?: number;
  /** Row in relay_cursor. @default the topic name */
  readonly cursorName?: string;
}

export interface RelayStatus {
  cursor: number;
  maxSeq: number;
  relayed: number;
  batches: number;
  lastError?: string;
  /** Epoch ms of the last loop turn that reached PostgreSQL and Kafka without error. */
  lastHealthyAt: number;
}

const SELECT_BATCH = `SELECT seq, ${USER_COLUMNS.map((c) => (c === 'dob' || c === 'registered_date' || c === 'ingested_at' ? `to_json(${c}) #>> '{}' AS ${c}` : c)).join(', ')}
FROM landing_users WHERE seq > $1 ORDER BY seq LIMIT $2`;

import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Streams landing_users to Kafka in seq order. The cursor moves only after Kafka acknowledged
 * the batch (acks=all), so a crash repeats at most one batch and never skips one.
 */
export class Relay {
  readonly status: RelayStatus = { cursor: 0, maxSeq: 0, relayed: 0, batches: 0, lastHealthyAt: 0 };
  readonly metrics = new RelayMetrics();
  private stopped = false;
  private wake: (() => void) | undefined;
  private listenerLost = false;
  private listener: Client | undefined;
  private readonly pool: Pool;
  private readonly topic: string;
  private readonly cursorName: string;
  /** The batch after the one being sent, read while Kafka acknowledges that one. */
  private readAhead: { after: number; rows: Promise<QueryResult<LandedUser & { seq: string }>> } | undefined;

  constructor(private readonly props: RelayProps) {
    this.pool = new Pool({ ...props.postgres, max: 2, application_name: 'rtds-relay' });
    this.pool.on('error', (e) => log('warn', 'relay', 'idle PostgreSQL connection failed', { error: e.message }));
    this.topic = props.topic ?? USERS_TOPIC;
    this.cursorName = props.cursorName ?? this.topic;
  }

  /** Runs until stop(); errors (database restart, broker down) are logged and retried. */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.session();
        failures = 0;
      } catch (e) {
        failures++;
        this.status.lastError = (e as Error).message;
        this.metrics.errors.inc();
        const delay = Math.min(10_000, 250 * 2 ** Math.min(failures, 6));
        log('error', 'relay', 'relay loop failed, reconnecting', { error: this.status.lastError, delayMs: delay });
        await this.closeListener();
        if (!this.stopped) await sleep(delay);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    await this.stop();
    await this.closeListener();
    await this.pool.end();
  }

  private async closeListener(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    if (l) await l.end().catch(() => undefined);
  }

  /** One connected stretch: hold the lock, LISTEN, relay until stopped or an error. */
  private async session(): Promise<void> {
    const listener = new Client({ ...this.props.postgres, application_name: 'rtds-relay-listen' });
    this.listener = listener;
    this.listenerLost = false;
    const lost = (why: string) => {
      this.listenerLost = true;
      this.status.lastError = why;
      this.wake?.();
    };
    listener.on('error', (e) => lost(e.message));
    listener.on('end', () => lost('listen connection ended'));
    await listener.connect();
    await listener.query('SELECT pg_advisory_lock($1)', [RELAY_LOCK]);
    await listener.query('LISTEN landing_users');
    listener.on('notification', () => this.wake?.());
    await this.pool.query('INSERT INTO relay_cursor (name, last_seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING', [this.cursorName]);
    const cur = await this.pool.query<{ last_seq: string }>('SELECT last_seq FROM relay_cursor WHERE name = $1', [this.cursorName]);
    this.status.cursor = Number(cur.rows[0].last_seq);
    log('info', 'relay', 'relaying', { topic: this.topic, from: this.status.cursor });
    while (!this.stopped) {
      if (this.listenerLost) throw new Error(`listen connection lost: ${this.status.lastError}`);
      const moved = await this.step();
      this.status.lastHealthyAt = Date.now();
      if (moved === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.props.pollIntervalMs ?? 2000);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** The rows after `after`: read ahead by the previous step when it was for this cursor. */
  private readBatch(after: number, batchSize: number): Promise<QueryResult<LandedUser & { seq: string }>> {
    const ahead = this.readAhead;
    this.readAhead = undefined;
    if (ahead && ahead.after === after) return ahead.rows;
    return this.pool.query<LandedUser & { seq: string }>(SELECT_BATCH, [after, batchSize]);
  }

  /**
   * Sends one batch past the cursor; returns how many rows it moved. While Kafka acknowledges a
   * full batch, the next one is read: rows commit in seq order (the landing lock), so a row that
   * commits after that read has a higher seq than all it returned and comes in a later batch.
   */
  async step(): Promise<number> {
    const batchSize = this.props.batchSize ?? 2000;
    const res = await this.readBatch(this.status.cursor, batchSize);
    const max = await this.pool.query<{ m: string }>('SELECT coalesce(max(seq), 0) AS m FROM landing_users');
    this.status.maxSeq = Number(max.rows[0].m);
    this.metrics.lagRows.set(Math.max(0, this.status.maxSeq - this.status.cursor));
    if (res.rows.length === 0) return 0;
    const rows = res.rows.map((r) => ({ ...r, seq: Number(r.seq) }));
    const messages = rows.map((r) => ({ key: r.id, value: this.props.encoder.encode(r) }));
    const last = rows[rows.length - 1].seq;
    const timer = this.metrics.batchSeconds.startTimer();
    const sent = this.props.producer.send(this.topic, messages);
    if (rows.length === batchSize) {
      const ahead = this.pool.query<LandedUser & { seq: string }>(SELECT_BATCH, [last, batchSize]);
      // Used by the next step only if this one moves the cursor to `last`; its failure surfaces there.
      ahead.catch(() => undefined);
      this.readAhead = { after: last, rows: ahead };
    }
    await sent;
    await this.pool.query('UPDATE relay_cursor SET last_seq = $2, updated_at = now() WHERE name = $1', [this.cursorName, last]);
    this.status.cursor = last;
    this.status.relayed += rows.length;
    this.status.batches++;
    timer();
    this.metrics.records.inc(rows.length);
    this.metrics.batches.inc();
    this.metrics.cursor.set(last);
    this.metrics.lagRows.set(Math.max(0, this.status.maxSeq - last));
    return rows.length;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
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
  /**
   * A batch not acknowledged by then fails the loop turn with the reason (a missing topic makes
   * the client wait forever otherwise); the batch is sent again after the reconnect. @default 60000
   */
  readonly sendTimeoutMs?: number;
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

  /** Waits for Kafka's acknowledgement of a send, at most sendTimeoutMs. */
  private async acknowledged(sent: Promise<void>, records: number): Promise<void> {
    const ms = this.props.sendTimeoutMs ?? 60_000;
    // A send given up here may still settle later; the batch is sent again either way.
    sent.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Kafka did not acknowledge ${records} records to topic ${this.topic} within ${ms / 1000} s: is the topic there and the broker up?`)), ms);
    });
    try {
      await Promise.race([sent, late]);
    } finally {
      clearTimeout(timer);
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
    const rows = res.rows;
    // A short read saw every committed row, so the newest is its last (or the cursor); only a full
    // batch needs max(seq) for the lag, asked beside the send, off the path of a steady stream.
    const newest = rows.length < batchSize ? Promise.resolve(rows.length > 0 ? Number(rows[rows.length - 1].seq) : this.status.cursor)
      : this.pool.query<{ m: string }>('SELECT coalesce(max(seq), 0) AS m FROM landing_users').then((r) => Number(r.rows[0].m));
    newest.catch(() => undefined);
    if (rows.length === 0) {
      this.setLag(await newest, this.status.cursor);
      return 0;
    }
    // seq arrives as text (bigint); Avro wants a number. Set in place: the rows are ours.
    for (const r of rows) (r as { seq: unknown }).seq = Number(r.seq);
    const values = this.props.encoder.encodeAll(rows as unknown as LandedUser[]);
    const messages = rows.map((r, i) => ({ key: r.id, value: values[i] }));
    const last = Number(rows[rows.length - 1].seq);
    const timer = this.metrics.batchSeconds.startTimer();
    const sent = this.props.producer.send(this.topic, messages);
    if (rows.length === batchSize) {
      const ahead = this.pool.query<LandedUser & { seq: string }>(SELECT_BATCH, [last, batchSize]);
      // Used by the next step only if this one moves the cursor to `last`; its failure surfaces there.
      ahead.catch(() => undefined);
      this.readAhead = { after: last, rows: ahead };
    }
    await this.acknowledged(sent, rows.length);
    await this.pool.query('UPDATE relay_cursor SET last_seq = $2, updated_at = now() WHERE name = $1', [this.cursorName, last]);
    this.status.cursor = last;
    this.status.relayed += rows.length;
    this.status.batches++;
    timer();
    this.metrics.records.inc(rows.length);
    this.metrics.batches.inc();
    this.metrics.cursor.set(last);
    this.setLag(await newest, last);
    return rows.length;
  }

  private setLag(maxSeq: number, cursor: number): void {
    this.status.maxSeq = maxSeq;
    this.metrics.lagRows.set(Math.max(0, maxSeq - cursor));
  }
}

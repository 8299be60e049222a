// Following a run by the Spark job's checkpoint: the relay's cursor says when Kafka holds the run,
// the job's commit log says when Cassandra does. Both are read without touching Cassandra, so
// watching a run takes nothing from the pipeline it times (following a million ids in Cassandra
// as they arrived cost it about 130 CPU-seconds, a sixth of the run's CPU; docs/BENCHMARKS.md).
import * as fs from 'fs';
import * as path from 'path';
import { rtdsHome } from '../services/endpoints';
import { isAlive, processFiles, sleep, tail } from '../services/process';
import { Connections, localTopics, partitionEndOffsets } from './measure';
import { usersStreamFiles } from './users-stream';

/** A committed micro-batch: its number and when its commit file was written (epoch ms). */
export interface Commit {
  readonly batch: number;
  readonly at: number;
}

function committedBatches(checkpoint: string): number[] {
  const commits = path.join(checkpoint, 'commits');
  if (!fs.existsSync(commits)) return [];
  return fs.readdirSync(commits).filter((f) => /^\d+$/.test(f)).map(Number).sort((a, b) => b - a);
}

/**
 * The newest micro-batch the job has committed (Cassandra written) whose offsets reach `end`, and
 * when it committed; undefined while there is none.
 */
export function committedThrough(checkpoint: string, topic: string, end: Record<string, number>): Commit | undefined {
  for (const batch of committedBatches(checkpoint).slice(0, 3)) {
    // offsets/N: "v1", the batch metadata, then the source's offsets {"topic":{"partition":next offset}}.
    const lines = fs.readFileSync(path.join(checkpoint, 'offsets', String(batch)), 'utf8').trim().split('\n');
    const reached = (JSON.parse(lines[lines.length - 1]) as Record<string, Record<string, number>>)[topic] ?? {};
    if (Object.entries(end).every(([p, high]) => (reached[p] ?? 0) >= high)) {
      return { batch, at: fs.statSync(path.join(checkpoint, 'commits', String(batch))).mtimeMs };
    }
  }
  return undefined;
}

/** The number of the newest committed micro-batch, -1 before the first. */
export function latestCommittedBatch(checkpoint: string): number {
  return committedBatches(checkpoint)[0] ?? -1;
}

export interface StreamWaitOptions {
  /** The job's checkpoint directory. */
  readonly checkpoint: string;
  /** The topic the relay writes and the job reads; the relay's cursor bears its name. @default the pipeline's (kafka.topic.name) */
  readonly topic?: string;
  /** The run's highest landing seq: Kafka holds the run once the relay's cursor reaches it. */
  readonly lastSeq: number;
  /** The Spark driver: its exit ends the wait at once. @default not watched */
  readonly streamPid?: number;
  /** Seconds in which neither the relay's cursor nor the job's commits move before giving up. @default 300 */
  readonly stallSeconds?: number;
  readonly log?: (message: string) => void;
  /** Start of the run, for progress lines. @default now */
  readonly t0?: number;
}

async function relayCursor(conn: Connections, topic: string): Promise<number> {
  // The relay's cursor is named after the topic it writes.
  const r = await conn.pg.query<{ last_seq: string }>('SELECT last_seq FROM relay_cursor WHERE name = $1', [topic]);
  return r.rows.length === 0 ? 0 : Number(r.rows[0].last_seq);
}

/**
 * Waits until the relay has had Kafka acknowledge the run (its cursor at `lastSeq`) and the job
 * has committed a micro-batch reaching the topic's end offsets as they stood then; answers that
 * commit. Throws naming the stage that is stuck.
 */
export async function waitForStream(conn: Connections, o: StreamWaitOptions): Promise<Commit> {
  const say = o.log ?? ((m: string) => process.stderr.write(`[local] ${m}\n`));
  const t0 = o.t0 ?? Date.now();
  const stallMs = (o.stallSeconds ?? 300) * 1000;
  const topic = o.topic ?? localTopics().users;
  const streamLog = usersStreamFiles({ home: rtdsHome() }).logFile;
  let end: Record<string, number> | undefined;
  let progress = '';
  let lastProgress = Date.now();
  let lastReport = Date.now();
  for (;;) {
    const cursor = await relayCursor(conn, topic);
    if (end === undefined && cursor >= o.lastSeq) end = await partitionEndOffsets(conn.kafka, topic);
    if (end !== undefined) {
      const done = committedThrough(o.checkpoint, topic, end);
      if (done) return done;
    }
    const batch = latestCommittedBatch(o.checkpoint);
    if (`${cursor}/${batch}` !== progress) {
      progress = `${cursor}/${batch}`;
      lastProgress = Date.now();
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const relay = end === undefined ? `relay at seq ${cursor} of ${o.lastSeq}` : 'Kafka holds the run';
      say(`waiting: ${relay}, Spark job committed batch ${batch} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    if (o.streamPid !== undefined && !isAlive(o.streamPid)) {
      throw new Error(`stream stage stuck: the Spark job (pid ${o.streamPid}) exited at batch ${batch}; run again to restart it; last lines of ${streamLog}:\n${tail(streamLog)}`);
    }
    const stalled = Date.now() - lastProgress;
    if (stalled > stallMs) {
      const secs = Math.round(stalled / 1000);
      if (end === undefined) {
        throw new Error(`relay stage stuck: its cursor stayed at seq ${cursor} (the run ends at ${o.lastSeq}) for ${secs} s; see ${processFiles(rtdsHome(), 'relay').logFile}`);
      }
      throw new Error(`stream stage stuck: Kafka holds the run but the Spark job committed no batch for ${secs} s (last ${batch}, checkpoint ${o.checkpoint}); see ${streamLog}`);
    }
    await sleep(200);
  }
}

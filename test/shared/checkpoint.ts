import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes micro-batch `n` of a Structured Streaming checkpoint as Spark 3.5 lays it out: offsets/N (three lines) and, once committed, commits/N. */
export function writeCheckpointBatch(dir: string, topic: string, n: number, offsets: Record<string, number>, committed: boolean): void {
  fs.mkdirSync(path.join(dir, 'offsets'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'commits'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'offsets', String(n)), `v1\n{"batchWatermarkMs":0,"batchTimestampMs":${n}}\n${JSON.stringify({ [topic]: offsets })}`);
  if (committed) fs.writeFileSync(path.join(dir, 'commits', String(n)), 'v1\n{"nextBatchWatermarkMs":0}');
}

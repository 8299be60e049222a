// The memory round of the bench: `ingest run` and `relay`, each a process of its own as in the
// pipeline, started fresh for N users (100,000 and 1,000,000), their resident set (VmRSS) sampled
// every 250 ms until the relay has sent the last landed row. Flat means the larger run's peak is
// within 10 % of the smaller one's.
import { ChildProcess, spawn } from 'node:child_process';
import { Pool } from 'pg';
import { RssSampler, RssSummary, rssSummary } from '../../scripts/local/measure';
import { REPO, workloadCommand } from '../../scripts/local/pipeline';
import { LocalEndpoints, workloadEnv } from '../../scripts/services/endpoints';
import { sleep } from '../../scripts/services/process';
import { PostgresConfig } from '../../workloads/shared/config';

export interface MemoryRun {
  readonly users: number;
  readonly seconds: number;
  readonly ingest: RssSummary;
  readonly relay: RssSummary;
}

/** The target: the larger run's peak at most this much above the smaller one's. */
export const FLAT_WITHIN = 0.1;

function start(args: readonly string[], env: Record<string, string>): ChildProcess {
  const cmd = workloadCommand(args);
  return spawn(cmd.command, cmd.args, { cwd: REPO, env: { ...process.env, ...env, RTDS_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

/** One run of `users` users through fresh ingest and relay processes into the bench database and `topic`. */
export async function memoryRun(e: LocalEndpoints, pg: PostgresConfig, sourceUrl: string, topic: string, users: number, seed: string): Promise<MemoryRun> {
  const pool = new Pool({ ...pg, max: 1 });
  await pool.query('TRUNCATE landing_users, landing_quarantine, ingest_runs RESTART IDENTITY');
  await pool.query('DELETE FROM relay_cursor WHERE name = $1', [topic]);
  const env = { ...workloadEnv(e), PGDATABASE: pg.database, KAFKA_TOPIC: topic, HTTP_PORT: '0', RANDOMUSER_URL: sourceUrl };
  const relay = start(['relay'], env);
  let relayErr = '';
  relay.stderr!.on('data', (d: Buffer) => (relayErr = (relayErr + d.toString()).slice(-4000)));
  relay.stdout!.resume();
  const ingest = start(['ingest', 'run', '--users', String(users), '--seed', seed], env);
  let ingestOut = '';
  ingest.stdout!.on('data', (d: Buffer) => (ingestOut += d.toString()));
  ingest.stderr!.resume();
  const alive = (child: ChildProcess) => (child.exitCode === null ? child.pid : undefined);
  const t0 = performance.now();
  const sampler = new RssSampler(() => ({ ingest: alive(ingest), relay: alive(relay) }), Date.now(), 250);
  try {
    const code = await exited(ingest);
    if (code !== 0) throw new Error(`memory round: ingest run of ${users} users exited with ${code}: ${ingestOut.slice(-1000)}`);
    // The relay's cursor moves only after Kafka acknowledged: done when it reaches the last landed row.
    for (;;) {
      const r = await pool.query<{ max: string; cursor: string | null }>('SELECT (SELECT coalesce(max(seq), 0) FROM landing_users) AS max, (SELECT last_seq FROM relay_cursor WHERE name = $1) AS cursor', [topic]);
      if (r.rows[0].cursor !== null && Number(r.rows[0].cursor) >= Number(r.rows[0].max)) break;
      if (relay.exitCode !== null) throw new Error(`memory round: the relay exited with ${relay.exitCode}: ${relayErr}`);
      if (performance.now() - t0 > 1_800_000) throw new Error(`memory round: the relay did not reach row ${r.rows[0].max} in 30 minutes`);
      await sleep(250);
    }
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    const traces = sampler.stop();
    const [ingestMemory, relayMemory] = [rssSummary(traces.ingest), rssSummary(traces.relay)];
    if (!ingestMemory || !relayMemory) throw new Error(`memory round: no memory sample of ${ingestMemory ? 'the relay' : 'ingest'} (the run took ${seconds} s)`);
    return { users, seconds, ingest: ingestMemory, relay: relayMemory };
  } finally {
    sampler.stop();
    for (const child of [ingest, relay]) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all([exited(ingest), exited(relay)]);
    await pool.end();
  }
}

/** "flat ✓ (×1.04 ingest, ×1.07 relay)" or "grows ✗ (…)". */
export function memoryVerdict(small: MemoryRun, large: MemoryRun): string {
  const ingest = large.ingest.peakMb / small.ingest.peakMb;
  const relay = large.relay.peakMb / small.relay.peakMb;
  const flat = ingest <= 1 + FLAT_WITHIN && relay <= 1 + FLAT_WITHIN;
  return `${flat ? 'flat ✓' : 'grows ✗'} (peaks ×${ingest.toFixed(2)} ingest, ×${relay.toFixed(2)} relay for ×${Math.round(large.users / small.users)} users; target ≤ ×${(1 + FLAT_WITHIN).toFixed(2)})`;
}

// One fault scenario on the local runtime: a run of USERS users through every hop, the targets
// SIGKILLed together while the users are in flight, restarted, then the checks of issue 13:
// landed ids == Cassandra ids, every row equal to its landed record, nothing dead-lettered, the
// run's status (ingest_runs, and Airflow when the DAG drove it) telling the truth.
import { randomBytes } from 'crypto';
import { LocalEndpoints } from '../../scripts/services/endpoints';
import { sleep } from '../../scripts/services/process';
import { Connections, countRows, localTopics, topicEndOffsets, USERS_TABLE } from '../../scripts/local/measure';
import { differences, Row, storedRows } from '../shared/landed';
import { ingestPort } from '../../scripts/local/pipeline';
import { Target, TARGETS, crash, ensureWorkloads, restart } from './crash';
import { dagRunState, triggerUserPipeline } from './airflow-runs';

export const USERS = 50_000;
/** Small pages, so the run is still landing when the crash comes. */
const BATCH = 1_000;

export interface Scenario {
  readonly targets: readonly Target[];
  /** What the pipeline must do. */
  readonly expected: string;
  /** The run is started by the Airflow DAG rather than over ingest's API. */
  readonly viaAirflow?: boolean;
}

export interface Outcome {
  readonly scenario: string;
  readonly expected: string;
  readonly observed: string;
  readonly convergenceSeconds: number;
}

export const scenarioName = (s: Scenario): string => s.targets.join(' + ');

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, detail: () => Promise<string> = async () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not converged after ${timeoutMs / 1000} s ${await detail().catch((e: Error) => e.message)}`);
    await sleep(2000);
  }
}

const ingestUrl = () => `http://127.0.0.1:${ingestPort()}`;

async function postRun(seed: string): Promise<string> {
  const res = await fetch(`${ingestUrl()}/runs`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ users: USERS, seed, batchSize: BATCH }),
  });
  if (res.status !== 202) throw new Error(`POST /runs answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

interface RunRow { id: string; seed: string; state: string; error: string | null; counts: { inserted?: number; alreadyLanded?: number } }

async function runRow(c: Connections, id: string): Promise<RunRow | undefined> {
  return (await c.pg.query<RunRow>('SELECT id, seed, state, error, counts FROM ingest_runs WHERE id = $1', [id])).rows[0];
}

const finished = (c: Connections, id: string) => until(`ingest run ${id} to end (ingest_runs)`, async () => {
  const r = await runRow(c, id);
  return r && r.state !== 'running' ? r : undefined;
}, 10 * 60_000, async () => JSON.stringify(await runRow(c, id)));

/** Ids of `rows` missing from Cassandra, and every other way Cassandra differs from the landed records. */
async function compareWithCassandra(c: Connections, rows: Row[]): Promise<{ missing: string[]; differ: string[] }> {
  const stored = await storedRows(c.cassandra, USERS_TABLE, rows.map((r) => String(r.id)));
  const missing = rows.map((r) => String(r.id)).filter((id) => !stored.has(id));
  const differ = differences(rows.filter((r) => stored.has(String(r.id))), stored);
  return { missing, differ };
}

/** Runs the scenario; throws naming what did not converge or which check failed. */
export async function runScenario(s: Scenario, c: Connections, e: LocalEndpoints, log: (m: string) => void): Promise<Outcome> {
  const name = scenarioName(s);
  await ensureWorkloads(e, log);
  const topics = localTopics();
  const dlqBefore = await topicEndOffsets(c.kafka, topics.deadLetter);
  const kafkaBefore = await topicEndOffsets(c.kafka, topics.users);
  const landedBefore = Number((await c.pg.query('SELECT count(*) AS n FROM landing_users')).rows[0].n);
  const t0 = new Date();

  let runId: string;
  let dagRun: string | undefined;
  if (s.viaAirflow) {
    dagRun = await triggerUserPipeline(e, USERS);
    runId = await until(`the DAG run ${dagRun} to start an ingest run`, async () =>
      (await c.pg.query<{ id: string }>('SELECT id FROM ingest_runs WHERE started_at >= $1 AND users = $2', [t0, USERS])).rows[0]?.id, 5 * 60_000);
  } else {
    runId = await postRun(`faults-${name.replace(/\W+/g, '-')}-${randomBytes(3).toString('hex')}`);
  }
  const seed = (await until(`ingest run ${runId} in ingest_runs`, () => runRow(c, runId), 60_000)).seed;
  const landedOf = async () => Number((await c.pg.query('SELECT count(*) AS n FROM landing_users WHERE source_seed = $1', [seed])).rows[0].n);
  const inFlight = await until(`users of ${runId} in flight (5,000 landed)`, async () => {
    const n = await landedOf();
    return n >= 5_000 ? n : undefined;
  }, 5 * 60_000);

  const killedAt = Date.now();
  const pids = await Promise.all(s.targets.map((t) => crash(t)));
  log(`${name}: SIGKILL ${s.targets.map((t, i) => `${t} (pid ${pids[i]})`).join(', ')} with ${inFlight} of ${USERS} landed`);
  for (const t of TARGETS.filter((x) => s.targets.includes(x))) {
    log(`${name}: starting ${t} again`);
    await restart(t, e, log);
  }
  log(`${name}: restarted after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);

  // The run's truth: a run whose ingest died is marked failed and its rerun (same seed) lands the rest.
  const runs: RunRow[] = [await finished(c, runId)];
  const observed: string[] = [];
  if (s.targets.includes('ingest')) {
    const dead = runs[0];
    if (dead.state !== 'failed' || !/ingest process running it stopped/.test(dead.error ?? '')) {
      throw new Error(`the killed ingest's run ${runId} should be failed naming the dead process, is ${dead.state}: ${dead.error}`);
    }
    observed.push(`run marked failed (${(dead.error ?? '').split(';')[0]}); rerun with its seed`);
    runs.push(await finished(c, await postRun(seed)));
  }
  const last = runs[runs.length - 1];
  if (last.state !== 'succeeded') throw new Error(`ingest run ${last.id} ended ${last.state}: ${last.error}`);
  const inserted = runs.reduce((n, r) => n + (r.counts.inserted ?? 0), 0);
  if (inserted !== USERS) throw new Error(`the runs of seed ${seed} inserted ${inserted} users in all, not ${USERS} (${JSON.stringify(runs.map((r) => r.counts))})`);

  const landed = (await c.pg.query('SELECT * FROM landing_users WHERE source_seed = $1', [seed])).rows as Record<string, unknown>[];
  if (landed.length !== USERS) throw new Error(`${landed.length} users of seed ${seed} landed, not ${USERS}`);
  let pending = landed;
  await until(`every landed id of ${name} in Cassandra`, async () => {
    const missing = new Set((await compareWithCassandra(c, pending)).missing);
    pending = pending.filter((l) => missing.has(String(l.id)));
    return pending.length === 0 ? true : undefined;
  }, 10 * 60_000, async () => `(${pending.length} ids missing, e.g. ${pending.slice(0, 3).map((l) => String(l.id)).join(', ')})`);
  const convergenceSeconds = (Date.now() - killedAt) / 1000;
  // Reads right after a Cassandra restart may fail on the server (ReadFailure); they are asked again.
  const check = await until('a full read of the scenario\'s rows from Cassandra', () => compareWithCassandra(c, landed), 3 * 60_000);
  if (check.missing.length || check.differ.length) throw new Error(`Cassandra differs from the landed records: missing ${check.missing.length}, fields differ ${check.differ.slice(0, 5).join(', ')}`);
  const [landedAll, stored] = await until('the whole-table counts of PostgreSQL and Cassandra', async () =>
    [Number((await c.pg.query('SELECT count(*) AS n FROM landing_users')).rows[0].n), await countRows(c.cassandra, USERS_TABLE)], 3 * 60_000);
  if (landedAll !== stored) throw new Error(`PostgreSQL holds ${landedAll} users, Cassandra ${stored}`);
  const dead = (await topicEndOffsets(c.kafka, topics.deadLetter)) - dlqBefore;
  if (dead !== 0) throw new Error(`${dead} messages reached ${topics.deadLetter}`);
  if (dagRun) {
    const state = await until(`the DAG run ${dagRun} to end`, async () => {
      const st = await dagRunState(e, dagRun!);
      return ['success', 'failed'].includes(st) ? st : undefined;
    }, 10 * 60_000);
    if (state !== 'success') throw new Error(`Airflow says the DAG run ${dagRun} ${state}, though every user arrived`);
    observed.push(`DAG run ${state}`);
  }
  const extra = (await topicEndOffsets(c.kafka, topics.users)) - kafkaBefore - (landedAll - landedBefore);
  observed.push(`${USERS.toLocaleString('en-US')} landed = Cassandra, fields equal, 0 dead-lettered, run ${last.state}`);
  observed.push(extra > 0 ? `${extra} records sent to Kafka twice (absorbed by the id upsert)` : 'no Kafka duplicates');
  return { scenario: name, expected: s.expected, observed: observed.join('; '), convergenceSeconds };
}

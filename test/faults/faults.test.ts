// The fault tier: every stateful service and long-running workload of the local runtime SIGKILLed
// alone, and three pairs together, each while 50,000 users are in flight; nothing lost, nothing
// dead-lettered, the run's status true. Services are started once (global setup) and shared.
import * as fs from 'fs';
import { createContext } from '../../scripts/services/lifecycle';
import { LocalEndpoints, readEndpoints } from '../../scripts/services/endpoints';
import { Connections, connect } from '../../scripts/local/measure';
import { ensureIngest, ensurePipeline } from '../../scripts/local/pipeline';
import { setQuiet } from '../../workloads/shared/log';
import { writeFaultTable } from './fault-table';
import { startedMarkers } from './global-setup';
import { Outcome, Scenario, runScenario, scenarioName } from './scenario';
import { DISK_FULL_EXPECTED, DISK_FULL_SCENARIO, runDiskFull } from './disk-full';

jest.setTimeout(30 * 60_000);

const SAME = 'all 50,000 in Cassandra once, fields equal, run succeeded';
const SCENARIOS: Scenario[] = [
  { targets: ['ingest'], expected: 'the dead run is marked failed (not left running); a rerun with its seed lands the rest exactly once' },
  { targets: ['relay'], expected: `${SAME}; the restarted relay resumes from its cursor` },
  { targets: ['spark-driver'], expected: `${SAME}; the restarted driver resumes from its checkpoint` },
  { targets: ['spark-worker'], expected: `${SAME}; the worker is started again and the job's executors come back` },
  { targets: ['airflow-scheduler'], viaAirflow: true, expected: `${SAME}; the DAG run, whose tasks died with the scheduler, ends success` },
  { targets: ['postgres'], expected: `${SAME}; ingest retries the page, the relay reconnects` },
  { targets: ['zookeeper'], expected: `${SAME}; the broker keeps serving and re-registers` },
  { targets: ['kafka'], expected: `${SAME}; the relay and the stream retry until the broker is back` },
  { targets: ['schema-registry'], expected: `${SAME}; the relay's and the stream's cached schema ids carry on` },
  { targets: ['cassandra'], expected: `${SAME}; the stream's failed batch is retried from the checkpoint` },
  // Pairs where a hand-off is riskiest: the outbox cursor against the broker's acks; the relay's
  // position kept in the database that dies with it; the checkpoint against Cassandra's writes.
  { targets: ['kafka', 'relay'], expected: `${SAME}; nothing past the relay cursor is lost with the broker's unacknowledged batches` },
  { targets: ['postgres', 'relay'], expected: `${SAME}; the relay starts again from the cursor committed in PostgreSQL` },
  { targets: ['cassandra', 'spark-driver'], expected: `${SAME}; the batch half written to Cassandra is written again from the checkpoint` },
];

// RTDS_FAULT_SCENARIOS="ingest,kafka + relay" runs only those (while working on one); the table is then not written.
const picked = (process.env.RTDS_FAULT_SCENARIOS ?? '').split(',').map((x) => x.trim()).filter(Boolean);
// ZooKeeper exists only in the runtime's ZooKeeper mode.
const MODE = createContext({ log: () => undefined }).kafkaMode;
const MATRIX = SCENARIOS.filter((s) => MODE === 'zookeeper' || !s.targets.includes('zookeeper'));
const RUN = picked.length ? MATRIX.filter((s) => picked.includes(scenarioName(s))) : MATRIX;
const DISK_FULL = picked.length === 0 || picked.includes(DISK_FULL_SCENARIO);
if (picked.length && RUN.length + (DISK_FULL ? 1 : 0) !== picked.length) {
  throw new Error(`RTDS_FAULT_SCENARIOS names unknown scenarios; known in Kafka ${MODE} mode: ${[...MATRIX.map(scenarioName), DISK_FULL_SCENARIO].join(', ')}`);
}

let e: LocalEndpoints;
let conn: Connections;
const outcomes: Outcome[] = [];
const started = Date.now();

beforeAll(async () => {
  setQuiet(true);
  const { processes } = await ensurePipeline({ log: () => undefined });
  e = readEndpoints();
  const started = [...processes, await ensureIngest(e)].filter((p) => !p.reused).map((p) => p.name);
  fs.writeFileSync(startedMarkers().processes, started.join('\n') + '\n');
  conn = await connect(e);
});

afterAll(async () => {
  await conn?.close();
  // The whole matrix's table, failures included (an honest table beats none); not for a pick.
  if (!picked.length) writeFaultTable(outcomes, MODE, (Date.now() - started) / 1000);
  for (const o of outcomes) process.stderr.write(`[faults] ${o.scenario}: ${o.convergenceSeconds.toFixed(1)} s: ${o.observed}\n`);
  setQuiet(false);
});

describe('the pipeline survives crashes of its services and workloads (SIGKILL while 50,000 users are in flight)', () => {
  if (RUN.length) test.each(RUN.map((s) => [scenarioName(s), s] as const))('%s: nothing lost, nothing dead-lettered, the run status true', async (name, s) => {
    try {
      outcomes.push(await runScenario(s, conn, e, (m) => process.stderr.write(`[faults] ${m}\n`)));
    } catch (err) {
      outcomes.push({ scenario: name, expected: s.expected, observed: `FAILED: ${(err as Error).message}`, convergenceSeconds: NaN });
      process.stderr.write(`[faults] ${name}: FAILED: ${(err as Error).stack}\n`);
      throw err;
    }
  });

  (DISK_FULL ? test : test.skip)(`${DISK_FULL_SCENARIO}: the ingest fails naming the cause, no page half written, a rerun lands the rest exactly once`, async () => {
    try {
      outcomes.push(await runDiskFull((m) => process.stderr.write(`[faults] ${m}\n`)));
    } catch (err) {
      outcomes.push({ scenario: DISK_FULL_SCENARIO, expected: DISK_FULL_EXPECTED, observed: `FAILED: ${(err as Error).message}`, convergenceSeconds: NaN });
      throw err;
    }
  });
});

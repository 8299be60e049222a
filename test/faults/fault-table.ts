// docs/FAULTS.md: the fault table the tier writes from its run.
import * as fs from 'fs';
import * as path from 'path';
import { Outcome, USERS } from './scenario';

export const FAULTS_MD = path.join(__dirname, '..', '..', 'docs', 'FAULTS.md');

export function writeFaultTable(outcomes: readonly Outcome[], kafkaMode: string, tierSeconds: number): void {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '# Fault table',
    '',
    `Written by \`npm run test:faults\` (test/faults/) on the local runtime, Kafka in ${kafkaMode} mode. Each scenario`,
    `lands ${USERS.toLocaleString('en-US')} users and SIGKILLs the process group the runtime started for each target while`,
    'they are in flight (source → ingest → PostgreSQL → relay → Kafka → Spark → Cassandra), starts it again the way',
    'the runtime does, and waits for convergence: every landed id in Cassandra with its fields equal, nothing on the',
    'dead-letter topic, the run\'s status true in `ingest_runs` (and in Airflow for the scheduler). Convergence is',
    'counted from the SIGKILL to the last user found in Cassandra. The disk-full row is the exception: its ingest',
    'writes to a PostgreSQL of its own whose cluster is on a small tmpfs (test/faults/disk-full.ts), no crash is',
    'made, and its time is counted from the failed run to the end of the rerun, space freed in between.',
    'Crashes of the deployed Docker stack are in [faults/deployed-docker.md](faults/deployed-docker.md) (deploy tier).',
    '',
    `Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, whole tier ${Math.round(tierSeconds)} s.`,
    '',
    '| scenario | expected | observed | convergence s |',
    '|---|---|---|---:|',
    ...outcomes.map((o) => `| ${cell(o.scenario)} | ${cell(o.expected)} | ${cell(o.observed)} | ${Number.isFinite(o.convergenceSeconds) ? o.convergenceSeconds.toFixed(1) : '-'} |`),
    '',
  ];
  fs.writeFileSync(FAULTS_MD, lines.join('\n'));
}

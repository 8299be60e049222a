// npm run local -- --users N [--seed S] [--stall-seconds S]   one run through the whole local pipeline
// npm run local -- --stop                                     stops source, relay and the Spark job (services:down does too)
// npm run status                                              the stage table of the latest run
import { readEndpoints } from '../services/endpoints';
import { latestRunCounts, pipelineProcesses, runPipeline, stageJson, stageTable, stopPipeline } from './pipeline';

const USAGE = 'usage: npm run local -- --users N [--seed S] [--stall-seconds S] | npm run local -- --stop | npm run status';

export interface LocalArgs {
  readonly command: 'run' | 'stop' | 'status';
  readonly users?: number;
  readonly seed?: string;
  readonly stallSeconds?: number;
}

/** Parses the command line; a bad value throws a message naming the flag. */
export function parseLocalArgs(argv: readonly string[]): LocalArgs {
  if (argv[0] === 'status') {
    if (argv.length > 1) throw new Error(`status takes no options, got ${JSON.stringify(argv.slice(1).join(' '))}\n${USAGE}`);
    return { command: 'status' };
  }
  let users: number | undefined;
  let seed: string | undefined;
  let stallSeconds: number | undefined;
  let stop = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const positive = (v: string, max: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} must be an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
      return n;
    };
    if (flag === '--users') users = positive(value(), 100_000_000);
    else if (flag === '--seed') seed = value();
    else if (flag === '--stall-seconds') stallSeconds = positive(value(), 86_400);
    else if (flag === '--stop') stop = true;
    else throw new Error(`unknown option ${JSON.stringify(argv[i])}\n${USAGE}`);
  }
  if (stop) return { command: 'stop' };
  if (users === undefined) throw new Error(`--users N is required\n${USAGE}`);
  return { command: 'run', users, seed, stallSeconds };
}

async function main(): Promise<void> {
  const args = parseLocalArgs(process.argv.slice(2));
  if (args.command === 'stop') {
    await stopPipeline();
    console.log('source, relay and the Spark job stopped (services keep running: npm run services:down)');
    return;
  }
  if (args.command === 'status') {
    for (const p of pipelineProcesses()) console.log(`${p.name.padEnd(13)} ${p.alive ? `running, pid ${p.pid}` : 'not running'}  (log ${p.log})`);
    const latest = await latestRunCounts(readEndpoints());
    const t = latest.totals;
    console.log(`all runs: PostgreSQL ${t.postgres} landed, relay cursor ${t.relayCursor}, Kafka ${t.kafka} messages, Cassandra ${t.cassandra} rows, ${t.deadLettered} dead-lettered`);
    if (!latest.counts) {
      console.log('no ingest run yet: npm run local -- --users N');
      return;
    }
    console.log(`latest ingest run ${latest.runId}:`);
    console.log(stageTable(latest.counts, 'in all (the topic\'s size)', 'from the run\'s start to the start of the Spark batch that wrote its last user'));
    console.log(stageJson(latest.counts));
    return;
  }
  const result = await runPipeline({ users: args.users!, seed: args.seed, stallSeconds: args.stallSeconds });
  console.log(`run ${result.runId}, seed ${result.seed}: ingest ${result.ingestSeconds.toFixed(1)} s; peak RSS ${Object.entries(result.rss).map(([k, v]) => `${k} ${v.peakMb} MB`).join(', ')}`);
  console.log(stageTable(result, 'while this command ran'));
  console.log(stageJson(result));
}

if (require.main === module) {
  // kafkajs computes a negative timer on Node 24 (harmless); keep the output readable.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
  });
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(`local: ${err.message}`);
      process.exit(1);
    },
  );
}

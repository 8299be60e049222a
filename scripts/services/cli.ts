// npm run services:up | services:down | services:status
//   up [--only a,b] [--kafka-mode zookeeper|kraft]   start (or reuse) and write .rtds/endpoints.json
//   down [--only a,b]                                 stop the pipeline's processes, then the services in reverse order
//   status                                            table: service, port, state, version, pid
//   python spark|airflow                              print the venv's interpreter (provisioned first)
//   jars                                              print the Spark job's connector jars, comma-separated (resolved first)
//   airflow -- <airflow args>                          run the airflow CLI with the local service's environment
import { airflow } from './airflow';
import { endpointsFile, KafkaMode } from './endpoints';
import { createContext, down, pipelineProcesses, status, up } from './lifecycle';
import { parseKafkaMode } from './service';
import { provisionConnectorJars, provisionPySpark } from './spark-dist';

interface Args {
  readonly command: string;
  readonly only?: string[];
  readonly kafkaMode?: KafkaMode;
}

const USAGE = 'usage: cli.ts up [--only a,b] [--kafka-mode zookeeper|kraft] | down [--only a,b] | status | python spark|airflow | jars | airflow -- <args>';

export function parseArgs(argv: readonly string[]): Args {
  const [command, ...rest] = argv;
  if (!['up', 'down', 'status'].includes(command ?? '')) throw new Error(`unknown command "${command ?? ''}"\n${USAGE}`);
  let only: string[] | undefined;
  let kafkaMode: KafkaMode | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? rest[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--only') only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (flag === '--kafka-mode') kafkaMode = parseKafkaMode(value());
    else throw new Error(`unknown option "${arg}"\n${USAGE}`);
  }
  return { command: command!, only, kafkaMode };
}

function table(rows: readonly Record<string, string>[]): string {
  const keys = Object.keys(rows[0]);
  const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => r[k].length)));
  const line = (r: Record<string, string>) => keys.map((k, i) => r[k].padEnd(width[i])).join('  ').trimEnd();
  return [line(Object.fromEntries(keys.map((k) => [k, k.toUpperCase()]))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'python' || command === 'airflow' || command === 'jars') {
    const ctx = createContext({ log: (m) => process.stderr.write(`${m}\n`) });
    if (command === 'jars') process.stdout.write(provisionConnectorJars(ctx).join(',') + '\n');
    else if (command === 'airflow') process.stdout.write(airflow.runAirflow(ctx, rest[0] === '--' ? rest.slice(1) : rest));
    else if (rest[0] === 'spark') process.stdout.write(provisionPySpark(ctx) + '\n');
    else if (rest[0] === 'airflow') process.stdout.write(airflow.provisionVenv(ctx) + '\n');
    else throw new Error(`python needs spark or airflow, got "${rest[0] ?? ''}"\n${USAGE}`);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  if (args.command === 'up') {
    const t0 = Date.now();
    const result = await up({ only: args.only, kafkaMode: args.kafkaMode });
    const total = ((Date.now() - t0) / 1000).toFixed(1);
    for (const [name, t] of Object.entries(result.timings)) {
      console.log(`${name.padEnd(16)} provision ${t.provision.toFixed(1)} s  ${t.reused ? 'reused' : `start ${t.start.toFixed(1)} s`}`);
    }
    console.log(`services up in ${total} s; endpoints in ${endpointsFile()}`);
  } else if (args.command === 'down') {
    await down({ only: args.only });
  } else {
    const rows = await status({ kafkaMode: args.kafkaMode });
    console.log(
      table(
        rows.map((r) => ({
          service: r.service,
          port: String(r.port),
          state: r.state,
          version: r.version,
          pid: r.pid ? String(r.pid) : '-',
        })),
      ),
    );
    const own = pipelineProcesses(createContext({ log: () => undefined }).home).filter((p) => p.alive);
    if (own.length) console.log(`pipeline processes: ${own.map((p) => `${p.name} (pid ${p.pid})`).join(', ')} (stopped by services:down)`);
  }
}

if (require.main === module) {
  // kafkajs computes a negative timer on Node 24 (harmless); keep the CLI output readable.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') console.warn(w);
  });
  main().catch((err: Error) => {
    console.error(`services: ${err.message}`);
    process.exitCode = 1;
  });
}

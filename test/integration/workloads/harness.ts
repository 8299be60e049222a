import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka } from 'kafkajs';
import { Pool } from 'pg';
import { LocalEndpoints, readEndpoints } from '../../../scripts/services/endpoints';
import { PostgresConfig } from '../../../workloads/shared/config';
import { deleteTopics, kafkaAdminClient, pipelinePartitions, scratchDatabase, scratchTopics } from '../../../scripts/local/scratch';

export const REPO = join(__dirname, '..', '..', '..');

export function endpoints(): LocalEndpoints {
  return readEndpoints();
}

export const suffix = (): string => randomBytes(4).toString('hex');

export interface TestDatabase {
  readonly cfg: PostgresConfig;
  readonly pool: Pool;
  drop(): Promise<void>;
}

/** A migrated database of its own, so a test's landing table and relay cursor see only its rows. */
export async function freshDatabase(e: LocalEndpoints = endpoints()): Promise<TestDatabase> {
  const scratch = await scratchDatabase(e, `rtds_test_${suffix()}`);
  const pool = new Pool({ ...scratch.cfg, max: 4 });
  pool.on('error', () => undefined);
  return {
    cfg: scratch.cfg,
    pool,
    async drop() {
      await pool.end();
      await scratch.drop();
    },
  };
}

export function kafka(e: LocalEndpoints = endpoints()): Kafka {
  return kafkaAdminClient(e, 'rtds-test');
}

/** A topic of its own (the broker does not auto-create topics), with the pipeline's partitions unless told. */
export async function freshTopic(e: LocalEndpoints = endpoints(), partitions = pipelinePartitions()): Promise<{ name: string; remove(): Promise<void> }> {
  const name = `rtds_test_${suffix()}`;
  await scratchTopics(kafka(e), [{ topic: name, partitions }]);
  return { name, remove: () => deleteTopics(kafka(e), [name]) };
}

export interface Consumed {
  readonly key: string;
  readonly value: Buffer;
}

/** Reads the topic from the beginning until `atLeast` messages arrived or the time is up. */
export async function consumeAll(topic: string, atLeast: number, timeoutMs = 60_000, e: LocalEndpoints = endpoints()): Promise<Consumed[]> {
  const consumer = kafka(e).consumer({ groupId: `rtds-test-${suffix()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: Consumed[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) out.push({ key: m.key?.toString() ?? '', value: m.value ?? Buffer.alloc(0) });
      if (out.length >= atLeast) resolveDone();
    },
  });
  const timer = setTimeout(resolveDone, timeoutMs);
  await done;
  clearTimeout(timer);
  // A little longer, so duplicates or extras beyond `atLeast` are seen too.
  await new Promise((r) => setTimeout(r, 1500));
  await consumer.disconnect();
  return out;
}

/** Runs `rtds <args>` from the sources in a child process, as the image would. */
export function spawnCli(args: readonly string[], env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(REPO, 'workloads', 'cli.ts'), ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return Object.assign(child, { output: () => output });
}

export function workloadEnvFor(db: PostgresConfig, topic: string, e: LocalEndpoints = endpoints()): Record<string, string> {
  return {
    PGHOST: db.host, PGPORT: String(db.port), PGDATABASE: db.database, PGUSER: db.user, PGPASSWORD: db.password,
    KAFKA_BOOTSTRAP_SERVERS: e.kafka.bootstrapServers, KAFKA_TOPIC: topic, SCHEMA_REGISTRY_URL: e.schemaRegistry.url,
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

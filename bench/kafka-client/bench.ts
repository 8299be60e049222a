/**
 * kafkajs vs @platformatic/kafka on the real broker with the pipeline's own Avro records,
 * side by side in one run, alternating rounds so drift on the machine hits both alike.
 * Both through workloads/shared/kafka.ts (idempotent, acks=all), the adapter the relay uses.
 *
 *   npm run bench:kafka-client     (KAFKA_BOOTSTRAP_SERVERS, else .rtds/endpoints.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { connectProducer, KafkaClientName, KeyedMessage, UsersProducer } from '../../workloads/shared/kafka';
import { sortBatch } from '../../workloads/ingest/normalize';
import { generatePage, USER_FIELDS } from '../../workloads/source/generate';
import { UserEncoder } from '../../workloads/relay/avro';
import { userSchemaText } from '../../workloads/relay/schema';
import { readEndpoints } from '../../scripts/services/endpoints';

const CLIENTS: readonly KafkaClientName[] = ['kafkajs', 'platformatic'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const MESSAGES_PER_ROUND = Number(process.env.BENCH_MESSAGES ?? 50_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 2000);
const SINGLES_PER_ROUND = Number(process.env.BENCH_SINGLES ?? 500);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function pipelineMessages(count: number): KeyedMessage[] {
  // The relay's exact encoding: normalized users, Avro, Confluent framing (schema id 1 here).
  const encoder = new UserEncoder(1, userSchemaText());
  const out: KeyedMessage[] = [];
  for (let page = 1; out.length < count; page++) {
    const raw = generatePage({ results: 5000, seed: 'bench', page, nat: [], fields: USER_FIELDS, noinfo: true }).results;
    const { accepted } = sortBatch(raw, new Date());
    for (const u of accepted) out.push({ key: u.id, value: encoder.encode({ ...u, seq: out.length + 1 }) });
  }
  return out.slice(0, count);
}

interface Samples {
  batchMs: number[];
  singleMs: number[];
  messages: number;
  bytes: number;
  batchWallMs: number;
}

async function round(p: UsersProducer, topic: string, msgs: readonly KeyedMessage[], s: Samples): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < msgs.length; i += BATCH) {
    const chunk = msgs.slice(i, i + BATCH);
    const t = performance.now();
    await p.send(topic, chunk);
    s.batchMs.push(performance.now() - t);
    s.messages += chunk.length;
    for (const m of chunk) s.bytes += m.value.length + m.key.length;
  }
  s.batchWallMs += performance.now() - t0;
  for (let i = 0; i < SINGLES_PER_ROUND; i++) {
    const t = performance.now();
    await p.send(topic, [msgs[i]]);
    s.singleMs.push(performance.now() - t);
  }
}

async function main(): Promise<void> {
  const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? readEndpoints().kafka.bootstrapServers;
  const servers = bootstrap.split(',');
  const admin = new Kafka({ brokers: servers, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  const topics = Object.fromEntries(CLIENTS.map((c) => [c, `rtds_bench_${c}`])) as Record<KafkaClientName, string>;
  const existing = await admin.listTopics();
  await admin.createTopics({ topics: Object.values(topics).filter((t) => !existing.includes(t)).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })), waitForLeaders: true });
  await admin.disconnect();

  process.stderr.write(`encoding ${MESSAGES_PER_ROUND} pipeline records...\n`);
  const msgs = pipelineMessages(MESSAGES_PER_ROUND);
  const producers = {} as Record<KafkaClientName, UsersProducer>;
  const samples = {} as Record<KafkaClientName, Samples>;
  for (const c of CLIENTS) {
    producers[c] = await connectProducer({ bootstrapServers: servers, client: c, clientId: `rtds-bench-${c}` });
    samples[c] = { batchMs: [], singleMs: [], messages: 0, bytes: 0, batchWallMs: 0 };
    await producers[c].send(topics[c], msgs.slice(0, 10)); // warm-up: metadata, producer id
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? CLIENTS : [...CLIENTS].reverse();
    for (const c of order) {
      await round(producers[c], topics[c], msgs, samples[c]);
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${c}: ${samples[c].messages} messages so far\n`);
    }
  }
  for (const c of CLIENTS) await producers[c].close();

  const results = CLIENTS.map((c) => {
    const s = samples[c];
    const b = [...s.batchMs].sort((x, y) => x - y);
    const one = [...s.singleMs].sort((x, y) => x - y);
    return {
      client: c,
      version: c === 'kafkajs' ? require('kafkajs/package.json').version : '2.12.1',
      messages: s.messages,
      throughputMsgsPerSec: Math.round(s.messages / (s.batchWallMs / 1000)),
      throughputMBPerSec: Number((s.bytes / 1e6 / (s.batchWallMs / 1000)).toFixed(2)),
      batchSendMs: { p50: Number(percentile(b, 50).toFixed(2)), p99: Number(percentile(b, 99).toFixed(2)), max: Number(b[b.length - 1].toFixed(2)) },
      singleSendMs: { p50: Number(percentile(one, 50).toFixed(2)), p99: Number(percentile(one, 99).toFixed(2)), max: Number(one[one.length - 1].toFixed(2)) },
    };
  });
  const report = {
    at: new Date().toISOString(),
    node: process.version,
    broker: process.env.BENCH_BROKER_LABEL ?? 'local single broker on loopback',
    settings: { rounds: ROUNDS, messagesPerRound: MESSAGES_PER_ROUND, batch: BATCH, singlesPerRound: SINGLES_PER_ROUND, acks: 'all', idempotent: true, partitions: 3, avgRecordBytes: Math.round(msgs.reduce((n, m) => n + m.value.length, 0) / msgs.length) },
    results,
  };
  const dir = join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kafka-client.json'), JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});

#!/usr/bin/env node
import { Pool } from 'pg';
import {
  cassandraConfig, ConfigError, Env, httpPort, kafkaConfig, positiveInt, postgresConfig, randomuserUrl, schemaRegistryUrl,
} from './shared/config';
import { connectProducer } from './shared/kafka';
import { log } from './shared/log';
import { migrateCassandra } from './migrate/cassandra';
import { migratePostgres } from './migrate/postgres';
import { startSource } from './source/server';
import { startIngestService } from './ingest/service';
import { checkRunRequest, MAX_BATCH, runIngest } from './ingest/run';
import { progressReporter } from './ingest/progress';
import { UserEncoder, valueSubject } from './relay/avro';
import { userSchemaText } from './relay/schema';
import { registerUserSchema, SchemaRegistry } from './relay/registry';
import { Relay } from './relay/relay';
import { startRelayService } from './relay/service';
import { ENV, PORTS } from '../config/facts';

const USAGE = `usage: rtds <command>
  source serve                 randomuser-compatible API on HTTP_PORT (8100); SOURCE_RATE_LIMIT req/s (50)
  ingest serve                 control API on HTTP_PORT (8000): POST /runs {users, seed?}, GET /runs/:id
  ingest run --users N [--seed S] [--batch-size B] [--nat US,GB]
                               lands N users from RANDOMUSER_URL, with a progress bar
  relay                        landing_users → Kafka KAFKA_TOPIC; health on HTTP_PORT (8001)
  migrate postgres             applies workloads/migrations/postgres
  migrate cassandra            applies workloads/migrations/cassandra (CASSANDRA_REPLICATION_FACTOR, 1)
  register-schema              registers workloads/schema/user.avsc as <KAFKA_TOPIC>-value, BACKWARD`;

class UsageError extends Error {}

/** Parses `--name value` flags; unknown flags are an error naming them. */
export function parseFlags(args: readonly string[], known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !known.includes(m[1])) throw new UsageError(`unknown argument ${JSON.stringify(a)} (expected ${known.map((k) => `--${k}`).join(', ')})`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    out[m[1]] = value;
  }
  return out;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

async function registerSchema(env: Env): Promise<number> {
  const { topic } = kafkaConfig(env);
  const registry = new SchemaRegistry(schemaRegistryUrl(env));
  return registerUserSchema(registry, valueSubject(topic), userSchemaText());
}

export async function main(argv: readonly string[], env: Env = process.env): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  const key = sub !== undefined && !sub.startsWith('--') ? `${cmd} ${sub}` : cmd;
  const args = key === cmd ? argv.slice(1) : rest;
  switch (key) {
    case 'source serve': {
      parseFlags(args, []);
      const source = await startSource({ port: httpPort(env, PORTS.source), ratePerSecond: positiveInt(env, 'SOURCE_RATE_LIMIT', 50) });
      await untilSignal();
      await source.close();
      return 0;
    }
    case 'ingest serve': {
      parseFlags(args, []);
      const pg = postgresConfig(env);
      const sourceUrl = randomuserUrl(env);
      const port = httpPort(env, PORTS.ingest);
      await migratePostgres(pg);
      const pool = new Pool({ ...pg, max: 4, application_name: 'rtds-ingest' });
      pool.on('error', (e) => log('warn', 'ingest', 'idle PostgreSQL connection failed', { error: e.message }));
      const svc = await startIngestService({ pool, sourceUrl, port });
      await untilSignal();
      await svc.close();
      await pool.end();
      return 0;
    }
    case 'ingest run': {
      const flags = parseFlags(args, ['users', 'seed', 'batch-size', 'nat']);
      if (flags.users === undefined) throw new UsageError('ingest run needs --users N');
      const users = Number(flags.users);
      const batchSize = flags['batch-size'] === undefined ? MAX_BATCH : Number(flags['batch-size']);
      const problem = checkRunRequest(users, flags.seed, batchSize, flags.nat);
      if (problem) throw new UsageError(`--${problem.replace(/^batchSize/, 'batch-size')}`);
      const pg = postgresConfig(env);
      const sourceUrl = randomuserUrl(env);
      await migratePostgres(pg);
      const pool = new Pool({ ...pg, max: 2, application_name: 'rtds-ingest-cli' });
      pool.on('error', (e) => log('warn', 'ingest', 'idle PostgreSQL connection failed', { error: e.message }));
      const interrupt = new AbortController();
      // Ctrl-C ends the run between pages: every landed page stays whole, the status says where it stopped.
      void untilSignal().then((sig) => interrupt.abort(`interrupted by ${sig}`));
      try {
        const status = await runIngest({ pool, sourceUrl, users, seed: flags.seed, batchSize, nat: flags.nat, signal: interrupt.signal, onProgress: progressReporter() });
        process.stdout.write(JSON.stringify(status, null, 2) + '\n');
        return status.state === 'succeeded' ? 0 : 1;
      } finally {
        await pool.end();
      }
    }
    case 'relay': {
      parseFlags(args, []);
      const pg = postgresConfig(env);
      const kafka = kafkaConfig(env);
      const port = httpPort(env, PORTS.relay);
      const batchSize = positiveInt(env, 'RELAY_BATCH_SIZE', 2000);
      await migratePostgres(pg);
      const schemaId = await registerSchema(env);
      log('info', 'relay', 'schema registered', { subject: valueSubject(kafka.topic), id: schemaId });
      const producer = await connectProducer({ bootstrapServers: kafka.bootstrapServers, clientId: 'rtds-relay' });
      const sendTimeoutMs = positiveInt(env, 'RELAY_SEND_TIMEOUT_MS', 60_000);
      const relay = new Relay({ postgres: pg, producer, encoder: new UserEncoder(schemaId, userSchemaText()), topic: kafka.topic, batchSize, sendTimeoutMs });
      const svc = await startRelayService({ relay, port });
      const running = relay.run();
      await untilSignal();
      await relay.stop();
      await running;
      await relay.close();
      await producer.close();
      await svc.close();
      log('info', 'relay', 'stopped', { cursor: relay.status.cursor, relayed: relay.status.relayed });
      return 0;
    }
    case 'migrate postgres': {
      parseFlags(args, []);
      const r = await migratePostgres(postgresConfig(env));
      process.stdout.write(`postgres: applied ${r.applied.length} (${r.applied.join(', ') || 'none'}), ${r.alreadyApplied} already applied\n`);
      return 0;
    }
    case 'migrate cassandra': {
      parseFlags(args, []);
      const r = await migrateCassandra(cassandraConfig(env), { replicationFactor: positiveInt(env, ENV.cassandraReplicationFactor, 1) });
      process.stdout.write(`cassandra: applied ${r.applied.length} (${r.applied.join(', ') || 'none'}), ${r.alreadyApplied} already applied\n`);
      return 0;
    }
    case 'register-schema': {
      parseFlags(args, []);
      const id = await registerSchema(env);
      process.stdout.write(`${id}\n`);
      return 0;
    }
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    default:
      throw new UsageError(cmd === undefined ? 'no command given' : `unknown command ${JSON.stringify(argv.join(' '))}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      if (e instanceof UsageError) process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      else if (e instanceof ConfigError) process.stderr.write(`configuration error: ${e.message}\n`);
      else process.stderr.write(`rtds: ${e.stack ?? e.message}\n`);
      process.exit(2);
    },
  );
}

import { runIngest } from '../../../workloads/ingest/run';
import { decodeWith, unframe, valueSubject } from '../../../workloads/relay/avro';
import { userSchemaText } from '../../../workloads/relay/schema';
import { SchemaRegistry } from '../../../workloads/relay/registry';
import { startSource, RunningSource } from '../../../workloads/source/server';
import { setQuiet } from '../../../workloads/shared/log';
import { restart } from '../../../scripts/services/lifecycle';
import { consumeAll, endpoints, exited, freshDatabase, freshTopic, spawnCli, TestDatabase, waitFor, workloadEnvFor } from './harness';

jest.setTimeout(240_000);

let db: TestDatabase;
let topic: { name: string; remove(): Promise<void> };
let source: RunningSource;

beforeAll(async () => {
  setQuiet(true);
  db = await freshDatabase();
  topic = await freshTopic();
  source = await startSource({ port: 0, host: '127.0.0.1', ratePerSecond: 1000 });
});
afterAll(async () => {
  await source?.close();
  // The subject belongs to this throwaway topic: leave the registry as we found it.
  if (topic) await fetch(`${endpoints().schemaRegistry.url}/subjects/${valueSubject(topic.name)}`, { method: 'DELETE' }).catch(() => undefined);
  await topic?.remove();
  await db?.drop();
  setQuiet(false);
});

const cursor = async () => Number((await db.pool.query('SELECT last_seq FROM relay_cursor WHERE name = $1', [topic.name])).rows[0]?.last_seq ?? -1);
const maxSeq = async () => Number((await db.pool.query('SELECT coalesce(max(seq), 0) AS m FROM landing_users')).rows[0].m);
const landedIds = async () => new Set((await db.pool.query<{ id: string }>('SELECT id FROM landing_users')).rows.map((r) => r.id));

describe('relay against real PostgreSQL, Kafka and Schema Registry', () => {
  test('every landed user reaches Kafka, decodes with the registered schema, keys match ids; SIGKILL, restart and a PostgreSQL restart lose nothing', async () => {
    await runIngest({ pool: db.pool, sourceUrl: source.url, users: 30_000, seed: 'relay', fetch: { baseDelayMs: 50 } });
    const env = { ...workloadEnvFor(db.cfg, topic.name), HTTP_PORT: '0', RELAY_BATCH_SIZE: '500' };

    // First relay: killed without warning once it is part-way through.
    const first = spawnCli(['relay'], env);
    const partWay = await waitFor('the relay to be part-way', async () => {
      const c = await cursor();
      return c > 0 ? c : undefined;
    }, 90_000, 20);
    first.kill('SIGKILL');
    await exited(first);
    const afterKill = await cursor();
    expect(afterKill).toBeGreaterThanOrEqual(partWay);
    expect(afterKill).toBeLessThan(await maxSeq());

    // Second relay resumes from the committed cursor, rides out a PostgreSQL restart, and is
    // woken (LISTEN/NOTIFY after it reconnected) by users landing while it runs.
    const second = spawnCli(['relay'], env);
    try {
      await waitFor('the second relay to move the cursor', async () => ((await cursor()) > afterKill ? true : undefined), 90_000, 50);
      await restart('postgres');
      await runIngest({ pool: db.pool, sourceUrl: source.url, users: 5_000, seed: 'relay-later', fetch: { baseDelayMs: 50 } });
      const top = await maxSeq();
      await waitFor('the relay to catch up', async () => ((await cursor()) === top ? true : undefined), 120_000);
      const health = await waitFor('relay metrics', async () => {
        const m = /"port":(\d+)/.exec(second.output().split('\n').find((l) => l.includes('health and metrics listening')) ?? '');
        return m ? Number(m[1]) : undefined;
      });
      const metrics = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
      expect(metrics).toMatch(/rtds_relay_lag_rows 0\b/);
      expect((await fetch(`http://127.0.0.1:${health}/healthz`)).status).toBe(200);
      // It did lose PostgreSQL, and said so.
      expect(second.output()).toContain('relay loop failed, reconnecting');
    } finally {
      second.kill('SIGTERM');
      expect(await exited(second)).toBe(0);
    }

    const ids = await landedIds();
    expect(ids.size).toBe(35_000);
    const messages = await consumeAll(topic.name, ids.size);
    const registry = new SchemaRegistry(endpoints().schemaRegistry.url);
    const schemas = new Map<number, string>();
    const seen = new Set<string>();
    for (const m of messages) {
      const f = unframe(m.value);
      if (!f.ok) throw new Error(f.error);
      if (!schemas.has(f.value.schemaId)) schemas.set(f.value.schemaId, await registry.schemaById(f.value.schemaId));
      const decoded = decodeWith(schemas.get(f.value.schemaId)!, m.value);
      if (!decoded.ok) throw new Error(decoded.error);
      expect(decoded.value.id).toBe(m.key);
      seen.add(decoded.value.id);
    }
    // At-least-once on this hop: duplicates from the killed batch are allowed, losses are not.
    expect([...ids].filter((id) => !seen.has(id))).toEqual([]);
    expect(seen.size).toBe(ids.size);
    expect(messages.length).toBeGreaterThanOrEqual(ids.size);
    expect(messages.length - ids.size).toBeLessThanOrEqual(500 * 2);

    // The subject holds our schema with BACKWARD compatibility.
    expect(schemas.size).toBe(1);
    const subject = valueSubject(topic.name);
    expect(await registry.compatibility(subject)).toBe('BACKWARD');
    expect(JSON.parse([...schemas.values()][0])).toMatchObject({ name: 'User', namespace: 'rtdatastream' });
    // A BACKWARD-compatible evolution is accepted; dropping a field without default is not.
    const added = JSON.parse(userSchemaText());
    added.fields.push({ name: 'age', type: ['null', 'int'], default: null });
    expect(await registry.isCompatible(subject, JSON.stringify(added))).toBe(true);
    const changed = JSON.parse(userSchemaText());
    changed.fields.push({ name: 'required_new', type: 'string' });
    expect(await registry.isCompatible(subject, JSON.stringify(changed))).toBe(false);
  });

  test('a relay whose topic is missing says so in its log and moves no cursor, instead of waiting forever', async () => {
    await runIngest({ pool: db.pool, sourceUrl: source.url, users: 1000, seed: 'missing-topic', fetch: { baseDelayMs: 50 } });
    const missing = `${topic.name}_missing`;
    const relay = spawnCli(['relay'], { ...workloadEnvFor(db.cfg, missing), HTTP_PORT: '0', RELAY_BATCH_SIZE: '500', RELAY_SEND_TIMEOUT_MS: '3000' });
    try {
      const reason = `Kafka did not acknowledge 500 records to topic ${missing} within 3 s: is the topic there and the broker up?`;
      await waitFor('the relay to log the missing topic', async () => (relay.output().includes(reason) ? true : undefined), 90_000);
      expect(relay.output()).toContain('relay loop failed, reconnecting');
      const c = await db.pool.query('SELECT last_seq FROM relay_cursor WHERE name = $1', [missing]);
      expect(c.rows).toEqual([{ last_seq: '0' }]);
    } finally {
      relay.kill('SIGTERM');
      await exited(relay);
      await fetch(`${endpoints().schemaRegistry.url}/subjects/${valueSubject(missing)}`, { method: 'DELETE' }).catch(() => undefined);
    }
  });

  test('register-schema prints the same id on every call (idempotent)', async () => {
    const env = workloadEnvFor(db.cfg, topic.name);
    const a = spawnCli(['register-schema'], env);
    expect(await exited(a)).toBe(0);
    const b = spawnCli(['register-schema'], env);
    expect(await exited(b)).toBe(0);
    expect(a.output().trim()).toMatch(/^\d+$/);
    expect(b.output().trim()).toBe(a.output().trim());
  });
});

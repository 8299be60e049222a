/**
 * Manual check that a topic holds every landed user: reads it from the beginning, decodes
 * each message with the schema its id names in the registry, compares keys and ids with
 * landing_users. Uses .rtds/endpoints.json.
 *
 *   npx ts-node test/integration/workloads/verify-topic.ts [topic]
 */
import { Pool } from 'pg';
import { decodeWith, unframe } from '../../../workloads/relay/avro';
import { SchemaRegistry } from '../../../workloads/relay/registry';
import { consumeAll, endpoints } from './harness';

async function main(): Promise<void> {
  const topic = process.argv[2] ?? 'users_created';
  const e = endpoints();
  const pool = new Pool({ host: e.postgres.host, port: e.postgres.port, user: e.postgres.user, password: e.postgres.password, database: e.postgres.database });
  const ids = new Set((await pool.query<{ id: string }>('SELECT id FROM landing_users')).rows.map((r) => r.id));
  await pool.end();
  const t = Date.now();
  const messages = await consumeAll(topic, ids.size, 120_000);
  const registry = new SchemaRegistry(e.schemaRegistry.url);
  const schemas = new Map<number, string>();
  const seen = new Set<string>();
  let keyMismatch = 0;
  let undecodable = 0;
  for (const m of messages) {
    const f = unframe(m.value);
    if (!f.ok) { undecodable++; continue; }
    if (!schemas.has(f.value.schemaId)) schemas.set(f.value.schemaId, await registry.schemaById(f.value.schemaId));
    const d = decodeWith(schemas.get(f.value.schemaId)!, m.value);
    if (!d.ok) { undecodable++; continue; }
    if (d.value.id !== m.key) keyMismatch++;
    seen.add(d.value.id);
  }
  const missing = [...ids].filter((id) => !seen.has(id)).length;
  const report = { topic, landed: ids.size, messages: messages.length, distinctIds: seen.size, missing, duplicates: messages.length - seen.size - undecodable, keyMismatch, undecodable, schemaIds: [...schemas.keys()], readSeconds: (Date.now() - t) / 1000 };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  process.exit(missing === 0 && keyMismatch === 0 && undecodable === 0 ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(2);
});

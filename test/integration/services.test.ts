// The local services answer for real, with the credentials from endpoints.json, and refuse
// wrong ones. Started by test/integration/global-setup.ts.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { cassandraClient } from '../../workloads/shared/cassandra';
import { Kafka, logLevel } from 'kafkajs';
import { Client as PgClient } from 'pg';
import { LocalEndpoints, localPipelineConfig, readEndpoints, rtdsHome } from '../../scripts/services/endpoints';
import { down, restart, status, up } from '../../scripts/services/lifecycle';
import { freePort } from '../shared/ports';

jest.setTimeout(120_000);

let endpoints: LocalEndpoints;
const runId = `${Date.now()}-${process.pid}`;

beforeAll(() => {
  endpoints = readEndpoints();
});

describe('endpoints and secrets', () => {
  test('every service the integration tier needs is running', async () => {
    const rows = await status();
    for (const name of ['postgres', 'kafka', 'schema-registry', 'cassandra']) {
      expect(rows.find((r) => r.service === name)?.state).toBe('running');
    }
  });

  test('secrets.json and endpoints.json are readable by their owner only', () => {
    for (const file of ['secrets.json', 'endpoints.json']) {
      expect(fs.statSync(path.join(rtdsHome(), file)).mode & 0o777).toBe(0o600);
    }
  });

  test('services listen on loopback only', () => {
    expect(endpoints.postgres.host).toBe('127.0.0.1');
    expect(endpoints.kafka.bootstrapServers).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(new URL(endpoints.schemaRegistry.url).hostname).toBe('127.0.0.1');
    expect(endpoints.cassandra.contactPoints).toEqual(['127.0.0.1']);
  });

  test('a busy port fails `up` with a message naming the port, the service and the variable', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-busy-'));
    const saved = process.env.RTDS_SCHEMA_REGISTRY_PORT;
    process.env.RTDS_SCHEMA_REGISTRY_PORT = String(port);
    try {
      await expect(up({ only: ['schema-registry'], home, log: () => undefined })).rejects.toThrow(
        `port ${port} (schema-registry http) is already in use by another process: stop it or set RTDS_SCHEMA_REGISTRY_PORT to a free port`,
      );
    } finally {
      if (saved === undefined) delete process.env.RTDS_SCHEMA_REGISTRY_PORT;
      else process.env.RTDS_SCHEMA_REGISTRY_PORT = saved;
      blocker.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('PostgreSQL', () => {
  const connect = (user: string, password: string, database: string) =>
    new PgClient({ host: endpoints.postgres.host, port: endpoints.postgres.port, user, password, database });

  test('the pipeline role owns the pipeline database and can create tables', async () => {
    const client = connect(endpoints.postgres.user, endpoints.postgres.password, endpoints.postgres.database);
    await client.connect();
    try {
      const who = await client.query('SELECT current_user AS u, current_database() AS d, version() AS v');
      expect(who.rows[0]).toMatchObject({ u: 'pipeline', d: 'pipeline' });
      expect(who.rows[0].v).toMatch(/^PostgreSQL 15\./);
      const table = `services_test_${runId.replace(/\D/g, '_')}`;
      await client.query(`CREATE TEMP TABLE ${table} (n int)`);
      await client.query(`INSERT INTO ${table} SELECT generate_series(1, 10)`);
      expect((await client.query(`SELECT sum(n)::int AS s FROM ${table}`)).rows[0].s).toBe(55);
    } finally {
      await client.end();
    }
  });

  test('a wrong password is rejected', async () => {
    const client = connect(endpoints.postgres.user, `${endpoints.postgres.password}x`, endpoints.postgres.database);
    await expect(client.connect()).rejects.toMatchObject({ code: '28P01' });
  });

  test('the superuser from endpoints.json is a superuser', async () => {
    const client = connect(endpoints.postgres.superuser.user, endpoints.postgres.superuser.password, 'postgres');
    await client.connect();
    try {
      expect((await client.query("SELECT current_setting('is_superuser') AS s")).rows[0].s).toBe('on');
    } finally {
      await client.end();
    }
  });
});

describe('Kafka', () => {
  const kafka = () =>
    new Kafka({ clientId: `services-test-${runId}`, brokers: endpoints.kafka.bootstrapServers.split(','), logLevel: logLevel.NOTHING });

  test('the pipeline topics exist with the partitions the stacks give them, the dead-letter topic included', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const topic = localPipelineConfig().kafka.topic;
      const meta = await admin.fetchTopicMetadata({ topics: [topic.name, topic.deadLetterName] });
      const partitions = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
      expect(partitions).toEqual({ [topic.name]: topic.partitions, [topic.deadLetterName]: topic.partitions });
      expect(topic.partitions).toBe(3);
    } finally {
      await admin.disconnect();
    }
  });

  test('one message produced is consumed back with its key and value', async () => {
    const client = kafka();
    const topic = `services_test_${runId}`;
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    const producer = client.producer();
    const consumer = client.consumer({ groupId: `services-test-${runId}` });
    try {
      await producer.connect();
      const value = `hello ${runId}`;
      const [ack] = await producer.send({ topic, messages: [{ key: 'user-1', value }] });
      expect(ack.errorCode).toBe(0);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key: string; value: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 60 s')), 60_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve({ key: message.key!.toString(), value: message.value!.toString() });
          },
        });
      });
      expect(received).toEqual({ key: 'user-1', value });
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  test('topics are not created automatically', async () => {
    const producer = new Kafka({
      brokers: endpoints.kafka.bootstrapServers.split(','),
      logLevel: logLevel.NOTHING,
      retry: { retries: 2, initialRetryTime: 100 },
    }).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await expect(producer.send({ topic: `not_declared_${runId}`, messages: [{ value: 'x' }] })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
    const admin = kafka().admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(`not_declared_${runId}`);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('Schema Registry (Confluent API)', () => {
  const subject = `services-test-${runId}-value`;
  const base = () => endpoints.schemaRegistry.url;
  const call = async (method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(`${base()}${urlPath}`, {
      method,
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const user = (extra: object[] = []) =>
    JSON.stringify({ type: 'record', name: 'User', namespace: 'rtds.test', fields: [{ name: 'id', type: 'string' }, ...extra] });

  afterAll(async () => {
    await call('DELETE', `/subjects/${subject}`);
  });

  test('registers an Avro schema, serves it by id and enforces BACKWARD compatibility', async () => {
    expect(await call('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })).toEqual({
      status: 200,
      body: { compatibility: 'BACKWARD' },
    });
    const first = await call('POST', `/subjects/${subject}/versions`, { schema: user() });
    expect(first.status).toBe(200);
    const id = first.body.id as number;
    expect(Number.isInteger(id)).toBe(true);
    // The same schema again keeps its id.
    expect((await call('POST', `/subjects/${subject}/versions`, { schema: user() })).body.id).toBe(id);
    const byId = await call('GET', `/schemas/ids/${id}`);
    expect(JSON.parse(byId.body.schema as string)).toEqual(JSON.parse(user()));
    expect((await call('GET', `/config/${subject}`)).body.compatibilityLevel).toBe('BACKWARD');

    // A new field without a default cannot read old records: refused.
    const breaking = await call('POST', `/subjects/${subject}/versions`, { schema: user([{ name: 'age', type: 'int' }]) });
    expect(breaking.status).toBe(409);
    // With a default it can: accepted as version 2.
    const evolving = await call('POST', `/subjects/${subject}/versions`, {
      schema: user([{ name: 'age', type: 'int', default: 0 }]),
    });
    expect(evolving.status).toBe(200);
    const latest = await call('GET', `/subjects/${subject}/versions/latest`);
    expect(latest.body).toMatchObject({ subject, version: 2, id: evolving.body.id });
  });

  test("the same API answers under Apicurio's /apis/ccompat/v7 prefix", async () => {
    await call('POST', `/subjects/${subject}/versions`, { schema: user() });
    const res = await fetch(`${new URL(base()).origin}/apis/ccompat/v7/subjects/${subject}/versions`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(expect.arrayContaining([1]));
  });

  test('an invalid schema is refused with 422', async () => {
    const res = await call('POST', `/subjects/${subject}-bad/versions`, { schema: '{"type":"recordz"}' });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe(42201);
  });

  test('schema ids survive a restart of the registry', async () => {
    // A registry of its own (temporary home, free port), so the shared one is never interrupted.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-registry-'));
    const saved = process.env.RTDS_SCHEMA_REGISTRY_PORT;
    process.env.RTDS_SCHEMA_REGISTRY_PORT = String(await freePort());
    const quiet = { home, log: () => undefined };
    try {
      const { endpoints: own } = await up({ only: ['schema-registry'], ...quiet });
      const url = own.schemaRegistry!.url;
      const registered = await fetch(`${url}/subjects/${subject}/versions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: user() }),
      }).then((r) => r.json() as Promise<{ id: number }>);
      await restart('schema-registry', quiet);
      const res = await fetch(`${url}/schemas/ids/${registered.id}`);
      expect(res.status).toBe(200);
      expect(JSON.parse(((await res.json()) as { schema: string }).schema)).toEqual(JSON.parse(user()));
    } finally {
      await down({ only: ['schema-registry'], ...quiet });
      if (saved === undefined) delete process.env.RTDS_SCHEMA_REGISTRY_PORT;
      else process.env.RTDS_SCHEMA_REGISTRY_PORT = saved;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('Cassandra', () => {
  const connect = (username: string, password: string) =>
    cassandraClient({ ...endpoints.cassandra, username, password });

  test('the pipeline role creates a keyspace, writes and reads a row', async () => {
    const client = connect(endpoints.cassandra.username, endpoints.cassandra.password);
    const keyspace = `services_test_${runId.replace(/\D/g, '_')}`;
    await client.connect();
    try {
      const version = await client.execute('SELECT release_version FROM system.local');
      expect(version.rows[0].release_version).toMatch(/^5\.0\./);
      await client.execute(
        `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
      );
      await client.execute(`CREATE TABLE ${keyspace}.users (id text PRIMARY KEY, name text)`);
      await client.execute(`INSERT INTO ${keyspace}.users (id, name) VALUES (?, ?)`, ['u1', 'Ada'], { prepare: true });
      const row = await client.execute(`SELECT name FROM ${keyspace}.users WHERE id = ?`, ['u1'], { prepare: true });
      expect(row.rows[0].name).toBe('Ada');
    } finally {
      await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
      await client.shutdown();
    }
  });

  test('a wrong password is rejected', async () => {
    const client = connect(endpoints.cassandra.username, `${endpoints.cassandra.password}x`);
    await expect(client.connect()).rejects.toThrow(/Provided username pipeline and\/or password are incorrect/);
    await client.shutdown();
  });

  test('the default cassandra/cassandra superuser no longer logs in', async () => {
    const client = connect('cassandra', 'cassandra');
    await expect(client.connect()).rejects.toThrow(/incorrect/);
    await client.shutdown();
  });
});

import { cassandraConfig, kafkaConfig, postgresConfig, randomuserUrl, schemaRegistryUrl } from '../../../workloads/shared/config';
import { cqlStatements, readMigrations } from '../../../workloads/migrate/files';
import { assetPath } from '../../../workloads/shared/assets';
import { main, parseFlags } from '../../../workloads/cli';

const pg = { PGHOST: 'db', PGDATABASE: 'pipeline', PGUSER: 'ingest', PGPASSWORD: 'x' };

describe('workloads: configuration from the environment', () => {
  test('PostgreSQL uses the libpq names, port defaults to 5432', () => {
    expect(postgresConfig(pg)).toEqual({ host: 'db', port: 5432, database: 'pipeline', user: 'ingest', password: 'x' });
  });

  test('a missing or bad variable is named in the error', () => {
    expect(() => postgresConfig({ ...pg, PGPASSWORD: undefined })).toThrow('environment variable PGPASSWORD is missing or empty');
    expect(() => postgresConfig({ ...pg, PGPORT: '70000' })).toThrow('PGPORT="70000" is not a port number');
    expect(() => kafkaConfig({ KAFKA_BOOTSTRAP_SERVERS: 'kafka' })).toThrow('"kafka" is not host:port');
    expect(() => kafkaConfig({ KAFKA_BOOTSTRAP_SERVERS: 'k:9092', KAFKA_TOPIC: 'bad topic' })).toThrow('KAFKA_TOPIC="bad topic"');
    expect(() => schemaRegistryUrl({ SCHEMA_REGISTRY_URL: 'registry:8081' })).toThrow('SCHEMA_REGISTRY_URL');
    expect(() => cassandraConfig({ CASSANDRA_CONTACT_POINTS: 'c', CASSANDRA_USERNAME: 'u' })).toThrow('CASSANDRA_USERNAME and CASSANDRA_PASSWORD must be set together');
  });

  test('defaults: topic users_created, the bundled source, trailing slash trimmed from the registry URL', () => {
    expect(kafkaConfig({ KAFKA_BOOTSTRAP_SERVERS: 'a:1, b:2' })).toEqual({ bootstrapServers: ['a:1', 'b:2'], topic: 'users_created' });
    expect(randomuserUrl({})).toBe('http://127.0.0.1:8100/api/');
    expect(schemaRegistryUrl({ SCHEMA_REGISTRY_URL: 'http://r:8080/apis/ccompat/v7/' })).toBe('http://r:8080/apis/ccompat/v7');
  });

  test('the CLI rejects unknown commands and flags by name', async () => {
    await expect(main(['ingest', 'run', '--userz', '5'], {})).rejects.toThrow('unknown argument "--userz"');
    await expect(main(['ingest', 'run', '--users', '0'], {})).rejects.toThrow('--users must be an integer');
    await expect(main(['ingest', 'run', '--users', '5', '--nat', 'USA'], {})).rejects.toThrow('--nat must be comma-separated two-letter codes');
    await expect(main(['ingest', 'run', '--users', '5', '--batch-size', '9000'], {})).rejects.toThrow('--batch-size must be an integer from 1 to 5000');
    await expect(main(['frobnicate'], {})).rejects.toThrow('unknown command "frobnicate"');
    await expect(main(['ingest', 'run', '--users', '5'], {})).rejects.toThrow('PGHOST');
    expect(parseFlags(['--users=5', '--seed', 'abc'], ['users', 'seed'])).toEqual({ users: '5', seed: 'abc' });
  });
});

describe('workloads: migrations on disk', () => {
  test('postgres and cassandra migrations are numbered in order', () => {
    const pgm = readMigrations(assetPath('migrations/postgres'), '.sql');
    const cql = readMigrations(assetPath('migrations/cassandra'), '.cql');
    expect(pgm.ok && pgm.value.map((m) => m.version)).toEqual([1, 2, 3]);
    expect(cql.ok && cql.value[0].name).toBe('created_users');
  });

  test('CQL is split into statements without comments', () => {
    expect(cqlStatements('-- why\nCREATE TABLE a (x int);\n\nCREATE TABLE b (y int);\n')).toEqual(['CREATE TABLE a (x int)', 'CREATE TABLE b (y int)']);
  });
});

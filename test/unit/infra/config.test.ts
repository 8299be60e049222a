import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, configFields, configWith, DEFAULT_CONFIG, envNameFor, loadConfig } from '../../../config';

/** The ConfigError message of building a config from this overlay (fails the test if it is accepted). */
function rejection(overlay: object): string {
  try {
    configWith(overlay as never);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`config was accepted: ${JSON.stringify(overlay)}`);
}

describe('PipelineConfig validation rejects a bad value and names the field and the value', () => {
  it.each([
    ['port above 65535', { kafka: { hostPort: 70000 } }, /kafka\.hostPort: must be a port 1-65535.*\(got 70000\)/],
    ['negative port', { postgres: { hostPort: -1 } }, /postgres\.hostPort: .*\(got -1\)/],
    ['fractional port', { airflow: { hostPort: 80.5 } }, /airflow\.hostPort: .*\(got 80\.5\)/],
    ['replicas below 1', { cassandra: { replicas: 0 } }, /cassandra\.replicas: must be an integer >= 1 \(got 0\)/],
    ['no spark workers', { spark: { workers: 0 } }, /spark\.workers: must be an integer >= 1 \(got 0\)/],
    ['even ZooKeeper ensemble', { zookeeper: { replicas: 2 } }, /zookeeper\.replicas: a ZooKeeper ensemble needs an odd size.*\(got 2\)/],
    ['unknown kafka mode', { kafka: { mode: 'raft' } }, /kafka\.mode: must be one of 'zookeeper', 'kraft' \(got "raft"\)/],
    ['unknown console', { console: { kind: 'akhq' } }, /console\.kind: must be one of 'control-center', 'kafka-ui', 'none' \(got "akhq"\)/],
    ['unknown image mode', { imageMode: 'remote' }, /imageMode: must be one of 'upstream', 'local' \(got "remote"\)/],
    ['heap that does not fit the memory limit', { kafka: { resources: { memoryMiB: 900, heapMiB: 768 } } },
      /kafka\.resources\.memoryMiB: cannot fit kafka\.resources\.heapMiB \(768\) plus 256 MiB JVM overhead \(got 900\)/],
    ['spark worker memory above the container limit', { spark: { workerMemoryMiB: 4096 } }, /spark\.workerMemoryMiB: .*\(got 4096\)/],
    ['empty image tag', { postgres: { image: 'postgres:' } }, /postgres\.image: needs an explicit version tag \(name:tag\) \(got "postgres:"\)/],
    ['image without a tag', { cassandra: { image: 'cassandra' } }, /cassandra\.image: needs an explicit version tag/],
    ['empty image', { spark: { image: '' } }, /spark\.image: must name an image \(got ""\)/],
    ['image pinned to latest', { airflow: { image: 'apache/airflow:latest' } }, /airflow\.image: must be pinned to a version, not 'latest'/],
    ['replication above the broker count', { kafka: { replicas: 1, topic: { replicationFactor: 3 } } },
      /kafka\.topic\.replicationFactor: cannot exceed kafka\.replicas \(1\) \(got 3\)/],
    ['zero partitions', { kafka: { topic: { partitions: 0 } } }, /kafka\.topic\.partitions: must be an integer >= 1 \(got 0\)/],
    ['host bind that is not an address', { hostBind: 'localhost' }, /hostBind: must be an IPv4 address.*\(got "localhost"\)/],
    ['namespace that is not a DNS label', { kubernetes: { namespace: 'RT_Data' } }, /kubernetes\.namespace: must be a DNS-1123 label \(.*\) \(got "RT_Data"\)/],
    ['two services on one host port', { console: { hostPort: 8080 } }, /airflow\.hostPort: host port already used by console\.hostPort \(got 8080\)/],
    ['same database for Airflow and the landing data', { postgres: { airflowDatabase: 'pipeline' } }, /postgres\.airflowDatabase: must differ/],
    ['the superuser as pipeline role', { postgres: { landingUser: 'postgres' } }, /postgres\.landingUser: 'postgres' is the superuser/],
    ['identifier with SQL in it', { cassandra: { keyspace: 'x; DROP' } }, /cassandra\.keyspace: must be a lowercase identifier/],
    ['bad topic name', { kafka: { topic: { name: 'users created' } } }, /kafka\.topic\.name: must be a Kafka topic name/],
    ['dead-letter topic equal to the topic', { kafka: { topic: { deadLetterName: 'users_created' } } }, /kafka\.topic\.deadLetterName: must differ/],
    ['zero CPU', { postgres: { resources: { cpu: 0 } } }, /postgres\.resources\.cpu: must be a number of cores > 0 \(got 0\)/],
    ['CPU request above the limit', { cassandra: { resources: { requests: { cpu: 2 } } } },
      /cassandra\.resources\.requests\.cpu: cannot exceed the limit cassandra\.resources\.cpu \(1\) \(got 2\)/],
    ['memory request above the limit', { airflow: { resources: { memoryMiB: 1024, requests: { memoryMiB: 1500 } } } },
      /airflow\.resources\.requests\.memoryMiB: cannot exceed the limit airflow\.resources\.memoryMiB \(1024\) \(got 1500\)/],
    ['zero memory request', { kafka: { resources: { requests: { memoryMiB: 0 } } } }, /kafka\.resources\.requests\.memoryMiB: must be a whole number >= 1 \(got 0\)/],
    ['no host port left for the last broker', { kafka: { hostPort: 65535 } }, /kafka\.hostPort: leaves no port for broker 2: brokers are advertised at hostPort \+ their ordinal \(got 65535\)/],
    ['Control Center with local images', { imageMode: 'local' }, /console\.kind: imageMode 'local' cannot build Control Center .*: use 'none' \(no console\), or 'kafka-ui' if you provide a kafka-ui image \(got "control-center"\)/],
    ['DAG folder outside the repository', { airflow: { dagsDir: '../elsewhere' } }, /airflow\.dagsDir: must be a folder inside the repository/],
    ['randomuser URL that is not http', { workloads: { randomuserUrl: 'ftp://x' } }, /workloads\.randomuserUrl: must be an http\(s\) URL/],
    ['unknown field', { kafka: { brokers: 3 } }, /kafka\.brokers: unknown field \(value 3\)/],
    ['wrong type', { kafka: { replicas: '3' } }, /kafka\.replicas: expected a number, got "3"/],
  ])('%s', (_name, overlay, message) => {
    expect(rejection(overlay)).toMatch(message);
  });

  it('reports every problem at once, not only the first', () => {
    const message = rejection({ zookeeper: { replicas: 4 }, kafka: { hostPort: 0.5, mode: 'x' } });
    expect(message).toMatch(/zookeeper\.replicas/);
    expect(message).toMatch(/kafka\.hostPort/);
    expect(message).toMatch(/kafka\.mode/);
  });

  it('accepts the defaults and the documented alternatives', () => {
    expect(configWith()).toEqual(DEFAULT_CONFIG);
    expect(configWith({ kafka: { mode: 'kraft' }, console: { kind: 'kafka-ui' }, imageMode: 'local' }).kafka.mode).toBe('kraft');
    expect(configWith({ kafka: { hostPort: 0 } }).kafka.hostPort).toBe(0);
  });

  it("accepts console.kind 'none' in both image modes, and its unused port clashes with nothing", () => {
    expect(configWith({ imageMode: 'local', console: { kind: 'none' } }).console.kind).toBe('none');
    expect(loadConfig({ env: { RTDS_IMAGE_MODE: 'local', RTDS_CONSOLE_KIND: 'none' }, cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-none-')) }).console.kind).toBe('none');
    expect(configWith({ console: { kind: 'none', hostPort: 8080 } }).console.hostPort).toBe(8080);
  });

  it('no longer has spark.packages: a config file that sets it is told the field is unknown', () => {
    expect(rejection({ spark: { packages: 'org.example:x:1' } } as never)).toMatch(/spark\.packages: unknown field/);
  });
});

describe('loadConfig layers defaults, the config file and RTDS_* environment', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-config-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses the defaults when there is no file and no variable', () => {
    expect(loadConfig({ env: {}, cwd: dir })).toEqual(DEFAULT_CONFIG);
  });

  it('reads ./rtds.config.json when present, and the environment wins over it', () => {
    fs.writeFileSync(path.join(dir, 'rtds.config.json'), JSON.stringify({ kafka: { mode: 'kraft', replicas: 5 }, spark: { workers: 2 } }));
    const config = loadConfig({ env: { RTDS_KAFKA_REPLICAS: '1', RTDS_KAFKA_TOPIC_REPLICATION_FACTOR: '1' }, cwd: dir });
    expect(config.kafka.mode).toBe('kraft');
    expect(config.kafka.replicas).toBe(1);
    expect(config.spark.workers).toBe(2);
    expect(config.kafka.topic.replicationFactor).toBe(1);
  });

  it('reads the file named by RTDS_CONFIG, relative to the working directory', () => {
    fs.writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ console: { kind: 'kafka-ui' } }));
    expect(loadConfig({ env: { RTDS_CONFIG: 'other.json' }, cwd: dir }).console.kind).toBe('kafka-ui');
  });

  it('fails with the path when RTDS_CONFIG names a missing or broken file', () => {
    expect(() => loadConfig({ env: { RTDS_CONFIG: 'missing.json' }, cwd: dir })).toThrow(/RTDS_CONFIG: cannot read .*missing\.json/);
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ "kafka": ');
    expect(() => loadConfig({ env: { RTDS_CONFIG: 'broken.json' }, cwd: dir })).toThrow(/RTDS_CONFIG: cannot read .*broken\.json/);
  });

  it('validates values that come from the environment, naming the variable', () => {
    expect(() => loadConfig({ env: { RTDS_ZOOKEEPER_REPLICAS: '2' }, cwd: dir })).toThrow(/zookeeper\.replicas: .*odd.*\(got 2\)/);
    expect(() => loadConfig({ env: { RTDS_SPARK_WORKERS: 'two' }, cwd: dir }))
      .toThrow(/spark\.workers \(from RTDS_SPARK_WORKERS\): expected a number, got "two"/);
    expect(loadConfig({ env: { RTDS_KUBERNETES_CHOWN_VOLUMES: 'false' }, cwd: dir }).kubernetes.chownVolumes).toBe(false);
    expect(() => loadConfig({ env: { RTDS_KUBERNETES_CHOWN_VOLUMES: 'no' }, cwd: dir }))
      .toThrow(/kubernetes\.chownVolumes \(from RTDS_KUBERNETES_CHOWN_VOLUMES\): expected true or false, got "no"/);
    expect(loadConfig({ env: { RTDS_KAFKA_RESOURCES_REQUESTS_MEMORY_MIB: '640' }, cwd: dir }).kafka.resources.requests).toEqual({ cpu: 0.1, memoryMiB: 640 });
  });

  it('gives every field its own RTDS_ variable, none clashing with the local services\' RTDS_<SERVICE>_PORT', () => {
    const names = configFields().map((f) => envNameFor(f.path));
    expect(new Set(names).size).toBe(names.length);
    expect(envNameFor('kafka.topic.replicationFactor')).toBe('RTDS_KAFKA_TOPIC_REPLICATION_FACTOR');
    expect(envNameFor('schemaRegistry.hostPort')).toBe('RTDS_SCHEMA_REGISTRY_HOST_PORT');
    expect(envNameFor('kafka.resources.memoryMiB')).toBe('RTDS_KAFKA_RESOURCES_MEMORY_MIB');
    expect(names.filter((n) => /^RTDS_[A-Z]+_PORT$/.test(n) || n === 'RTDS_HOME' || n === 'RTDS_CONFIG')).toEqual([]);
  });
});

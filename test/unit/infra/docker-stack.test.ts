import { addressByName, byName, dockerEnv, synthBoth, TerraformJson } from './synth';

let docker: TerraformJson;
let containers: Record<string, any>;
let addresses: Record<string, string>;
const idOf = (name: string) => addresses[name];

beforeAll(() => {
  docker = synthBoth().docker;
  containers = byName(docker, 'docker_container');
  addresses = addressByName(docker, 'docker_container');
});

describe('Docker stack', () => {
  it('puts every container on one network under its service name', () => {
    expect(Object.keys(docker.resource.docker_network)).toHaveLength(1);
    for (const c of Object.values(containers)) {
      expect(c.networks_advanced).toHaveLength(1);
      expect(c.networks_advanced[0].aliases).toEqual([c.hostname]);
    }
  });

  it('gives every long-running container a health check and waits for it; one-shot jobs run to completion', () => {
    const jobs = ['kafka-topics', 'register-schema', 'postgres-migrate', 'cassandra-auth', 'cassandra-migrate', 'airflow-init'];
    for (const [name, c] of Object.entries(containers)) {
      const service = name.replace(/^rtds-/, '');
      if (jobs.includes(service)) {
        expect({ service, attach: c.attach, mustRun: c.must_run, restart: c.restart }).toEqual({ service, attach: true, mustRun: false, restart: 'no' });
        // A failed job stops `apply` instead of letting its dependents start.
        expect(c.lifecycle.postcondition[0].condition).toBe('${self.exit_code == 0}');
      } else {
        expect({ service, wait: c.wait, test: c.healthcheck?.test?.length > 0 }).toEqual({ service, wait: true, test: true });
      }
    }
  });

  it('publishes only ports that have a host port, so nothing lands on a random port of every interface', () => {
    for (const [name, c] of Object.entries(containers)) {
      for (const p of c.ports ?? []) expect({ name, ...p }).toEqual({ name, internal: expect.any(Number), external: expect.any(Number), ip: '127.0.0.1' });
    }
    expect(containers['rtds-kafka'].ports).toEqual([{ internal: 9092, external: 9092, ip: '127.0.0.1' }]);
  });

  it('binds published ports to 127.0.0.1 by default and to hostBind when set', () => {
    const published = Object.values(containers).flatMap((c: any) => (c.ports ?? []).map((p: any) => `${c.name} ${p.ip}:${p.external}`)).sort();
    expect(published).toEqual([
      'rtds-airflow-api-server 127.0.0.1:8080', 'rtds-cassandra 127.0.0.1:9042', 'rtds-control-center 127.0.0.1:9021', 'rtds-ingest 127.0.0.1:8000',
      'rtds-kafka 127.0.0.1:9092', 'rtds-postgres 127.0.0.1:5432', 'rtds-relay 127.0.0.1:8001', 'rtds-schema-registry 127.0.0.1:8081',
      'rtds-source 127.0.0.1:8100', 'rtds-spark-master 127.0.0.1:7077', 'rtds-spark-master 127.0.0.1:8090', 'rtds-zookeeper 127.0.0.1:2181',
    ]);
    const open = byName(synthBoth({ hostBind: '0.0.0.0' }).docker, 'docker_container');
    expect(open['rtds-airflow-api-server'].ports).toEqual([{ internal: 8080, external: 8080, ip: '0.0.0.0' }]);
  });

  it('gives every stateful service a named volume', () => {
    const volumes = Object.values(docker.resource.docker_volume).map((v: any) => v.name).sort();
    expect(volumes).toEqual(['rtds-cassandra-data', 'rtds-kafka-data', 'rtds-postgres-data', 'rtds-users-stream-state',
      'rtds-zookeeper-data', 'rtds-zookeeper-log']);
    expect(containers['rtds-postgres'].volumes).toEqual([{ container_path: '/var/lib/postgresql/data', volume_name: expect.stringMatching(/^\$\{docker_volume\./) }]);
  });

  it('sets memory and CPU limits on every container', () => {
    const limits = Object.fromEntries(Object.values(containers).map((c: any) => [c.name.replace(/^rtds-/, ''), `${c.memory} MiB, ${c.cpus} CPU`]));
    const jvm2g = '2048 MiB, 1.0 CPU';
    const small = '512 MiB, 0.5 CPU';
    expect(limits).toEqual({
      'airflow-api-server': jvm2g, 'airflow-dag-processor': jvm2g, 'airflow-init': jvm2g, 'airflow-scheduler': jvm2g,
      cassandra: '3072 MiB, 1.0 CPU', 'cassandra-auth': small, 'cassandra-migrate': small, 'control-center': jvm2g, ingest: small,
      kafka: '1536 MiB, 1.0 CPU', 'kafka-topics': small, postgres: '1024 MiB, 1.0 CPU', 'postgres-migrate': small, 'register-schema': small,
      relay: small, 'schema-registry': '768 MiB, 0.5 CPU', source: small, 'spark-master': jvm2g, 'spark-worker': jvm2g, 'users-stream': jvm2g,
      zookeeper: '768 MiB, 0.5 CPU',
    });
    expect(containers['rtds-cassandra'].memory).toBe(3072);
    expect(containers['rtds-cassandra'].memory_swap).toBe(3072);
    expect(containers['rtds-cassandra'].cpus).toBe('1.0');
    expect(containers['rtds-zookeeper'].cpus).toBe('0.5');
  });

  it('lays out Kafka listeners as cp-all-in-one: kafka:29092 inside, localhost:9092 published', () => {
    const kafka = containers['rtds-kafka'];
    expect(dockerEnv(kafka).KAFKA_LISTENERS).toBe('PLAINTEXT://0.0.0.0:29092,PLAINTEXT_HOST://0.0.0.0:9092');
    // Broker `ord` (0, the only one on Docker) is advertised at the host port + ord.
    expect(kafka.entrypoint.join(' ')).toContain('KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://$RTDS_SELF_HOST:29092,PLAINTEXT_HOST://localhost:$((9092 + ord))"');
    expect(dockerEnv(kafka).RTDS_SELF_HOST).toBe('kafka');
    expect(dockerEnv(kafka).KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
    expect(kafka.ports).toContainEqual({ internal: 9092, external: 9092, ip: '127.0.0.1' });
    expect(kafka.depends_on).toEqual([idOf('rtds-zookeeper')]);
  });

  it('creates users_created and its dead-letter topic from config once Kafka is healthy', () => {
    const topics = containers['rtds-kafka-topics'];
    const script = topics.entrypoint.join(' ');
    expect(script).toContain('--create --if-not-exists --topic users_created --partitions 3 --replication-factor 1');
    expect(script).toContain('--topic users_created_dlq --partitions 3');
    expect(topics.depends_on).toEqual([idOf('rtds-kafka')]);
    const seven = byName(synthBoth({ kafka: { topic: { partitions: 7 } } }).docker, 'docker_container')['rtds-kafka-topics'];
    expect(seven.entrypoint.join(' ')).toContain('--topic users_created --partitions 7');
  });

  it('runs KRaft without ZooKeeper when kafka.mode is kraft', () => {
    const kraft = byName(synthBoth({ kafka: { mode: 'kraft' } }).docker, 'docker_container');
    expect(kraft['rtds-zookeeper']).toBeUndefined();
    const env = dockerEnv(kraft['rtds-kafka']);
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('0@kafka:29093');
    expect(env.CLUSTER_ID).toMatch(/^\$\{random_id\.[^}]+\.b64_url\}$/);
    expect(kraft['rtds-kafka'].entrypoint.join(' ')).toContain('/etc/kafka/docker/run');
    expect(kraft['rtds-kafka-topics'].entrypoint.join(' ')).toContain('/opt/kafka/bin/kafka-topics.sh');
  });

  it('pulls the pinned upstream images by default and builds the project images on them', () => {
    const images = Object.values(docker.resource.docker_image).map((i: any) => i.name).sort();
    expect(images).toEqual([
      'cassandra:5.0.6',
      'confluentinc/cp-enterprise-control-center:7.9.2', 'confluentinc/cp-kafka:7.9.2', 'confluentinc/cp-schema-registry:7.9.2',
      'confluentinc/cp-zookeeper:7.9.2', 'postgres:17.12',
      'rtdatastream/airflow-app:3.3.2-0.1.0', 'rtdatastream/spark-app:3.5.7-0.1.0', 'rtdatastream/workloads:0.1.0',
    ]);
    const workloads = Object.values(docker.resource.docker_image).find((i: any) => i.name.startsWith('rtdatastream/workloads')) as any;
    // NODE_IMAGE comes from config/facts: workloads/Dockerfile names no version of its own.
    expect(workloads.build).toEqual({ context: '${path.module}/../../..', dockerfile: 'workloads/Dockerfile', build_args: { NODE_IMAGE: 'node:24.21.0-bookworm-slim' } });
    // Terraform hashes the sources at plan time, so an edit under workloads/ rebuilds the image.
    expect(workloads.triggers.source_sha1).toMatch(/^\$\{sha1\(join\("", \[for f in sort\(setunion\(fileset\("\$\{path\.module\}\/\.\.\/\.\.\/\.\.", "workloads\/\*\*"\)/);
  });

  it('builds spark-app on the upstream Spark image and airflow-app on the upstream Airflow image', () => {
    const images = byName(docker, 'docker_image');
    expect(images['rtdatastream/spark-app:3.5.7-0.1.0'].build).toEqual({
      context: '${path.module}/../../..',
      dockerfile: 'images/spark-app/Dockerfile',
      build_args: {
        SPARK_IMAGE: 'apache/spark:3.5.7-scala2.12-java17-python3-ubuntu', APPS_DIR: 'spark-apps',
        COPY_DEPENDENCIES: 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
      },
    });
    expect(images['rtdatastream/airflow-app:3.3.2-0.1.0'].build).toEqual({
      context: '${path.module}/../../..',
      dockerfile: 'images/airflow-app/Dockerfile',
      build_args: { AIRFLOW_IMAGE: 'apache/airflow:3.3.2-python3.11', DAGS_DIR: 'dags', AIRFLOW_CONSTRAINTS: 'constraints/airflow-3.3.2-py3.11.txt' },
    });
    // A pulled base has no resource of its own: the build pulls it.
    expect(images['rtdatastream/spark-app:3.5.7-0.1.0'].depends_on).toBeUndefined();
    expect(images['rtdatastream/airflow-app:3.3.2-0.1.0'].triggers.source_sha1).toContain('"constraints/airflow-3.3.2-py3.11.txt"');
    expect(images['rtdatastream/airflow-app:3.3.2-0.1.0'].triggers.source_sha1).toContain('"dags/*.py"');
    expect(images['rtdatastream/spark-app:3.5.7-0.1.0'].triggers.source_sha1).toContain('"spark-apps/jars/pom.xml"');
    const imageAt = addressByName(docker, 'docker_image');
    const sparkImage = `\${${imageAt['rtdatastream/spark-app:3.5.7-0.1.0']}.image_id}`;
    for (const name of ['rtds-spark-master', 'rtds-spark-worker', 'rtds-users-stream']) expect(containers[name].image).toBe(sparkImage);
    const airflowImage = `\${${imageAt['rtdatastream/airflow-app:3.3.2-0.1.0']}.image_id}`;
    for (const name of ['rtds-airflow-init', 'rtds-airflow-api-server', 'rtds-airflow-scheduler', 'rtds-airflow-dag-processor'])
      expect(containers[name].image).toBe(airflowImage);
  });

  it('tags the app images with the component version and the project version', () => {
    const images = byName(synthBoth({ version: '1.2.3', spark: { image: 'apache/spark:3.5.6-scala2.12-java17-python3-ubuntu' } }).docker, 'docker_image');
    expect(Object.keys(images)).toEqual(expect.arrayContaining(['rtdatastream/spark-app:3.5.6-1.2.3', 'rtdatastream/airflow-app:3.3.2-1.2.3']));
  });

  it("builds every component image from images/<component> in imageMode 'local', the app images on top of them", () => {
    const local = synthBoth({ imageMode: 'local', console: { kind: 'kafka-ui' } }).docker;
    const images = Object.values(local.resource.docker_image) as any[];
    expect(images.every((i) => i.build)).toBe(true);
    expect(images.map((i) => `${i.name} <- ${i.build.context}`).sort()).toEqual([
      'rtdatastream/airflow-app:3.3.2-0.1.0 <- ${path.module}/../../..',
      'rtdatastream/airflow:3.3.2 <- ${path.module}/../../../images/airflow',
      'rtdatastream/cassandra:5.0.6 <- ${path.module}/../../../images/cassandra',
      'rtdatastream/kafka-ui:v1.2.0 <- ${path.module}/../../../images/kafka-ui',
      'rtdatastream/kafka:7.9.2 <- ${path.module}/../../../images/kafka',
      'rtdatastream/postgres:17.12 <- ${path.module}/../../../images/postgres',
      'rtdatastream/schema-registry:7.9.2 <- ${path.module}/../../../images/schema-registry',
      'rtdatastream/spark-app:3.5.7-0.1.0 <- ${path.module}/../../..',
      'rtdatastream/spark:3.5.7 <- ${path.module}/../../../images/spark',
      'rtdatastream/workloads:0.1.0 <- ${path.module}/../../..',
      'rtdatastream/zookeeper:7.9.2 <- ${path.module}/../../../images/zookeeper',
    ]);
    const byTag = byName(local, 'docker_image');
    const imageAt = addressByName(local, 'docker_image');
    const sparkApp = byTag['rtdatastream/spark-app:3.5.7-0.1.0'];
    expect(sparkApp.build.build_args.SPARK_IMAGE).toBe('rtdatastream/spark:3.5.7');
    // The local base is built first, and rebuilding it rebuilds the app image on top.
    expect(sparkApp.depends_on).toEqual([imageAt['rtdatastream/spark:3.5.7']]);
    expect(sparkApp.triggers.base_image_id).toBe(`\${${imageAt['rtdatastream/spark:3.5.7']}.image_id}`);
    const airflowApp = byTag['rtdatastream/airflow-app:3.3.2-0.1.0'];
    expect(airflowApp.build.build_args.AIRFLOW_IMAGE).toBe('rtdatastream/airflow:3.3.2');
    expect(airflowApp.depends_on).toEqual([imageAt['rtdatastream/airflow:3.3.2']]);
  });

  it("runs Apicurio in imageMode 'local': every client gets its Confluent-compatible path, schemas persist in H2 on a volume", () => {
    const { docker: local, kubernetes } = synthBoth({ imageMode: 'local', console: { kind: 'kafka-ui' } });
    const c = byName(local, 'docker_container');
    const ccompat = 'http://schema-registry:8081/apis/ccompat/v7';
    for (const client of ['rtds-relay', 'rtds-register-schema', 'rtds-users-stream', 'rtds-airflow-scheduler'])
      expect({ client, url: dockerEnv(c[client]).SCHEMA_REGISTRY_URL }).toEqual({ client, url: ccompat });
    expect(dockerEnv(c['rtds-kafka-ui']).KAFKA_CLUSTERS_0_SCHEMAREGISTRY).toBe(ccompat);
    const sr = c['rtds-schema-registry'];
    const env = dockerEnv(sr);
    expect(env).toMatchObject({ HTTP_PORT: '8081', REGISTRY_DATASOURCE_URL: 'jdbc:h2:file:/var/lib/schema-registry/registry' });
    expect(env.JAVA_OPTS).toContain('-Dregistry.rules.global.compatibility=BACKWARD');
    expect(env.REGISTRY_DATASOURCE_PASSWORD).toMatch(/^\$\{random_password\.[^}]+\.result\}$/);
    expect(Object.keys(env).filter((k) => k.startsWith('SCHEMA_REGISTRY_'))).toEqual([]);
    expect(sr.volumes.map((v: any) => v.container_path)).toEqual(['/var/lib/schema-registry']);
    expect(sr.healthcheck.test).toEqual(['CMD-SHELL', 'curl -fsS -o /dev/null http://localhost:8081/apis/ccompat/v7/subjects']);
    const statefulSets = Object.values(kubernetes.resource.kubernetes_stateful_set_v1).map((s: any) => s.metadata.name);
    expect(statefulSets).toContain('schema-registry');
    // Upstream keeps Confluent's registry: schemas in Kafka, the API at the root.
    expect(dockerEnv(containers['rtds-relay']).SCHEMA_REGISTRY_URL).toBe('http://schema-registry:8081');
    expect(containers['rtds-schema-registry'].volumes).toBeUndefined();
  });

  it('wires ingest and relay to the landing database, Kafka and the Schema Registry with the DEVELOPERS.md names', () => {
    const relay = dockerEnv(containers['rtds-relay']);
    expect(relay).toMatchObject({
      PGHOST: 'postgres', PGPORT: '5432', PGDATABASE: 'pipeline', PGUSER: 'pipeline',
      KAFKA_BOOTSTRAP_SERVERS: 'kafka:29092', SCHEMA_REGISTRY_URL: 'http://schema-registry:8081', KAFKA_TOPIC: 'users_created', HTTP_PORT: '8001',
    });
    expect(relay.PGPASSWORD).toMatch(/^\$\{random_password\.[^}]+\.result\}$/);
    const ingest = dockerEnv(containers['rtds-ingest']);
    expect(ingest.RANDOMUSER_URL).toBe('http://source:8100/api/');
    expect(ingest.PGPASSWORD).toBe(relay.PGPASSWORD);
    expect(containers['rtds-ingest'].command).toEqual(['ingest', 'serve']);
    expect(containers['rtds-ingest'].depends_on).toEqual([idOf('rtds-postgres-migrate'), idOf('rtds-source')]);
    expect(containers['rtds-relay'].depends_on).toEqual([idOf('rtds-postgres-migrate'), idOf('rtds-register-schema')]);
    expect(containers['rtds-postgres-migrate'].command).toEqual(['migrate', 'postgres']);
  });

  it('starts the Airflow scheduler, which runs the DAG at once, only after everything the DAG calls and counts is up', () => {
    expect(containers['rtds-airflow-scheduler'].depends_on).toEqual(expect.arrayContaining(
      ['rtds-airflow-init', 'rtds-airflow-api-server', 'rtds-ingest', 'rtds-relay', 'rtds-users-stream', 'rtds-kafka-topics', 'rtds-cassandra-migrate'].map(idOf)));
  });

  it('creates the landing and Airflow databases with separate roles in an init script', () => {
    const pg = containers['rtds-postgres'];
    const env = dockerEnv(pg);
    expect(env).toMatchObject({ LANDING_DB: 'pipeline', LANDING_USER: 'pipeline', AIRFLOW_DB: 'airflow', AIRFLOW_DB_USER: 'airflow' });
    expect(new Set([env.POSTGRES_PASSWORD, env.LANDING_PASSWORD, env.AIRFLOW_DB_PASSWORD]).size).toBe(3);
    expect(pg.upload).toHaveLength(1);
    expect(pg.upload[0].file).toBe('/docker-entrypoint-initdb.d/10-rtds-databases.sh');
    expect(pg.upload[0].content).toContain('CREATE DATABASE :"landing_db" OWNER :"landing_user"');
    expect(pg.upload[0].content).toContain('CREATE DATABASE :"airflow_db" OWNER :"airflow_user"');
    expect(pg.healthcheck.test).toEqual(['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres']);
  });

  it('runs Airflow 3: init job first, then API server on 8080, scheduler and DAG processor, the DAGs baked into the image', () => {
    const init = containers['rtds-airflow-init'];
    expect(dockerEnv(init)).toMatchObject({ _AIRFLOW_DB_MIGRATE: 'true', _AIRFLOW_WWW_USER_CREATE: 'true', _AIRFLOW_WWW_USER_USERNAME: 'admin' });
    expect(init.depends_on).toEqual([idOf('rtds-postgres')]);
    const api = containers['rtds-airflow-api-server'];
    expect(api.command).toEqual(['api-server']);
    expect(api.ports).toEqual([{ internal: 8080, external: 8080, ip: '127.0.0.1' }]);
    expect(api.healthcheck.test).toEqual(['CMD-SHELL', 'curl -fsS -o /dev/null http://localhost:8080/api/v2/version']);
    expect(api.depends_on).toEqual([idOf('rtds-airflow-init')]);
    expect(containers['rtds-airflow-scheduler'].command).toEqual(['scheduler']);
    expect(containers['rtds-airflow-dag-processor'].command).toEqual(['dag-processor']);
    const env = dockerEnv(api);
    expect(env).toMatchObject({ INGEST_URL: 'http://ingest:8000', AIRFLOW__CORE__EXECUTOR: 'LocalExecutor', PIPELINE_USERS_PER_RUN: '1000' });
    expect(env.AIRFLOW__DATABASE__SQL_ALCHEMY_CONN).toMatch(/^postgresql\+psycopg2:\/\/airflow:\$\{random_password\.[^}]+\.result\}@postgres:5432\/airflow$/);
    expect(env.AIRFLOW__CORE__FERNET_KEY).toMatch(/^\$\{random_id\.[^}]+\.b64_url\}=$/);
    expect(api.upload).toBeUndefined();
  });

  it('runs the Spark master, workers and the streaming driver with the app baked in, downloading nothing at start', () => {
    expect(containers['rtds-spark-master'].entrypoint.slice(0, 2)).toEqual(['/opt/spark/bin/spark-class', 'org.apache.spark.deploy.master.Master']);
    expect(containers['rtds-spark-worker'].entrypoint.join(' ')).toContain('org.apache.spark.deploy.worker.Worker --cores 1 --memory 1024m');
    const two = byName(synthBoth({ spark: { workers: 2 } }).docker, 'docker_container');
    expect(Object.keys(two).filter((n) => n.startsWith('rtds-spark-worker')).sort()).toEqual(['rtds-spark-worker-1', 'rtds-spark-worker-2']);
    const driver = containers['rtds-users-stream'];
    const submit = driver.entrypoint.join(' ');
    expect(submit).toContain('spark-submit --master spark://spark-master:7077');
    expect(submit).toContain('--py-files /opt/spark-apps/users_transform.py /opt/spark-apps/users_stream.py');
    for (const name of ['rtds-spark-master', 'rtds-spark-worker', 'rtds-users-stream']) {
      const command = containers[name].entrypoint.join(' ');
      expect({ name, packages: command.includes('--packages'), pip: /\bpip\b/.test(command), ivy: command.includes('ivy') })
        .toEqual({ name, packages: false, pip: false, ivy: false });
    }
    expect(dockerEnv(driver)).toMatchObject({
      KAFKA_BOOTSTRAP_SERVERS: 'kafka:29092', SCHEMA_REGISTRY_URL: 'http://schema-registry:8081', KAFKA_TOPIC: 'users_created',
      DEAD_LETTER_TOPIC: 'users_created_dlq', CASSANDRA_HOST: 'cassandra', CASSANDRA_PORT: '9042', CASSANDRA_USERNAME: 'pipeline',
      CHECKPOINT_DIR: '/opt/spark/work-dir/checkpoints',
    });
    expect(driver.upload).toBeUndefined();
    expect(driver.depends_on).toEqual([idOf('rtds-spark-worker'), idOf('rtds-kafka-topics'), idOf('rtds-register-schema'), idOf('rtds-cassandra-migrate')]);
  });

  it('turns Cassandra authentication on and secures it before the keyspace migration runs', () => {
    const cassandra = containers['rtds-cassandra'];
    expect(cassandra.entrypoint.join(' ')).toContain('s/AllowAllAuthenticator/PasswordAuthenticator/');
    expect(dockerEnv(cassandra)).toMatchObject({ CASSANDRA_DC: 'datacenter1', CASSANDRA_SEEDS: 'cassandra', MAX_HEAP_SIZE: '1024M' });
    const auth = containers['rtds-cassandra-auth'];
    expect(auth.depends_on).toEqual([idOf('rtds-cassandra')]);
    expect(auth.entrypoint.join(' ')).toContain('GRANT CREATE ON ALL KEYSPACES TO $PIPELINE_USER');
    // Retries the new admin password while Cassandra's auth cache still holds the old one, then fails by name.
    expect(auth.entrypoint[2]).toMatch(/if \[ "\$ready" = rotated \]; then\n\s+for \(\(attempt = 1; ; attempt\+\+\)\); do\n\s+admin_login && break/);
    expect(auth.entrypoint[2]).toContain('the new admin password is still refused');
    expect(dockerEnv(auth)).toMatchObject({ LOGIN_ATTEMPTS: '24', AUTH_CACHE_ATTEMPTS: '30' });
    const migrate = containers['rtds-cassandra-migrate'];
    expect(migrate.command).toEqual(['migrate', 'cassandra']);
    expect(migrate.depends_on).toEqual([idOf('rtds-cassandra-auth')]);
    expect(dockerEnv(migrate)).toMatchObject({ CASSANDRA_CONTACT_POINTS: 'cassandra', CASSANDRA_USERNAME: 'pipeline', CASSANDRA_LOCAL_DC: 'datacenter1' });
    expect(dockerEnv(migrate).CASSANDRA_PASSWORD).toBe(dockerEnv(auth).PIPELINE_PASSWORD);
  });

  it("deploys no console with console.kind 'none', and says so in no output", () => {
    const none = synthBoth({ console: { kind: 'none' } }).docker;
    const names = Object.keys(byName(none, 'docker_container'));
    expect(names.filter((n) => /control-center|kafka-ui/.test(n))).toEqual([]);
    expect(names).toHaveLength(Object.keys(containers).length - 1);
    expect(none.output?.console_url).toBeUndefined();
    expect(docker.output?.console_url.value).toBe('http://127.0.0.1:9021');
  });

  it('offers kafka-ui instead of Control Center', () => {
    const ui = byName(synthBoth({ console: { kind: 'kafka-ui' } }).docker, 'docker_container');
    expect(ui['rtds-control-center']).toBeUndefined();
    expect(ui['rtds-kafka-ui'].image).toMatch(/docker_image\.platform_image-kafbat-kafka-ui-v1-2-0/);
    expect(dockerEnv(ui['rtds-kafka-ui'])).toMatchObject({ KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS: 'kafka:29092', KAFKA_CLUSTERS_0_SCHEMAREGISTRY: 'http://schema-registry:8081' });
    expect(ui['rtds-kafka-ui'].healthcheck.test[1]).toContain('wget -qO- http://localhost:9021/actuator/health');
  });
});

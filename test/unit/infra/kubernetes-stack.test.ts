import { addressByName, byName, podContainer, podEnv, synthBoth, TerraformJson } from './synth';

let k8s: TerraformJson;
let statefulSets: Record<string, any>;
let deployments: Record<string, any>;
let jobs: Record<string, any>;
let services: Record<string, any>;

beforeAll(() => {
  k8s = synthBoth().kubernetes;
  statefulSets = byName(k8s, 'kubernetes_stateful_set_v1');
  deployments = byName(k8s, 'kubernetes_deployment_v1');
  jobs = byName(k8s, 'kubernetes_job_v1');
  services = byName(k8s, 'kubernetes_service_v1');
});

const workloads = () => ({ ...statefulSets, ...deployments, ...jobs });

describe('Kubernetes stack', () => {
  it('creates the namespace and puts every resource in it', () => {
    const namespaces = Object.values(k8s.resource.kubernetes_namespace_v1) as any[];
    expect(namespaces.map((n) => n.metadata.name)).toEqual(['rtdatastream']);
    for (const w of Object.values(workloads())) expect(w.metadata.namespace).toMatch(/^\$\{kubernetes_namespace_v1\./);
  });

  it('runs ZooKeeper, Kafka, PostgreSQL, Cassandra and the streaming driver as StatefulSets with PVCs, and the Airflow scheduler for a stable name', () => {
    expect(Object.keys(statefulSets).sort()).toEqual(['airflow-scheduler', 'cassandra', 'kafka', 'postgres', 'users-stream', 'zookeeper']);
    const claims: Record<string, string> = {};
    for (const [name, s] of Object.entries(statefulSets)) {
      expect(s.spec.service_name).toBe(`${name}-headless`);
      claims[name] = s.spec.volume_claim_template.map((v: any) => `${v.metadata.name} ${v.spec.resources.requests.storage}`).join(', ');
      expect(services[`${name}-headless`].spec).toMatchObject({ cluster_ip: 'None', publish_not_ready_addresses: true });
    }
    expect(claims).toEqual({
      'airflow-scheduler': '', cassandra: 'data 10Gi', kafka: 'data 5Gi', postgres: 'data 5Gi', 'users-stream': 'state 2Gi', zookeeper: 'data 2Gi, log 2Gi',
    });
    expect(statefulSets.kafka.spec.volume_claim_template).toEqual([{
      metadata: { name: 'data' },
      spec: { access_modes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } },
    }]);
  });

  it('takes replica counts from config: odd ZooKeeper ensemble, N brokers, N Cassandra nodes, N Spark workers', () => {
    expect(statefulSets.zookeeper.spec.replicas).toBe('3');
    expect(statefulSets.kafka.spec.replicas).toBe('3');
    expect(statefulSets.cassandra.spec.replicas).toBe('3');
    const scaled = synthBoth({ cassandra: { replicas: 5 }, spark: { workers: 4 }, zookeeper: { replicas: 5 } }).kubernetes;
    expect(byName(scaled, 'kubernetes_stateful_set_v1').cassandra.spec.replicas).toBe('5');
    expect(byName(scaled, 'kubernetes_deployment_v1')['spark-worker'].spec.replicas).toBe('4');
    const zk = podEnv(byName(scaled, 'kubernetes_stateful_set_v1').zookeeper);
    expect(zk.ZOOKEEPER_SERVERS.split(';')).toHaveLength(5);
  });

  it('runs the rest as Deployments with a Service each', () => {
    expect(Object.keys(deployments).sort()).toEqual([
      'airflow-api-server', 'airflow-dag-processor', 'control-center', 'ingest', 'relay',
      'schema-registry', 'source', 'spark-master', 'spark-worker',
    ]);
    expect(services['airflow-api-server'].spec).toMatchObject({ type: 'ClusterIP', port: [{ name: 'http', port: 8080, target_port: '8080' }] });
  });

  it('runs the init steps as Jobs that Terraform waits for: topics, schema, migrations, Airflow DB', () => {
    expect(Object.keys(jobs).sort()).toEqual(['airflow-init', 'cassandra-auth', 'cassandra-migrate', 'kafka-topics', 'postgres-migrate', 'register-schema']);
    for (const j of Object.values(jobs)) {
      expect(j.wait_for_completion).toBe(true);
      expect(j.spec.template.spec.restart_policy).toBe('OnFailure');
    }
    const address = addressByName(k8s, 'kubernetes_stateful_set_v1');
    expect(jobs['kafka-topics'].depends_on).toEqual([address.kafka]);
    expect(podContainer(jobs['kafka-topics']).command.join(' ')).toContain('--topic users_created --partitions 3 --replication-factor 3');
  });

  it('gives every long-running container readiness, liveness and start-up probes', () => {
    for (const w of [...Object.values(statefulSets), ...Object.values(deployments)]) {
      const c = podContainer(w);
      expect({ name: c.name, probes: [!!c.readiness_probe, !!c.liveness_probe, !!c.startup_probe] }).toEqual({ name: c.name, probes: [true, true, true] });
    }
    expect(podContainer(deployments['schema-registry']).readiness_probe.http_get).toEqual({ path: '/subjects', port: '8081' });
    // A broker binds its port before it works, and a ZooKeeper member outside a quorum serves nothing: both are asked.
    expect(podContainer(statefulSets.kafka).readiness_probe.exec.command.slice(0, 2)).toEqual(['bash', '-c']);
    expect(podContainer(statefulSets.kafka).liveness_probe.exec).toEqual(podContainer(statefulSets.kafka).readiness_probe.exec);
    expect(podContainer(statefulSets.zookeeper).readiness_probe.exec.command[2]).toContain('srvr');
    expect(podContainer(statefulSets.zookeeper).liveness_probe.tcp_socket).toEqual([{ port: '2181' }]);
    expect(podContainer(statefulSets.postgres).readiness_probe.exec.command[0]).toBe('pg_isready');
  });

  it('sets requests and limits and runs every pod as non-root without privilege escalation', () => {
    const uids: Record<string, string> = {};
    for (const w of Object.values(workloads())) {
      const pod = w.spec.template.spec;
      expect(pod.security_context.run_as_non_root).toBe(true);
      uids[w.metadata.name] = pod.security_context.run_as_user;
      const c = pod.container[0];
      expect(c.security_context).toEqual({ allow_privilege_escalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.resources.limits.memory).toMatch(/^\d+Mi$/);
      expect(c.resources.requests.cpu).toMatch(/^\d+m$/);
    }
    // Each image's own non-root user: Cassandra and PostgreSQL 999, Spark 185, Airflow 50000, the rest 1000.
    expect(uids).toEqual({
      cassandra: '999', 'cassandra-auth': '999', postgres: '999', 'users-stream': '185', 'spark-master': '185', 'spark-worker': '185',
      'airflow-api-server': '50000', 'airflow-dag-processor': '50000', 'airflow-scheduler': '50000', 'airflow-init': '50000',
      kafka: '1000', zookeeper: '1000', 'control-center': '1000', ingest: '1000', relay: '1000', 'schema-registry': '1000', source: '1000',
      'cassandra-migrate': '1000', 'kafka-topics': '1000', 'postgres-migrate': '1000', 'register-schema': '1000',
    });
    expect(podContainer(statefulSets.cassandra).resources).toEqual({ limits: { cpu: '1000m', memory: '3072Mi' }, requests: { cpu: '100m', memory: '1024Mi' } });
  });

  it('keeps every credential in a Secret and references it from the pods', () => {
    const secrets = byName(k8s, 'kubernetes_secret_v1');
    expect(Object.keys(secrets).sort()).toEqual(['airflow', 'cassandra', 'postgres']);
    for (const s of Object.values(secrets)) {
      for (const v of Object.values(s.data as Record<string, string>)) expect(v).toMatch(/\$\{random_(password|id)\./);
    }
    expect(podEnv(deployments.relay).PGPASSWORD).toBe('secret:postgres/landing-password');
    expect(podEnv(deployments['airflow-api-server']).AIRFLOW__DATABASE__SQL_ALCHEMY_CONN).toBe('secret:postgres/airflow-sqlalchemy-url');
    expect(podEnv(statefulSets['users-stream']).CASSANDRA_PASSWORD).toBe('secret:cassandra/pipeline-password');
  });

  it('gives each broker its own advertised name through the headless Service', () => {
    const env = podEnv(statefulSets.kafka);
    expect(env.POD_NAME).toBe('field:metadata.name');
    expect(env.RTDS_SELF_HOST).toBe('$(POD_NAME).kafka-headless.rtdatastream.svc.cluster.local');
    expect(env.KAFKA_ZOOKEEPER_CONNECT).toBe([0, 1, 2].map((i) => `zookeeper-${i}.zookeeper-headless.rtdatastream.svc.cluster.local:2181`).join(','));
    expect(statefulSets.kafka.spec.pod_management_policy).toBe('Parallel');
    const kraft = podEnv(byName(synthBoth({ kafka: { mode: 'kraft' } }).kubernetes, 'kubernetes_stateful_set_v1').kafka);
    expect(kraft.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe([0, 1, 2].map((i) => `${i}@kafka-${i}.kafka-headless.rtdatastream.svc.cluster.local:29093`).join(','));
    expect(kraft.CLUSTER_ID).toBe('secret:kafka-cluster/id');
  });

  it('runs Spark and Airflow from the app images (pushed or loaded to the cluster), with no DAG or app ConfigMap', () => {
    const maps = byName(k8s, 'kubernetes_config_map_v1');
    expect(Object.keys(maps)).toEqual(['postgres-initdb']);
    const image = (w: any) => podContainer(w).image;
    for (const name of ['spark-master', 'spark-worker']) expect(image(deployments[name])).toBe('rtdatastream/spark-app:3.5.7-0.1.0');
    expect(image(statefulSets['users-stream'])).toBe('rtdatastream/spark-app:3.5.7-0.1.0');
    for (const name of ['airflow-api-server', 'airflow-dag-processor']) expect(image(deployments[name])).toBe('rtdatastream/airflow-app:3.3.2-0.1.0');
    // The scheduler runs the tasks and serves their logs from a stable pod name (a StatefulSet's).
    expect(image(statefulSets['airflow-scheduler'])).toBe('rtdatastream/airflow-app:3.3.2-0.1.0');
    expect(image(jobs['airflow-init'])).toBe('rtdatastream/airflow-app:3.3.2-0.1.0');
    // Built images are not in any registry the cluster pulls from by default: use a loaded copy when present.
    expect(podContainer(deployments['spark-master']).image_pull_policy).toBe('IfNotPresent');
    expect(podContainer(statefulSets['airflow-scheduler']).volume_mount).toEqual([]);
    expect(podContainer(statefulSets['users-stream']).volume_mount).toEqual([{ name: 'state', mount_path: '/opt/spark/work-dir', read_only: false }]);
  });

  it('tells the Cassandra migration the keyspace replication: min(cassandra.replicas, 3)', () => {
    const rf = (replicas: number) => podEnv(byName(synthBoth({ cassandra: { replicas } }).kubernetes, 'kubernetes_job_v1')['cassandra-migrate']).CASSANDRA_REPLICATION_FACTOR;
    expect(podEnv(jobs['cassandra-migrate']).CASSANDRA_REPLICATION_FACTOR).toBe('3');
    expect([rf(1), rf(2), rf(5)]).toEqual(['1', '2', '3']);
    expect(podEnv(jobs['cassandra-migrate']).CASSANDRA_CONTACT_POINTS.split(',')).toHaveLength(3);
  });

  it("deploys no console with console.kind 'none'", () => {
    const none = byName(synthBoth({ console: { kind: 'none' } }).kubernetes, 'kubernetes_deployment_v1');
    expect(Object.keys(none).filter((n) => /control-center|kafka-ui/.test(n))).toEqual([]);
    expect(Object.keys(none)).toHaveLength(Object.keys(deployments).length - 1);
  });

  it('puts PVCs on the configured StorageClass', () => {
    const custom = byName(synthBoth({ kubernetes: { storageClass: 'fast-ssd' } }).kubernetes, 'kubernetes_stateful_set_v1');
    expect(custom.postgres.spec.volume_claim_template[0].spec.storage_class_name).toBe('fast-ssd');
  });

  it('tells how to reach the Airflow UI, where its password is, and how to reach every broker from the host', () => {
    expect(k8s.output?.airflow_port_forward.value).toBe('kubectl port-forward -n rtdatastream svc/airflow-api-server 8080:8080');
    expect(k8s.output?.airflow_admin_password.value).toBe("kubectl get secret -n rtdatastream airflow -o jsonpath='{.data.admin-password}' | base64 -d; echo");
    expect(k8s.output?.kafka_port_forward.value).toBe([0, 1, 2].map((i) => `kubectl port-forward -n rtdatastream pod/kafka-${i} ${9092 + i}:9092`).join(' & ') + ' & wait');
    const one = synthBoth({ kafka: { replicas: 1, topic: { replicationFactor: 1 }, hostPort: 19092 }, airflow: { hostPort: 18080 } }).kubernetes;
    expect(one.output?.kafka_port_forward.value).toBe('kubectl port-forward -n rtdatastream pod/kafka-0 19092:9092');
    expect(one.output?.airflow_port_forward.value).toBe('kubectl port-forward -n rtdatastream svc/airflow-api-server 18080:8080');
  });

  it('requests what each service needs at rest, so the default stack (3 ZooKeeper, 3 brokers, 3 Cassandra) fits one 2-core node', () => {
    let cpu = 0;
    let memory = 0;
    for (const w of [...Object.values(statefulSets), ...Object.values(deployments)]) {
      const { requests, limits } = podContainer(w).resources;
      const m = (v: string) => Number(v.replace(/Mi$/, ''));
      const c = (v: string) => Number(v.replace(/m$/, ''));
      // Within its limits, which stay as sized for peaks.
      expect(c(requests.cpu)).toBeLessThanOrEqual(c(limits.cpu));
      expect(m(requests.memory)).toBeLessThanOrEqual(m(limits.memory));
      cpu += c(requests.cpu) * Number(w.spec.replicas);
      memory += m(requests.memory) * Number(w.spec.replicas);
    }
    // The biggest init step may run beside them.
    const jobCpu = Math.max(...Object.values(jobs).map((j) => Number(podContainer(j).resources.requests.cpu.replace(/m$/, ''))));
    expect(cpu + jobCpu).toBeLessThanOrEqual(1900);
    expect(memory).toBeLessThanOrEqual(12 * 1024);
    const sized = byName(synthBoth({ kafka: { resources: { requests: { cpu: 0.25, memoryMiB: 700 } } } }).kubernetes, 'kubernetes_stateful_set_v1');
    expect(podContainer(sized.kafka).resources).toEqual({ limits: { cpu: '1000m', memory: '1536Mi' }, requests: { cpu: '250m', memory: '700Mi' } });
  });

  it('gives each persistent volume to the pod\'s user in a root init container that may only chown its mount points', () => {
    for (const [name, s] of Object.entries(statefulSets)) {
      const pod = s.spec.template.spec;
      const mounts = s.spec.volume_claim_template.map((v: any) => podContainer(s).volume_mount.find((m: any) => m.name === v.metadata.name).mount_path);
      if (mounts.length === 0) {
        expect({ name, init: pod.init_container }).toEqual({ name, init: undefined });
        continue;
      }
      const [init] = pod.init_container;
      expect(init.command).toEqual(['chown', `${pod.security_context.run_as_user}:${pod.security_context.run_as_group}`, ...mounts]);
      expect(init.image).toBe(podContainer(s).image);
      expect(init.security_context).toEqual({
        run_as_user: '0', run_as_group: '0', run_as_non_root: false, allow_privilege_escalation: false, capabilities: { drop: ['ALL'], add: ['CHOWN'] },
      });
    }
    expect(statefulSets.cassandra.spec.template.spec.init_container[0].command).toEqual(['chown', '999:999', '/var/lib/cassandra']);
    const off = byName(synthBoth({ kubernetes: { chownVolumes: false } }).kubernetes, 'kubernetes_stateful_set_v1');
    expect(Object.values(off).filter((s: any) => s.spec.template.spec.init_container)).toEqual([]);
  });

  it('starts the Airflow scheduler, which runs the DAG at once, only after everything the DAG calls and counts is ready', () => {
    const address = { ...addressByName(k8s, 'kubernetes_deployment_v1'), ...addressByName(k8s, 'kubernetes_stateful_set_v1'), ...addressByName(k8s, 'kubernetes_job_v1') };
    expect(statefulSets['airflow-scheduler'].depends_on).toEqual(expect.arrayContaining(
      ['airflow-init', 'airflow-api-server', 'ingest', 'relay', 'users-stream', 'kafka-topics', 'cassandra-migrate'].map((n) => address[n])));
  });

  it('serves task logs from the scheduler under a name the API server resolves (a StatefulSet pod behind a headless Service)', () => {
    expect(podEnv(statefulSets['airflow-scheduler']).AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT).toBe('8793');
    expect(services['airflow-scheduler-headless'].spec.port).toEqual(expect.arrayContaining([{ name: 'logs', port: 8793, target_port: '8793' }]));
    expect(statefulSets['airflow-scheduler'].spec.replicas).toBe('1');
  });
});

// KRaft mode on both platforms: no ZooKeeper anywhere, apache/kafka (or its local stand-in)
// as broker and controller, the controller quorum derived from the broker count, and listeners
// that keep the controller port inside the network. The golden files (golden/kraft,
// golden/offline-kraft) hold the full rendering; these name what users rely on.
import { byName, dockerEnv, podContainer, podEnv, synthBoth } from './synth';

const kraft = synthBoth({ kafka: { mode: 'kraft' } });
const offline = synthBoth({ kafka: { mode: 'kraft' }, imageMode: 'local', console: { kind: 'none' }, secretSource: 'variables' });
const voter = (i: number) => `${i}@kafka-${i}.kafka-headless.rtdatastream.svc.cluster.local:29093`;

describe('KRaft mode on Docker', () => {
  const containers = byName(kraft.docker, 'docker_container');
  const kafka = containers['rtds-kafka'];

  it('runs no ZooKeeper container, volume or image, and the broker waits for nothing', () => {
    expect(Object.keys(containers).filter((n) => n.includes('zookeeper'))).toEqual([]);
    expect(Object.values(kraft.docker.resource.docker_volume).map((v: any) => v.name).filter((n) => n.includes('zookeeper'))).toEqual([]);
    expect(Object.keys(byName(kraft.docker, 'docker_image')).filter((n) => n.includes('zookeeper'))).toEqual([]);
    expect(kafka.depends_on).toEqual([]);
  });

  it('runs one broker that is its own controller: node 0, voters 0@kafka:29093, replication 1', () => {
    const env = dockerEnv(kafka);
    expect({
      roles: env.KAFKA_PROCESS_ROLES, voters: env.KAFKA_CONTROLLER_QUORUM_VOTERS, controllerListener: env.KAFKA_CONTROLLER_LISTENER_NAMES,
      listeners: env.KAFKA_LISTENERS, protocols: env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP, interBroker: env.KAFKA_INTER_BROKER_LISTENER_NAME,
      offsetsRf: env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, minIsr: env.KAFKA_MIN_INSYNC_REPLICAS, zookeeper: env.KAFKA_ZOOKEEPER_CONNECT,
    }).toEqual({
      roles: 'broker,controller', voters: '0@kafka:29093', controllerListener: 'CONTROLLER',
      listeners: 'PLAINTEXT://:29092,CONTROLLER://:29093,PLAINTEXT_HOST://:9092',
      protocols: 'PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT,CONTROLLER:PLAINTEXT', interBroker: 'PLAINTEXT',
      offsetsRf: '1', minIsr: '1', zookeeper: undefined,
    });
    // The node id comes from the host name's ordinal (none on Docker: 0); the controller listener is never advertised.
    expect(kafka.entrypoint).toEqual(['bash', '-c',
      'ord=$${HOSTNAME##*-}; case "$ord" in ""|*[!0-9]*) ord=0;; esac; export KAFKA_NODE_ID=$ord; ' +
      'export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://$RTDS_SELF_HOST:29092,PLAINTEXT_HOST://localhost:$((9092 + ord))"; exec /etc/kafka/docker/run']);
    expect(kafka.ports).toEqual([{ internal: 9092, external: 9092, ip: '127.0.0.1' }]);
  });

  it('formats the storage with a cluster id the stack generates, or one supplied as a variable', () => {
    // 16 random bytes, url-safe base64: the 22 characters kafka-storage.sh random-uuid prints.
    expect(kraft.docker.resource.random_id['platform_kafka-cluster-id_5AA97781']).toEqual({ byte_length: 16 });
    expect(dockerEnv(kafka).CLUSTER_ID).toBe('${random_id.platform_kafka-cluster-id_5AA97781.b64_url}');
    expect(dockerEnv(byName(offline.docker, 'docker_container')['rtds-kafka']).CLUSTER_ID).toBe('${var.kafka_cluster_id}');
    expect(offline.dockerStack.platform.secretVariables).toContainEqual({ variable: 'kafka_cluster_id', kind: 'cluster-id' });
  });

  it('pulls apache/kafka, or builds its local stand-in from images/apache-kafka with the version from config/facts', () => {
    expect(Object.keys(byName(kraft.docker, 'docker_image')).filter((n) => n.includes('kafka'))).toEqual(['apache/kafka:4.1.1']);
    const local = byName(offline.docker, 'docker_image');
    expect(Object.keys(local).filter((n) => n.includes('kafka'))).toEqual(['rtdatastream/apache-kafka:4.1.1']);
    expect(local['rtdatastream/apache-kafka:4.1.1'].build).toEqual({
      context: '${path.module}/../../../images/apache-kafka', dockerfile: 'Dockerfile', build_args: { KAFKA_VERSION: '4.1.1' },
    });
    const offlineContainers = byName(offline.docker, 'docker_container');
    expect(offlineContainers['rtds-kafka'].image).toBe(offlineContainers['rtds-kafka-topics'].image);
  });

  it("creates the topics with the image's kafka-topics.sh once the broker is healthy", () => {
    expect(containers['rtds-kafka-topics'].entrypoint[2]).toBe([
      'set -e',
      '/opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:29092 --create --if-not-exists --topic users_created --partitions 3 --replication-factor 1',
      '/opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:29092 --create --if-not-exists --topic users_created_dlq --partitions 3 --replication-factor 1',
      '/opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:29092 --describe --topic users_created',
    ].join('; '));
  });
});

describe('KRaft mode on Kubernetes', () => {
  const statefulSets = byName(kraft.kubernetes, 'kubernetes_stateful_set_v1');
  const services = byName(kraft.kubernetes, 'kubernetes_service_v1');
  const kafkaAt = (replicas: number) => {
    const stacks = synthBoth({ kafka: { mode: 'kraft', replicas, topic: { replicationFactor: Math.min(3, replicas) } } }).kubernetes;
    const env = podEnv(byName(stacks, 'kubernetes_stateful_set_v1').kafka);
    const topics = podContainer(byName(stacks, 'kubernetes_job_v1')['kafka-topics']).command[2] as string;
    return {
      replicas: byName(stacks, 'kubernetes_stateful_set_v1').kafka.spec.replicas,
      voters: env.KAFKA_CONTROLLER_QUORUM_VOTERS,
      topicRf: /--topic users_created --partitions 3 --replication-factor (\d+)/.exec(topics)?.[1],
      internalRf: env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR,
      minIsr: env.KAFKA_MIN_INSYNC_REPLICAS,
    };
  };

  it('runs no ZooKeeper StatefulSet or Service', () => {
    expect(Object.keys(statefulSets).sort()).toEqual(['airflow-scheduler', 'cassandra', 'kafka', 'postgres', 'users-stream']);
    expect(Object.keys(services).filter((n) => n.includes('zookeeper'))).toEqual([]);
  });

  it('runs 3 brokers that are also controllers, started together, in a StatefulSet with a volume each', () => {
    const kafka = statefulSets.kafka;
    expect({ replicas: kafka.spec.replicas, policy: kafka.spec.pod_management_policy, claims: kafka.spec.volume_claim_template.map((v: any) => v.metadata.name) })
      .toEqual({ replicas: '3', policy: 'Parallel', claims: ['data'] });
    const env = podEnv(kafka);
    expect({ roles: env.KAFKA_PROCESS_ROLES, listeners: env.KAFKA_LISTENERS, self: env.RTDS_SELF_HOST, clusterId: env.CLUSTER_ID }).toEqual({
      roles: 'broker,controller', listeners: 'PLAINTEXT://:29092,CONTROLLER://:29093,PLAINTEXT_HOST://:9092',
      self: '$(POD_NAME).kafka-headless.rtdatastream.svc.cluster.local', clusterId: 'secret:kafka-cluster/id',
    });
    // Each pod's node id is its ordinal (kafka-2 → 2), the id the voters list gives its host.
    expect(podContainer(kafka).command[2]).toMatch(/^ord=\$\$\{HOSTNAME##\*-\}; .*export KAFKA_NODE_ID=\$ord; /);
    // Voters reach each other on the controller port through the headless Service, also before they are ready.
    expect(services['kafka-headless'].spec).toMatchObject({ cluster_ip: 'None', publish_not_ready_addresses: true });
    expect(services['kafka-headless'].spec.port).toContainEqual({ name: 'controller', port: 29093, target_port: '29093' });
  });

  it('derives the controller quorum, the replication and min ISR from the broker count', () => {
    expect(kafkaAt(3)).toEqual({ replicas: '3', voters: [0, 1, 2].map(voter).join(','), topicRf: '3', internalRf: '3', minIsr: '2' });
    expect(kafkaAt(5)).toEqual({ replicas: '5', voters: [0, 1, 2, 3, 4].map(voter).join(','), topicRf: '3', internalRf: '3', minIsr: '2' });
    expect(kafkaAt(1)).toEqual({ replicas: '1', voters: voter(0), topicRf: '1', internalRf: '1', minIsr: '1' });
  });

  it('keeps the cluster id in a Secret, generated or supplied as a variable', () => {
    const secret = byName(kraft.kubernetes, 'kubernetes_secret_v1')['kafka-cluster'];
    expect(secret.data).toEqual({ id: '${random_id.platform_kafka-cluster-id_5AA97781.b64_url}' });
    expect(byName(offline.kubernetes, 'kubernetes_secret_v1')['kafka-cluster'].data).toEqual({ id: '${var.kafka_cluster_id}' });
  });

  it('runs apache/kafka, or its local stand-in loaded into the cluster, for the brokers and the topics job', () => {
    const image = (stacks: typeof kraft) => ['kafka', 'kafka-topics'].map((n) => {
      const c = podContainer({ ...byName(stacks.kubernetes, 'kubernetes_stateful_set_v1'), ...byName(stacks.kubernetes, 'kubernetes_job_v1') }[n]);
      return `${c.image} ${c.image_pull_policy ?? 'default'}`;
    });
    expect(image(kraft)).toEqual(['apache/kafka:4.1.1 default', 'apache/kafka:4.1.1 default']);
    expect(image(offline)).toEqual(['rtdatastream/apache-kafka:4.1.1 IfNotPresent', 'rtdatastream/apache-kafka:4.1.1 IfNotPresent']);
  });
});

import { Construct } from 'constructs';
import { PORTS } from '../../config/facts';
import { ComponentProps, componentImage, ORDINAL_FROM_HOSTNAME } from './common';

const ZOOKEEPER_CLIENT_PORT = PORTS.zookeeper;

/** A member serves only inside a quorum; `srvr` names its mode then, and says it is not serving otherwise. */
const SERVING = `exec 3<>/dev/tcp/127.0.0.1/${ZOOKEEPER_CLIENT_PORT} && printf srvr >&3 && grep -q '^Mode: ' <&3`;

/** The ZooKeeper ensemble Kafka keeps its metadata in (kafka.mode 'zookeeper'). */
export class ZooKeeper extends Construct {
  /** Service name. */
  readonly service = 'zookeeper';
  /** `host:port[,host:port]` of every ensemble member. */
  readonly connect: string;

  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id);
    const { platform, config } = props;
    const zk = config.zookeeper;
    const replicas = platform.replicasFor('stateful', zk.replicas);
    const members = Array.from({ length: replicas }, (_, i) => platform.peerHost(this.service, i));
    this.connect = members.map((h) => `${h}:${ZOOKEEPER_CLIENT_PORT}`).join(',');
    const env: Record<string, string> = {
      ZOOKEEPER_CLIENT_PORT: String(ZOOKEEPER_CLIENT_PORT),
      ZOOKEEPER_TICK_TIME: '2000',
      ZOOKEEPER_INIT_LIMIT: '10',
      ZOOKEEPER_SYNC_LIMIT: '5',
      KAFKA_HEAP_OPTS: `-Xms${zk.resources.heapMiB}m -Xmx${zk.resources.heapMiB}m`,
      // The readiness check's command (images/confluent allows it already; the upstream image may not).
      KAFKA_OPTS: '-Dzookeeper.4lw.commands.whitelist=srvr,ruok',
    };
    if (replicas > 1) env.ZOOKEEPER_SERVERS = members.map((h) => `${h}:${PORTS.zookeeperPeer}:${PORTS.zookeeperElection}`).join(';');
    platform.add({
      name: this.service,
      component: 'zookeeper',
      kind: 'stateful',
      image: componentImage(config, 'zookeeper', zk.image),
      // Server ids are 1-based and must follow the pod ordinal so a restarted pod keeps its id.
      command: ['bash', '-c', `${ORDINAL_FROM_HOSTNAME}; let "ZOOKEEPER_SERVER_ID = ord + 1"; export ZOOKEEPER_SERVER_ID; exec /etc/confluent/docker/run`],
      env,
      ports: [
        { name: 'client', containerPort: ZOOKEEPER_CLIENT_PORT, hostPort: zk.hostPort },
        { name: 'peer', containerPort: PORTS.zookeeperPeer },
        { name: 'election', containerPort: PORTS.zookeeperElection },
      ],
      volumes: [
        { kind: 'persistent', name: 'data', mountPath: '/var/lib/zookeeper/data', sizeGiB: zk.storageGiB },
        { kind: 'persistent', name: 'log', mountPath: '/var/lib/zookeeper/log', sizeGiB: zk.storageGiB },
      ],
      // Waiting for its quorum, a member is alive: restarting it would not bring the quorum back.
      health: { probe: { command: ['bash', '-c', SERVING] }, liveness: { tcpPort: ZOOKEEPER_CLIENT_PORT }, startPeriodSeconds: 30 },
      resources: zk.resources,
      replicas: zk.replicas,
      // Members must all be up to form a quorum, so none may wait for another to be ready.
      parallelStart: true,
      runAs: { user: 1000, group: 1000 },
    });
  }
}

// Kafka as its own tools report it from inside a broker pod, for the k8s tier: partitions,
// replication and min ISR of a topic, each partition's in-sync replicas, the registered brokers
// and, in KRaft mode, the controller quorum.
import { KafkaMode } from '../../config';
import { PORTS } from '../../config/facts';
import { kafkaTool } from '../../constructs/components/kafka';
import { Kube, kubectl } from '../../scripts/deploy/kubectl';

export class BrokerTools {
  constructor(private readonly kube: Kube, private readonly namespace: string, private readonly mode: KafkaMode, private readonly brokers: number) {}

  /** Every broker by its stable name: a tool must not depend on the one being killed. */
  get bootstrap(): string {
    return Array.from({ length: this.brokers }, (_, i) => `kafka-${i}.kafka-headless.${this.namespace}.svc.cluster.local:${PORTS.kafkaInternal}`).join(',');
  }

  /** One of the broker image's tools, run in `pod` with a small heap beside the broker's. */
  run(pod: string, name: string, args: readonly string[]): string {
    return kubectl(this.kube, ['exec', '-n', this.namespace, pod, '-c', 'kafka', '--', 'env', 'KAFKA_HEAP_OPTS=-Xmx192m',
      kafkaTool(this.mode, name), '--bootstrap-server', this.bootstrap, ...args]);
  }

  /** kafka-topics --describe of a topic. */
  describeTopic(pod: string, topic: string): string {
    return this.run(pod, 'kafka-topics', ['--describe', '--topic', topic]);
  }

  /** The in-sync replicas of each partition of a topic, each sorted. */
  isrs(pod: string, topic: string): number[][] {
    return [...this.describeTopic(pod, topic).matchAll(/Isr: ([\d,]+)/g)].map((m) => m[1].split(',').map(Number).sort());
  }

  /** The broker ids registered in the cluster. */
  registered(pod: string): number[] {
    const out = this.run(pod, 'kafka-broker-api-versions', []);
    return [...new Set([...out.matchAll(/\(id: (\d+) rack/g)].map((m) => Number(m[1])))].sort();
  }

  /** The KRaft quorum as a broker reports it. */
  quorum(pod: string): { clusterId: string; leader: number; voters: number[] } {
    const out = this.run(pod, 'kafka-metadata-quorum', ['describe', '--status']);
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(out)?.[1] ?? '';
    return { clusterId: field('ClusterId'), leader: Number(field('LeaderId')), voters: [...field('CurrentVoters').matchAll(/"id":\s*(\d+)/g)].map((m) => Number(m[1])).sort() };
  }
}

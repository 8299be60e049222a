import { CASSANDRA_DATA_CENTER, CASSANDRA_KEYSPACE, HOST_PORTS, UPSTREAM_IMAGES } from './facts';
import { checkIdentifier, checkJvmFits, JvmResources, Problem } from './rules';

export interface CassandraConfig {
  /** @default 'cassandra:<Cassandra>' (config/facts/versions.ts) */
  readonly image: string;
  /** @default 9042 */
  readonly hostPort: number;
  /** Nodes on Kubernetes; Docker runs one. @default 3 */
  readonly replicas: number;
  /** @default 'datacenter1' */
  readonly dataCenter: string;
  /** @default 'spark_streams' */
  readonly keyspace: string;
  /** Role the pipeline logs in with (its password is generated). @default 'pipeline' */
  readonly pipelineUser: string;
  /** @default { cpu: 1, memoryMiB: 3072, heapMiB: 1024, requests: { cpu: 0.1, memoryMiB: 1024 } } */
  readonly resources: JvmResources;
  /** @default 10 */
  readonly storageGiB: number;
}

/** Cassandra's own name for a single data center (config/facts). */
export const DEFAULT_DATA_CENTER = CASSANDRA_DATA_CENTER;

export const CASSANDRA_DEFAULTS: CassandraConfig = {
  image: UPSTREAM_IMAGES.cassandra,
  hostPort: HOST_PORTS.cassandra,
  replicas: 3,
  dataCenter: DEFAULT_DATA_CENTER,
  keyspace: CASSANDRA_KEYSPACE,
  pipelineUser: 'pipeline',
  resources: { cpu: 1, memoryMiB: 3072, heapMiB: 1024, requests: { cpu: 0.1, memoryMiB: 1024 } },
  storageGiB: 10,
};

export function validateCassandra(c: CassandraConfig, bad: Problem): void {
  checkIdentifier('cassandra.keyspace', c.keyspace, bad);
  checkIdentifier('cassandra.pipelineUser', c.pipelineUser, bad);
  checkJvmFits('cassandra', c.resources, bad);
}

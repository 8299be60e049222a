import { HOST_PORTS, UPSTREAM_IMAGES } from './facts';
import { checkJvmFits, JvmResources, Problem } from './rules';

export interface ZooKeeperConfig {
  /** @default 'confluentinc/cp-zookeeper:<Confluent Platform>' (config/facts/versions.ts) */
  readonly image: string;
  /** Host port the client port is published on (Docker); 0 = not published. @default 2181 */
  readonly hostPort: number;
  /** Ensemble size on Kubernetes (odd); Docker runs one. @default 3 */
  readonly replicas: number;
  /** @default { cpu: 0.5, memoryMiB: 768, heapMiB: 256, requests: { cpu: 0.05, memoryMiB: 128 } } */
  readonly resources: JvmResources;
  /** Data volume size (Kubernetes PVC). @default 2 */
  readonly storageGiB: number;
}

export const ZOOKEEPER_DEFAULTS: ZooKeeperConfig = {
  image: UPSTREAM_IMAGES.zookeeper,
  hostPort: HOST_PORTS.zookeeper,
  replicas: 3,
  resources: { cpu: 0.5, memoryMiB: 768, heapMiB: 256, requests: { cpu: 0.05, memoryMiB: 128 } },
  storageGiB: 2,
};

export function validateZooKeeper(zk: ZooKeeperConfig, bad: Problem): void {
  if (zk.replicas % 2 === 0) bad('zookeeper.replicas', zk.replicas, 'a ZooKeeper ensemble needs an odd size to keep a majority');
  checkJvmFits('zookeeper', zk.resources, bad);
}

import { HOST_PORTS, UPSTREAM_IMAGES } from './facts';
import { checkJvmFits, JvmResources, Problem } from './rules';

export interface SchemaRegistryConfig {
  /** @default 'confluentinc/cp-schema-registry:<Confluent Platform>' */
  readonly image: string;
  /** @default 8081 */
  readonly hostPort: number;
  /** @default { cpu: 0.5, memoryMiB: 768, heapMiB: 256, requests: { cpu: 0.05, memoryMiB: 256 } } */
  readonly resources: JvmResources;
}

export const SCHEMA_REGISTRY_DEFAULTS: SchemaRegistryConfig = {
  image: UPSTREAM_IMAGES.schemaRegistry,
  hostPort: HOST_PORTS.schemaRegistry,
  resources: { cpu: 0.5, memoryMiB: 768, heapMiB: 256, requests: { cpu: 0.05, memoryMiB: 256 } },
};

export function validateSchemaRegistry(sr: SchemaRegistryConfig, bad: Problem): void {
  checkJvmFits('schemaRegistry', sr.resources, bad);
}

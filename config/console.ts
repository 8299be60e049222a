import { HOST_PORTS, UPSTREAM_IMAGES } from './facts';
import { checkJvmFits, checkOneOf, JvmResources, Problem, TopLevel } from './rules';

/** Which web console watches Kafka; 'none' deploys no console. */
export type ConsoleKind = 'control-center' | 'kafka-ui' | 'none';
export const CONSOLE_KINDS: readonly ConsoleKind[] = ['control-center', 'kafka-ui', 'none'];

export interface ConsoleConfig {
  /**
   * 'control-center' (Confluent, commercially licensed; free for a single-broker developer setup),
   * 'kafka-ui' (kafbat, Apache-2.0) or 'none' (no console; the only choice with imageMode 'local'
   * unless a kafka-ui image is provided). @default 'control-center'
   */
  readonly kind: ConsoleKind;
  /** @default 'confluentinc/cp-enterprise-control-center:<Confluent Platform>' */
  readonly controlCenterImage: string;
  /** @default 'kafbat/kafka-ui:<kafka-ui>' */
  readonly kafkaUiImage: string;
  /** @default 9021 */
  readonly hostPort: number;
  /** @default { cpu: 1, memoryMiB: 2048, heapMiB: 1024, requests: { cpu: 0.05, memoryMiB: 512 } } */
  readonly resources: JvmResources;
}

export const CONSOLE_DEFAULTS: ConsoleConfig = {
  kind: 'control-center',
  controlCenterImage: UPSTREAM_IMAGES.controlCenter,
  kafkaUiImage: UPSTREAM_IMAGES.kafkaUi,
  hostPort: HOST_PORTS.console,
  resources: { cpu: 1, memoryMiB: 2048, heapMiB: 1024, requests: { cpu: 0.05, memoryMiB: 512 } },
};

export function validateConsole(c: ConsoleConfig, top: TopLevel, bad: Problem): void {
  checkOneOf('console.kind', c.kind, CONSOLE_KINDS, bad);
  // Control Center is commercial and on no package registry, so no local image can stand in for it.
  if (top.imageMode === 'local' && c.kind === 'control-center')
    bad('console.kind', c.kind,
      "imageMode 'local' cannot build Control Center (commercial, not on any package registry): use 'none' (no console), or 'kafka-ui' if you provide a kafka-ui image");
  checkJvmFits('console', c.resources, bad);
}

import { HOST_PORTS } from './facts';
import { Problem, Resources } from './rules';

export interface WorkloadsConfig {
  /** Image name (tag = `version`), built from workloads/Dockerfile on Docker. @default 'rtdatastream/workloads' */
  readonly image: string;
  /** @default 8000 */
  readonly ingestHostPort: number;
  /** @default 8001 */
  readonly relayHostPort: number;
  /** @default 8100 */
  readonly sourceHostPort: number;
  /** @default 1 */
  readonly ingestReplicas: number;
  /** randomuser API the ingest calls; '' = the bundled compatible source. @default '' */
  readonly randomuserUrl: string;
  /** @default { cpu: 0.5, memoryMiB: 512, requests: { cpu: 0.05, memoryMiB: 128 } } */
  readonly resources: Resources;
}

export const WORKLOADS_DEFAULTS: WorkloadsConfig = {
  image: 'rtdatastream/workloads',
  ingestHostPort: HOST_PORTS.ingest,
  relayHostPort: HOST_PORTS.relay,
  sourceHostPort: HOST_PORTS.source,
  ingestReplicas: 1,
  randomuserUrl: '',
  resources: { cpu: 0.5, memoryMiB: 512, requests: { cpu: 0.05, memoryMiB: 128 } },
};

export function validateWorkloads(w: WorkloadsConfig, bad: Problem): void {
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*$/.test(w.image))
    bad('workloads.image', w.image, 'must be an image name without a tag (the tag is `version`)');
  if (w.randomuserUrl !== '' && !/^https?:\/\/\S+$/.test(w.randomuserUrl))
    bad('workloads.randomuserUrl', w.randomuserUrl, "must be an http(s) URL, or '' for the bundled source");
}

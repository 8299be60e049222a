import * as path from 'path';
import { Testing } from 'cdktf';
import { configWith, DeepPartial, PipelineConfig } from '../../../config';
import { DockerStack } from '../../../stacks/docker';
import { KubernetesStack } from '../../../stacks/kubernetes';

/** dags/ and spark-apps/ stand-ins, so snapshots do not change when the real DAG or job does. */
export const FIXTURE_REPO = path.join(__dirname, 'fixtures');

export interface TerraformJson {
  resource: Record<string, Record<string, any>>;
  variable?: Record<string, any>;
  output?: Record<string, any>;
  provider?: Record<string, any>;
  terraform?: any;
}

export interface SynthesizedStacks {
  readonly config: PipelineConfig;
  readonly docker: TerraformJson;
  readonly kubernetes: TerraformJson;
  readonly dockerStack: DockerStack;
  readonly kubernetesStack: KubernetesStack;
}

/** Synthesizes both stacks from defaults plus `overlay`, the way main.ts does. */
export function synthBoth(overlay: DeepPartial<PipelineConfig> = {}): SynthesizedStacks {
  const config = configWith(overlay);
  const app = Testing.app();
  const dockerStack = new DockerStack(app, 'docker', { config, repoDir: FIXTURE_REPO });
  const kubernetesStack = new KubernetesStack(app, 'kubernetes', { config, repoDir: FIXTURE_REPO });
  return {
    config,
    dockerStack,
    kubernetesStack,
    docker: JSON.parse(Testing.synth(dockerStack)) as TerraformJson,
    kubernetes: JSON.parse(Testing.synth(kubernetesStack)) as TerraformJson,
  };
}

/** Resources of one type, keyed by their `name` (Docker) or `metadata.name` (Kubernetes). */
export function byName(json: TerraformJson, type: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const r of Object.values(json.resource[type] ?? {})) {
    const name = r.metadata?.name ?? r.name;
    out[name] = r;
  }
  return out;
}

/** `NAME=value` env list of a Docker container as a map. */
export function dockerEnv(container: any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e: string) => {
    const i = e.indexOf('=');
    return [e.slice(0, i), e.slice(i + 1)];
  }));
}

/** The one container of a Kubernetes workload. */
export function podContainer(workload: any): any {
  return workload.spec.template.spec.container[0];
}

/** Env of a Kubernetes container: value, or `secret:<name>/<key>` for a secret reference. */
export function podEnv(workload: any): Record<string, string> {
  return Object.fromEntries((podContainer(workload).env ?? []).map((e: any) => [
    e.name,
    e.value_from?.secret_key_ref
      ? `secret:${e.value_from.secret_key_ref.name}/${e.value_from.secret_key_ref.key}`
      : e.value_from?.field_ref ? `field:${e.value_from.field_ref.field_path}` : e.value,
  ]));
}

/** Terraform address (`type.key`) of each resource of one type, keyed like byName. */
export function addressByName(json: TerraformJson, type: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, r] of Object.entries(json.resource[type] ?? {})) out[r.metadata?.name ?? r.name] = `${type}.${key}`;
  return out;
}

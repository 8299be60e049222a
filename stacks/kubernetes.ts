import { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { KubernetesPlatform } from '../constructs/platform/kubernetes';
import { Pipeline } from '../constructs/pipeline';
import { PipelineStackProps } from './docker';

/** The whole pipeline in one namespace of a Kubernetes cluster. */
export class KubernetesStack extends TerraformStack {
  readonly platform: KubernetesPlatform;
  readonly pipeline: Pipeline;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id);
    const { config } = props;
    // Same file cdktf uses by default (repository root), written relative so synthesis is machine-independent.
    new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    const k = config.kubernetes;
    new KubernetesProvider(this, 'kubernetes', {
      configPath: k.configPath,
      configContext: k.configContext || undefined,
    });
    // Generated secrets need the random provider; with secretSource 'variables' nothing uses it.
    if (config.secretSource === 'generate') new RandomProvider(this, 'random');
    this.platform = new KubernetesPlatform(this, 'platform', {
      namespace: k.namespace,
      storageClass: k.storageClass || undefined,
      secretSource: config.secretSource,
    });
    this.pipeline = new Pipeline(this, 'pipeline', { platform: this.platform, config, repoDir: props.repoDir });
    new TerraformOutput(this, 'airflow_port_forward', {
      value: `kubectl port-forward -n ${k.namespace} svc/${this.pipeline.airflow.apiService} 8080:8080`,
    });
  }
}

import { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { KubernetesPlatform } from '../constructs/platform/kubernetes';
import { Pipeline } from '../constructs/pipeline';
import { PipelineStackProps } from './docker';
import { PORTS } from '../config/facts';

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
      chownVolumes: k.chownVolumes,
    });
    this.pipeline = new Pipeline(this, 'pipeline', { platform: this.platform, config, repoDir: props.repoDir });
    // Commands, never values: the password stays in the Secret (and the Terraform state).
    const { airflow, kafka } = this.pipeline;
    new TerraformOutput(this, 'airflow_port_forward', {
      value: `kubectl port-forward -n ${k.namespace} svc/${airflow.apiService} ${config.airflow.hostPort || PORTS.airflow}:${PORTS.airflow}`,
    });
    new TerraformOutput(this, 'airflow_admin_password', {
      value: `kubectl get secret -n ${k.namespace} ${airflow.adminPassword.secret} -o jsonpath='{.data.${airflow.adminPassword.key}}' | base64 -d; echo`,
    });
    // Broker i advertises localhost:<hostPort + i> for clients outside the cluster (constructs/components/kafka.ts).
    const hostPort = config.kafka.hostPort || PORTS.kafka;
    const forwards = Array.from({ length: kafka.brokers }, (_, i) => `kubectl port-forward -n ${k.namespace} pod/${kafka.service}-${i} ${hostPort + i}:${PORTS.kafka}`);
    new TerraformOutput(this, 'kafka_port_forward', { value: forwards.length > 1 ? `${forwards.join(' & ')} & wait` : forwards[0] });
    new TerraformOutput(this, 'kafka_bootstrap_servers', { value: kafka.hostBootstrapServers });
  }
}

import { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { PipelineConfig } from '../config';
import { DockerPlatform } from '../constructs/platform/docker';
import { Pipeline } from '../constructs/pipeline';

export interface PipelineStackProps {
  /** The validated pipeline configuration. */
  readonly config: PipelineConfig;
  /** Repository root (dags/, spark-apps/, build contexts). */
  readonly repoDir: string;
}

/** The whole pipeline on one Docker engine. */
export class DockerStack extends TerraformStack {
  readonly platform: DockerPlatform;
  readonly pipeline: Pipeline;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id);
    const { config } = props;
    // Same file cdktf uses by default (repository root), written relative so synthesis is machine-independent.
    new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    new DockerProvider(this, 'docker', { host: config.docker.host });
    // Generated secrets need the random provider; with secretSource 'variables' nothing uses it.
    if (config.secretSource === 'generate') new RandomProvider(this, 'random');
    this.platform = new DockerPlatform(this, 'platform', {
      network: config.docker.network,
      hostBind: config.hostBind,
      secretSource: config.secretSource,
    });
    this.pipeline = new Pipeline(this, 'pipeline', { platform: this.platform, config, repoDir: props.repoDir });
    const host = (port: number) => `http://${config.hostBind === '0.0.0.0' ? 'localhost' : config.hostBind}:${port}`;
    new TerraformOutput(this, 'airflow_url', { value: host(config.airflow.hostPort) });
    if (this.pipeline.console) new TerraformOutput(this, 'console_url', { value: host(config.console.hostPort) });
    new TerraformOutput(this, 'kafka_bootstrap_servers', { value: this.pipeline.kafka.hostBootstrapServers });
  }
}

import { Construct } from 'constructs';
import { LocalBackend, TerraformStack } from 'cdktf';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { DockerImageBuilds } from '../constructs/platform/docker';
import { ImageRef } from '../constructs/platform/spec';

export interface ImagesStackProps {
  /** The images another stack's pods run; those with a build are built here (a built base first). */
  readonly images: readonly ImageRef[];
  /** Docker engine address. */
  readonly dockerHost: string;
}

/**
 * The images a stack names, built on a Docker engine exactly as the Docker stack builds them
 * (same Dockerfiles, build args and builder, so one build cache serves both): what a cluster
 * without an image registry is loaded with.
 */
export class ImagesStack extends TerraformStack {
  /** Names of the images built here. */
  readonly built: readonly string[];

  constructor(scope: Construct, id: string, props: ImagesStackProps) {
    super(scope, id);
    new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    new DockerProvider(this, 'docker', { host: props.dockerHost });
    const builds = new DockerImageBuilds(this, '${path.module}/../../..');
    this.built = props.images.filter((ref) => ref.build).map((ref) => {
      builds.imageFor(ref);
      return ref.name;
    });
  }
}

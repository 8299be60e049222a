// The cdktf app `npm run up` synthesizes: the same stacks as main.ts, with their provider
// requirements pinned to what scripts/deploy/terraform.ts put in the offline provider mirror.
//   docker       the Docker stack
//   kubernetes   the Kubernetes stack, and `kubernetes-images`: the images its pods run, built
//                by the Docker provider like the Docker stack builds them (the cluster is loaded with them)
// Beside each target's stack: secret-variables.json (what deploySecrets generates TF_VAR_* for)
// and, for Kubernetes, images.json (every image a pod runs, and whether it is built here).
import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { loadConfig } from '../../config';
import type { SecretVariable } from '../../constructs/platform/secrets';
import { DockerStack } from '../../stacks/docker';
import { ImagesStack } from '../../stacks/images';
import { KubernetesStack } from '../../stacks/kubernetes';
import { SECRET_VARIABLES_FILE, stackDir, Target, TARGETS } from './engine';

/** Images a Kubernetes deploy needs in the cluster: `built` ones come from the images stack, the rest are pulled. */
export const POD_IMAGES_FILE = 'images.json';
export interface PodImage {
  readonly name: string;
  readonly built: boolean;
}

/** Versions in the mirror, as terraform.ts exports them (RTDS_PROVIDER_<NAME>=<version>). */
export function mirroredProviders(env: NodeJS.ProcessEnv): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const m = /^RTDS_PROVIDER_([A-Z0-9_]+)$/.exec(key);
    if (m && value) found[m[1].toLowerCase()] = value;
  }
  return found;
}

/** Makes the stack ask for exactly the provider versions the mirror holds. */
export function pinToMirror(stack: TerraformStack, mirror: Record<string, string>): void {
  const declared = (stack.toTerraform() as { terraform?: { required_providers?: Record<string, { version?: string }> } })
    .terraform?.required_providers ?? {};
  for (const name of Object.keys(declared)) {
    const version = mirror[name];
    if (!version) throw new Error(`provider '${name}' is not in the offline mirror: run scripts/deploy/terraform.ts`);
    stack.addOverride(`terraform.required_providers.${name}.version`, version);
  }
}

/** Builds the target's stacks in `app`, pinned to the mirror; returns what the deploy tooling reads beside them. */
export function offlineStacks(app: App, target: Target, env: NodeJS.ProcessEnv, repoDir: string): { secretVariables: SecretVariable[]; podImages?: PodImage[] } {
  const config = loadConfig({ env, cwd: repoDir });
  const mirror = mirroredProviders(env);
  if (target === 'docker') {
    const stack = new DockerStack(app, 'docker', { config, repoDir });
    pinToMirror(stack, mirror);
    return { secretVariables: stack.platform.secretVariables };
  }
  const stack = new KubernetesStack(app, 'kubernetes', { config, repoDir });
  pinToMirror(stack, mirror);
  const images = new ImagesStack(app, 'kubernetes-images', { images: stack.platform.images, dockerHost: config.docker.host });
  pinToMirror(images, mirror);
  const built = new Set(images.built);
  return { secretVariables: stack.platform.secretVariables, podImages: stack.platform.images.map((i) => ({ name: i.name, built: built.has(i.name) })) };
}

if (require.main === module) {
  const target = (process.argv[2] ?? 'docker') as Target;
  if (!TARGETS.includes(target)) throw new Error(`offline-app.ts: unknown target '${target}' (known: ${TARGETS.join(', ')})`);
  const app = new App();
  const { secretVariables, podImages } = offlineStacks(app, target, process.env, path.resolve(__dirname, '../..'));
  app.synth();
  // What deploySecrets generates TF_VAR_* values for, kind by kind: no parsing of descriptions.
  fs.writeFileSync(path.join(stackDir(target), SECRET_VARIABLES_FILE), JSON.stringify(secretVariables, null, 2) + '\n');
  if (podImages) fs.writeFileSync(path.join(stackDir(target), POD_IMAGES_FILE), JSON.stringify(podImages, null, 2) + '\n');
}

// The cdktf app `npm run up` synthesizes: the same Docker stack as main.ts, with its provider
// requirements pinned to what scripts/deploy/terraform.ts put in the offline provider mirror.
import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { loadConfig } from '../../config';
import { DockerStack } from '../../stacks/docker';
import { SECRET_VARIABLES_FILE, stackDir } from './engine';

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

if (require.main === module) {
  const config = loadConfig();
  const app = new App();
  const stack = new DockerStack(app, 'docker', { config, repoDir: path.resolve(__dirname, '../..') });
  pinToMirror(stack, mirroredProviders(process.env));
  app.synth();
  // What deploySecrets generates TF_VAR_* values for, kind by kind: no parsing of descriptions.
  fs.writeFileSync(path.join(stackDir, SECRET_VARIABLES_FILE), JSON.stringify(stack.platform.secretVariables, null, 2) + '\n');
}

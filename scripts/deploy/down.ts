// `npm run down`: `cdktf destroy` of the Docker stack, then a check that no container, network
// or (unless --keep-data) volume of the project is left on the engine.
//
// Usage: npm run down -- [--keep-data]
import * as fs from 'fs';
import * as path from 'path';
import {
  capture, declaredResources, deploySecrets, forgetDeploySecrets, leftovers, log, prepareToolchain, run, stackDir, synth,
} from './engine';
import { loadSettings } from './up';

export interface DownOptions {
  /** Keep the data volumes (and the secrets their data was created with). @default false */
  readonly keepData?: boolean;
}

export function parseDownArgs(argv: readonly string[]): DownOptions {
  let keepData = false;
  for (const arg of argv) {
    if (arg === '--keep-data') keepData = true;
    else throw new Error(`unknown argument '${arg}' (known: --keep-data)`);
  }
  return { keepData };
}

export async function down(options: DownOptions): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const start = Date.now();
  const toolchain = await prepareToolchain();
  const env: NodeJS.ProcessEnv = { ...toolchain, ...loadSettings(toolchain) };
  env.RTDS_SECRET_SOURCE ??= 'variables';
  synth(env);
  const secrets = deploySecrets(env);
  const tfEnv = { ...env, ...secrets };
  const terraform = env.TERRAFORM_BINARY_NAME!;
  const statePath = path.join(stackDir, '../../../terraform.docker.tfstate');
  if (options.keepData && fs.existsSync(statePath)) {
    run(terraform, ['init', '-input=false'], { cwd: stackDir, env: tfEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    const volumes = capture(terraform, ['state', 'list'], { env: tfEnv, cwd: stackDir })
      .split('\n').filter((a) => a.startsWith('docker_volume.'));
    // Forgotten by Terraform, the volumes survive destroy; the next `up` adopts them by name.
    if (volumes.length) run(terraform, ['state', 'rm', ...volumes], { cwd: stackDir, env: tfEnv });
  }
  run('npx', ['cdktf', 'destroy', 'docker', '--skip-synth', '--skip-provider-lock', '--auto-approve'], { env: { ...tfEnv, CI: env.CI ?? '1' } });
  const declared = declaredResources();
  const left = leftovers(declared);
  if (options.keepData) left.volumes = [];
  else forgetDeploySecrets(env);
  const remaining = [...left.containers, ...left.networks, ...left.volumes];
  if (remaining.length) throw new Error(`destroy left these behind: ${remaining.join(', ')}`);
  log(`down took ${((Date.now() - start) / 1000).toFixed(0)} s${options.keepData ? `; data volumes kept: ${declared.volumes.join(', ')}` : ''}`);
  return left;
}

if (require.main === module) {
  down(parseDownArgs(process.argv.slice(2))).catch((err: Error) => {
    log(`error: ${err.message}`);
    process.exit(1);
  });
}

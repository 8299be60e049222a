// `npm run up`: installs what is missing (Docker engine, Terraform, providers, local images),
// synthesizes the target's stack, deploys it with `cdktf deploy`, waits until every service is
// ready and prints where to reach it. The target's own steps are in docker.ts and kubernetes.ts.
//
// Usage: npm run up -- [--target docker|kubernetes] [--image-mode local|upstream] [--timeout-minutes N]
// Without --image-mode (or RTDS_IMAGE_MODE / imageMode in the config file) it uses the official
// images when the engine can pull them and builds them all locally when it cannot.
import { ContainerState, upDocker } from './docker';
import { log, prepareToolchain, secondsSince, Target, TARGETS } from './engine';
import { KubernetesUpResult, upKubernetes } from './kubernetes';
import { ImageModeOption, resolveImageMode } from './settings';

export interface UpOptions {
  /** @default 'docker' */
  readonly target?: Target;
  /** @default the config's imageMode (RTDS_IMAGE_MODE, rtds.config.json), else 'upstream' when the engine can pull, 'local' when not */
  readonly imageMode?: ImageModeOption;
  /** How long to wait for every service to be ready after apply. @default 15 */
  readonly timeoutMinutes?: number;
}

const USAGE = '--target docker|kubernetes, --image-mode local|upstream, --timeout-minutes N';

export function parseUpArgs(argv: readonly string[]): UpOptions {
  const options: { target?: Target; imageMode?: ImageModeOption; timeoutMinutes?: number } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--target') {
      const v = value();
      if (!TARGETS.includes(v as Target)) throw new Error(`--target must be ${TARGETS.map((t) => `'${t}'`).join(' or ')}, not '${v}'`);
      options.target = v as Target;
    } else if (arg === '--image-mode') {
      const v = value();
      if (v !== 'local' && v !== 'upstream') throw new Error(`--image-mode must be 'local' or 'upstream', not '${v}'`);
      options.imageMode = v;
    } else if (arg === '--timeout-minutes') {
      const v = Number(value());
      if (!Number.isFinite(v) || v <= 0) throw new Error(`--timeout-minutes must be a positive number, not '${argv[i]}'`);
      options.timeoutMinutes = v;
    } else {
      throw new Error(`unknown argument '${arg}' (known: ${USAGE})`);
    }
  }
  return options;
}

export function up(options: UpOptions & { target?: 'docker' }): Promise<ContainerState[]>;
export function up(options: UpOptions & { target: 'kubernetes' }): Promise<KubernetesUpResult>;
export function up(options: UpOptions): Promise<ContainerState[] | KubernetesUpResult>;
export async function up(options: UpOptions): Promise<ContainerState[] | KubernetesUpResult> {
  const start = Date.now();
  const toolchain = await prepareToolchain();
  log(`engine and Terraform ready in ${secondsSince(start)} s`);
  const imageMode = resolveImageMode(options.imageMode, toolchain);
  const timeout = options.timeoutMinutes ?? 15;
  const result = options.target === 'kubernetes'
    ? await upKubernetes(toolchain, imageMode, timeout)
    : await upDocker(toolchain, imageMode, timeout);
  log(`up took ${secondsSince(start)} s`);
  return result;
}

if (require.main === module) {
  up(parseUpArgs(process.argv.slice(2))).catch((err: Error) => {
    log(`error: ${err.message}`);
    process.exit(1);
  });
}

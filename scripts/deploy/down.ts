// `npm run down`: `cdktf destroy` of the target's stack, then a check that nothing of it is left:
// on Docker no container, network or (unless --keep-data) volume of the project; on Kubernetes
// nothing of the namespace, and with --cluster the project's cluster stopped and the host clean.
//
// Usage: npm run down -- [--target docker|kubernetes] [--keep-data] [--cluster]
import { downDocker } from './docker';
import { log, prepareToolchain, secondsSince, Target, TARGETS } from './engine';
import { downKubernetes, KubernetesDownResult } from './kubernetes';

export interface DownOptions {
  /** @default 'docker' */
  readonly target?: Target;
  /** Keep the data volumes (and the secrets their data was created with); Docker only. @default false */
  readonly keepData?: boolean;
  /** Also stop the project's own cluster and check the host is clean; Kubernetes only. @default false */
  readonly cluster?: boolean;
}

export function parseDownArgs(argv: readonly string[]): DownOptions {
  const options: { target?: Target; keepData?: boolean; cluster?: boolean } = { keepData: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep-data') options.keepData = true;
    else if (arg === '--cluster') options.cluster = true;
    else if (arg === '--target') {
      const v = argv[++i];
      if (!TARGETS.includes(v as Target)) throw new Error(`--target must be ${TARGETS.map((t) => `'${t}'`).join(' or ')}, not '${v ?? ''}'`);
      options.target = v as Target;
    } else throw new Error(`unknown argument '${arg}' (known: --target docker|kubernetes, --keep-data, --cluster)`);
  }
  if (options.cluster && options.target !== 'kubernetes') throw new Error('--cluster stops the Kubernetes cluster: use it with --target kubernetes');
  if (options.keepData && options.target === 'kubernetes') throw new Error('--keep-data is for the Docker target; on Kubernetes the volumes go with the namespace');
  return options;
}

export function down(options: DownOptions & { target?: 'docker' }): Promise<{ containers: string[]; networks: string[]; volumes: string[] }>;
export function down(options: DownOptions & { target: 'kubernetes' }): Promise<KubernetesDownResult>;
export async function down(options: DownOptions): Promise<unknown> {
  const start = Date.now();
  const toolchain = await prepareToolchain();
  const result = options.target === 'kubernetes'
    ? await downKubernetes(toolchain, { cluster: options.cluster ?? false })
    : downDocker(toolchain, options.keepData ?? false);
  log(`down took ${secondsSince(start)} s`);
  return result;
}

if (require.main === module) {
  down(parseDownArgs(process.argv.slice(2)) as DownOptions & { target: 'kubernetes' }).catch((err: Error) => {
    log(`error: ${err.message}`);
    process.exit(1);
  });
}

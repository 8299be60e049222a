// Makes a Terraform binary and the exact providers the stacks use available offline.
//
// Everything is built from Go module source (the Go module proxy is the only place these
// programs can come from without the Terraform registry) and cached under
//   ${XDG_CACHE_HOME:-~/.cache}/rtdatastream/terraform/
//     bin/terraform                      the CLI (built only when none is usable)
//     providers/registry.terraform.io/<ns>/<name>/<version>/linux_amd64/terraform-provider-<name>_v<version>
//     terraformrc                        CLI config: provider_installation { filesystem_mirror }
//     env.sh                             exports TF_CLI_CONFIG_FILE, TERRAFORM_BINARY_NAME, RTDS_PROVIDER_<NAME>
// Idempotent: a second run finds everything cached and only rewrites the two small files.
//
// Usage: ts-node scripts/deploy/terraform.ts [--print-env]
//   RTDS_TERRAFORM_FROM_SOURCE=1  build Terraform even if one is on PATH
import * as fs from 'fs';
import * as path from 'path';
import { $, which } from 'zx';
import { defaultCacheDir } from '../services/service';
import { compareVersions } from '../services/spark-dist';
import { withFileLock } from '../services/process';

const CACHE = path.join(defaultCacheDir(), 'terraform');
const MIRROR = path.join(CACHE, 'providers');
const BIN = path.join(CACHE, 'bin');
const WORK = path.join(CACHE, 'build');
const TERRAFORM_VERSION = '1.11.4';
/** Oldest Terraform that cdktf 0.21 supports and that reads filesystem mirrors the same way. */
const TERRAFORM_MIN = '1.5.0';

export interface MirroredProvider {
  readonly namespace: string;
  readonly name: string;
  /** The version required_providers asks for (offline-app.ts pins it from RTDS_PROVIDER_<NAME>). */
  readonly version: string;
  readonly module: string;
  readonly moduleVersion: string;
}

/**
 * The providers of the offline mirror. The Go module proxy serves only some commits of these
 * modules: the docker provider's only one is this commit after tag v4.6.0, and no 2.x kubernetes
 * or 3.x random exists (docs/DEPLOY.md).
 */
export const PROVIDERS: readonly MirroredProvider[] = [
  { namespace: 'kreuzwerker', name: 'docker', version: '4.6.0', module: 'github.com/kreuzwerker/terraform-provider-docker', moduleVersion: 'v0.0.0-20260916201441-96d331c98ff4' },
  // The only kubernetes provider commit the proxy serves (what @main resolved to): 3.2.1's source.
  { namespace: 'hashicorp', name: 'kubernetes', version: '3.2.1', module: 'github.com/hashicorp/terraform-provider-kubernetes', moduleVersion: 'v1.13.4-0.20260821094251-3a33fb6cc605' },
];

const log = (m: string) => process.stderr.write(`[terraform.ts] ${m}\n`);
const fail = (m: string): never => {
  throw new Error(`[terraform.ts] error: ${m}`);
};
const go = () => $({ quiet: true, env: { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' } });

async function needGo(): Promise<void> {
  if (!(await which('go', { nothrow: true }))) fail("Go >= 1.25 is needed to build Terraform and its providers from module source, and no 'go' is on PATH");
}

/**
 * Downloads a module version from the Go module proxy and copies it somewhere writable,
 * because modules with replace directives must be built inside their own tree.
 */
async function fetchModule(module: string, version: string, dest: string): Promise<void> {
  const out = await go()({ cwd: '/tmp' })`go mod download -json ${`${module}@${version}`}`;
  const dir = (JSON.parse(out.stdout) as { Dir?: string }).Dir;
  if (!dir || !fs.existsSync(dir)) fail(`go mod download ${module}@${version} gave no source directory`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.cpSync(dir!, dest, { recursive: true });
  await $`chmod -R u+w ${dest}`;
}

async function ensureTerraform(): Promise<string> {
  if (fs.existsSync(path.join(BIN, 'terraform'))) return path.join(BIN, 'terraform');
  const onPath = process.env.RTDS_TERRAFORM_FROM_SOURCE ? null : await which('terraform', { nothrow: true });
  if (onPath) {
    const have = (JSON.parse((await $({ quiet: true, nothrow: true })`terraform version -json`).stdout || '{}') as { terraform_version?: string }).terraform_version;
    if (have && compareVersions(have, TERRAFORM_MIN) >= 0) {
      log(`using Terraform ${have} at ${onPath}`);
      return onPath;
    }
  }
  await needGo();
  log(`building Terraform ${TERRAFORM_VERSION} from Go module source (several minutes on 2 cores)`);
  const start = Date.now();
  const src = path.join(WORK, `terraform-${TERRAFORM_VERSION}`);
  await fetchModule('github.com/hashicorp/terraform', `v${TERRAFORM_VERSION}`, src);
  // Go >= 1.26 rejects this setting (its experiment ended); dropping it changes no behaviour.
  await go()({ cwd: src })`go mod edit -dropgodebug=tlskyber`;
  // The remote-state backends are nested modules that the module zip leaves out; the stacks
  // keep local state, so build without them (the local, remote, cloud, http backends stay).
  const init = path.join(src, 'internal/backend/init/init.go');
  fs.writeFileSync(init, fs.readFileSync(init, 'utf8').split('\n').filter((l) => !/backend(Azure|Consul|Cos|GCS|Kubernetes|OSS|Pg|S3)[ .]/.test(l)).join('\n'));
  for (const b of ['azure', 'consul', 'cos', 'gcs', 'kubernetes', 'oss', 'pg', 's3']) {
    const mod = `github.com/hashicorp/terraform/internal/backend/remote-state/${b}`;
    await go()({ cwd: src })`go mod edit ${`-dropreplace=${mod}`} ${`-droprequire=${mod}`}`;
  }
  fs.mkdirSync(BIN, { recursive: true });
  await go()({ cwd: src })`go build -trimpath -ldflags ${'-s -w -X github.com/hashicorp/terraform/version.dev=no'} -o ${path.join(BIN, 'terraform.partial')} .`;
  fs.renameSync(path.join(BIN, 'terraform.partial'), path.join(BIN, 'terraform'));
  fs.rmSync(src, { recursive: true, force: true });
  log(`built Terraform in ${Math.round((Date.now() - start) / 1000)} s`);
  return path.join(BIN, 'terraform');
}

async function ensureProvider(p: MirroredProvider): Promise<void> {
  const dir = path.join(MIRROR, 'registry.terraform.io', p.namespace, p.name, p.version, 'linux_amd64');
  const out = path.join(dir, `terraform-provider-${p.name}_v${p.version}`);
  if (fs.existsSync(out)) return;
  await needGo();
  log(`building provider ${p.namespace}/${p.name} ${p.version} from ${p.module}@${p.moduleVersion}`);
  const start = Date.now();
  const src = path.join(WORK, `${p.name}-${p.version}`);
  await fetchModule(p.module, p.moduleVersion, src);
  fs.mkdirSync(dir, { recursive: true });
  await go()({ cwd: src })`go build -trimpath -ldflags ${`-s -w -X main.version=${p.version} -X main.Version=${p.version}`} -o ${`${out}.partial`} .`;
  fs.renameSync(`${out}.partial`, out);
  fs.rmSync(src, { recursive: true, force: true });
  log(`built ${p.namespace}/${p.name} ${p.version} in ${Math.round((Date.now() - start) / 1000)} s`);
}

/** The variables env.sh exports: the CLI config, the binary, and each mirrored provider's version. */
export function toolchainEnv(terraform: string): Record<string, string> {
  return {
    TF_CLI_CONFIG_FILE: path.join(CACHE, 'terraformrc'),
    TERRAFORM_BINARY_NAME: terraform,
    CHECKPOINT_DISABLE: '1',
    ...Object.fromEntries(PROVIDERS.map((p) => [`RTDS_PROVIDER_${p.name.toUpperCase().replace(/-/g, '_')}`, p.version])),
  };
}

function writeConfig(env: Record<string, string>): void {
  fs.mkdirSync(CACHE, { recursive: true });
  fs.writeFileSync(path.join(CACHE, 'terraformrc'), `# Written by scripts/deploy/terraform.ts: providers come only from the local mirror.
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "${MIRROR}"
    include = ["registry.terraform.io/*/*"]
  }
}
`);
  fs.writeFileSync(path.join(CACHE, 'env.sh'), Object.entries(env).map(([k, v]) => `export ${k}=${k === 'CHECKPOINT_DISABLE' || k.startsWith('RTDS_') ? v : `"${v}"`}`).join('\n') + '\n');
}

/** Terraform and every mirrored provider, built once; returns Terraform's environment. */
export async function ensureToolchain(): Promise<Record<string, string>> {
  return withFileLock(path.join(CACHE, '.lock'), async () => {
    const terraform = await ensureTerraform();
    for (const p of PROVIDERS) await ensureProvider(p);
    const env = toolchainEnv(terraform);
    writeConfig(env);
    return env;
  });
}

if (require.main === module) {
  ensureToolchain().then((env) => {
    if (process.argv[2] === '--print-env') process.stdout.write(fs.readFileSync(path.join(CACHE, 'env.sh'), 'utf8'));
    else log(`ready: source ${path.join(CACHE, 'env.sh')}`);
    void env;
  }, (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}

// Builds the cluster's programs from the Go module proxy (and pause.c with gcc) into the cache:
//   <cache>/<version key>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubelet,
//                              kube-proxy,kubectl,kubeadm,etcd,coredns,pause}
//   <cache>/<version key>/images/pause.tar   an OCI archive of the pause program
// Idempotent: what is in the cache is kept; a half-finished build leaves only *.partial files.
import * as fs from 'fs';
import * as path from 'path';
import { $ } from 'zx';
import { binDir, buildKey, cacheDir, COREDNS_VERSION, CRI_TOOLS_VERSION, KUBERNETES_VERSION, PAUSE_VERSION, VOLUME_BASE } from './layout';
import { log, timed } from './output';
import { writeOciImage } from './oci';

/** The Kubernetes commands, built together in one `go build` so they share compilation. */
export const KUBE_COMMANDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl', 'kubeadm'] as const;
export const ALL_PROGRAMS = [...KUBE_COMMANDS, 'etcd', 'coredns', 'crictl', 'pause'] as const;
export type Program = (typeof ALL_PROGRAMS)[number];

/** The CoreDNS plugins the cluster's Corefile uses, plus log and reload for debugging it; the rest are left out. */
const COREDNS_PLUGINS = ['bind', 'cache', 'errors', 'forward', 'health', 'kubernetes', 'log', 'loop', 'ready', 'reload'];

export function programPath(name: Program, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(binDir(env), name);
}

export function pauseImageArchive(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), buildKey(), 'images', 'pause.tar');
}

/** The name the pause image is imported under; containerd's sandbox_image. */
export const PAUSE_IMAGE = `rtdatastream.local/pause:${PAUSE_VERSION}`;

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };
}

/** Downloads a module version and copies it somewhere writable (go.mod edits need a writable tree). */
async function fetchModule(module: string, version: string, dest: string): Promise<void> {
  const info = JSON.parse((await $({ cwd: '/', env: goEnv(), quiet: true })`go mod download -json ${`${module}@${version}`}`).stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}@${version} gave no source directory${info.Error ? `: ${info.Error}` : ''}`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  await $`cp -r ${info.Dir} ${dest}`;
  await $`chmod -R u+w ${dest}`;
}

/** Replaces `from` by `to` in a source file; fails loudly when the upstream text moved. */
function patchSource(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`cannot patch ${file}: '${from}' not found (did the Kubernetes version change?)`);
  fs.writeFileSync(file, text.replace(from, to));
}

/**
 * The module zip has no staging/ tree and a go.work that points into it: build against the
 * published staging modules instead, at the matching v0.x version.
 */
async function prepareKubernetesSource(src: string): Promise<void> {
  await fetchModule('k8s.io/kubernetes', KUBERNETES_VERSION, src);
  for (const f of ['go.work', 'go.work.sum']) fs.rmSync(path.join(src, f), { force: true });
  const goMod = fs.readFileSync(path.join(src, 'go.mod'), 'utf8');
  const staging = [...goMod.matchAll(/^\s+(k8s\.io\/[a-z0-9-]+) v0\.0\.0$/gm)].map((m) => m[1]);
  const replaced = [...goMod.matchAll(/^\s+(k8s\.io\/[a-z0-9-]+) => \.\/staging\//gm)].map((m) => m[1]);
  if (staging.length < 20) throw new Error(`k8s.io/kubernetes go.mod lists only ${staging.length} staging modules; its layout changed`);
  const stagingVersion = KUBERNETES_VERSION.replace(/^v1\./, 'v0.');
  const edits = [...replaced.map((m) => `-dropreplace=${m}`), ...staging.map((m) => `-require=${m}@${stagingVersion}`)];
  await $({ cwd: src, env: goEnv() })`go mod edit ${edits}`;
  // Volumes must be writable by the non-root users of PostgreSQL, ZooKeeper and the rest: the
  // provisioner ignores fsGroup, so make each volume directory 0777 (as local-path-provisioner
  // does) and give the directories a name that says whose they are.
  const hostPath = path.join(src, 'pkg/volume/hostpath/host_path.go');
  patchSource(hostPath, 'basePath: "hostpath_pv"', `basePath: "${VOLUME_BASE}"`);
  patchSource(hostPath, 'if err := os.MkdirAll(pv.Spec.HostPath.Path, 0750); err != nil {', 'if err := mkdirWorldWritable(pv.Spec.HostPath.Path); err != nil {');
  fs.appendFileSync(hostPath, [
    '',
    '// mkdirWorldWritable is RTDataStream\'s test-cluster patch: pods of any uid can write the volume (the umask would otherwise narrow MkdirAll).',
    'func mkdirWorldWritable(p string) error {',
    '\tif err := os.MkdirAll(p, 0o777); err != nil {',
    '\t\treturn err',
    '\t}',
    '\treturn os.Chmod(p, 0o777)',
    '}',
    '',
  ].join('\n'));
}

function versionLdflags(): string {
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  const values: Record<string, string> = {
    gitVersion: KUBERNETES_VERSION, gitMajor: major, gitMinor: minor, gitTreeState: 'clean',
    gitCommit: 'go-module-proxy', buildDate: '1970-01-01T00:00:00Z',
  };
  const pkgs = ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version'];
  return ['-s -w', ...pkgs.flatMap((p) => Object.entries(values).map(([k, v]) => `-X ${p}.${k}=${v}`))].join(' ');
}

/** The Kubernetes commands and etcd (at the version Kubernetes requires) in one `go build`. */
async function buildKubernetes(out: string, commands: readonly string[] = KUBE_COMMANDS, withEtcd = true): Promise<void> {
  const src = path.join(cacheDir(), 'build', `kubernetes-${KUBERNETES_VERSION}`);
  await prepareKubernetesSource(src);
  const partial = `${out}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const targets = [...commands.map((c) => `./cmd/${c}`), ...(withEtcd ? ['go.etcd.io/etcd/server/v3'] : [])];
  await $({ cwd: src, env: goEnv(), verbose: true })`nice -n 10 go build -trimpath -ldflags ${versionLdflags()} -o ${partial + '/'} ${targets}`;
  // `go build` names a /vN module's main package after the element before the version.
  if (withEtcd) fs.renameSync(path.join(partial, 'server'), path.join(partial, 'etcd'));
  fs.mkdirSync(out, { recursive: true });
  for (const name of [...commands, ...(withEtcd ? ['etcd'] : [])]) fs.renameSync(path.join(partial, name), path.join(out, name));
  fs.rmSync(partial, { recursive: true, force: true });
  fs.rmSync(src, { recursive: true, force: true });
}

/** CoreDNS with only the plugins the Corefile uses (its own go.mod and replaces kept). */
async function buildCoreDns(out: string): Promise<void> {
  const src = path.join(cacheDir(), 'build', `coredns-${COREDNS_VERSION}`);
  await fetchModule('github.com/coredns/coredns', COREDNS_VERSION, src);
  const imports = COREDNS_PLUGINS.map((p) => `\t_ "github.com/coredns/coredns/plugin/${p}"`).join('\n');
  fs.writeFileSync(path.join(src, 'core/plugin/zplugin.go'), `// Trimmed by RTDataStream's cluster build.\n\npackage plugin\n\nimport (\n${imports}\n)\n`);
  const binary = path.join(out, 'coredns');
  await $({ cwd: src, env: goEnv(), verbose: true })`nice -n 10 go build -trimpath -ldflags ${'-s -w'} -o ${binary + '.partial'} .`;
  fs.renameSync(`${binary}.partial`, binary);
  fs.rmSync(src, { recursive: true, force: true });
}

/** crictl: the CRI client teardown removes pods with, even when the API server is gone. */
async function buildCrictl(out: string): Promise<void> {
  const src = path.join(cacheDir(), 'build', `cri-tools-${CRI_TOOLS_VERSION}`);
  await fetchModule('sigs.k8s.io/cri-tools', CRI_TOOLS_VERSION, src);
  const binary = path.join(out, 'crictl');
  const ldflags = `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRI_TOOLS_VERSION}`;
  await $({ cwd: src, env: goEnv(), verbose: true })`nice -n 10 go build -trimpath -ldflags ${ldflags} -o ${binary + '.partial'} ./cmd/crictl`;
  fs.renameSync(`${binary}.partial`, binary);
  fs.rmSync(src, { recursive: true, force: true });
}

/** Kubernetes' pause program, static, from the same module as the rest. */
async function buildPause(out: string): Promise<void> {
  const dir = (await $({ cwd: '/', env: goEnv(), quiet: true })`go mod download -json ${`k8s.io/kubernetes@${KUBERNETES_VERSION}`}`).json<{ Dir: string }>().Dir;
  const binary = path.join(out, 'pause');
  fs.mkdirSync(out, { recursive: true });
  await $`gcc -Os -Wall -Werror -static -DVERSION=v${PAUSE_VERSION} -o ${binary + '.partial'} ${path.join(dir, 'build/pause/linux/pause.c')}`;
  await $`strip ${binary + '.partial'}`;
  fs.renameSync(`${binary}.partial`, binary);
}

/** kubectl alone, for a user who brings a cluster (about 5 CPU-minutes cold instead of about 20). */
export async function ensureKubectl(): Promise<string> {
  if (!fs.existsSync(programPath('kubectl'))) await timed('go build kubectl', () => buildKubernetes(binDir(), ['kubectl'], false));
  return programPath('kubectl');
}

export function missingPrograms(env: NodeJS.ProcessEnv = process.env): Program[] {
  return ALL_PROGRAMS.filter((p) => !fs.existsSync(programPath(p, env)));
}

/** Builds whatever is missing from the cache; returns the seconds each step took. */
export async function ensureBinaries(): Promise<Record<string, number>> {
  const out = binDir();
  const missing = new Set(missingPrograms());
  const times: Record<string, number> = {};
  if (missing.size > 0) {
    if ((await $({ nothrow: true, quiet: true })`command -v go`).exitCode !== 0) {
      throw new Error('the cluster is built from Go module source and no `go` (>= 1.24) is on PATH; install Go and retry');
    }
    log(`building ${[...missing].join(', ')} into ${out} (cold: about 15 min on 2 cores)`);
  }
  if (KUBE_COMMANDS.some((c) => missing.has(c)) || missing.has('etcd')) {
    times.kubernetes = await timed('go build kubernetes + etcd', () => buildKubernetes(out));
  }
  if (missing.has('coredns')) times.coredns = await timed('go build coredns', () => buildCoreDns(out));
  if (missing.has('crictl')) times.crictl = await timed('go build crictl', () => buildCrictl(out));
  if (missing.has('pause')) times.pause = await timed('gcc pause', () => buildPause(out));
  if (!fs.existsSync(pauseImageArchive())) {
    times.pauseImage = await timed('pause image', () => writeOciImage(pauseImageArchive(), PAUSE_IMAGE, programPath('pause'), '/pause'));
  }
  return times;
}

if (require.main === module) {
  ensureBinaries().then(
    (times) => log(`binaries ready in ${binDir()} ${JSON.stringify(times)}`),
    (err: Error) => {
      log(`error: ${err.message}`);
      process.exit(1);
    },
  );
}

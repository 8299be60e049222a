// `npm run cluster:up`: builds what the cache lacks, checks the host, records it as it is, and
// starts (or completes) the cluster; idempotent: a running cluster is left as it is.
import * as fs from 'fs';
import * as path from 'path';
import { $ } from 'zx';
import { isAlive, readPid, spawnDaemon, waitFor } from '../services/process';
import { applyBootstrap } from './bootstrap';
import { ensureBinaries, PAUSE_IMAGE, pauseImageArchive, programPath } from './build';
import { Component, componentPath, components } from './components';
import {
  writeCniConfig, writeContainerdConfig, writeCorefile, writeKubeletConfig, writeProxyConfig,
} from './config';
import { linkExists } from './host';
import { BRIDGE_GATEWAY, BRIDGE_NAME, NODE_NAME, POD_CIDR, StatePaths, statePaths } from './layout';
import { log, timed } from './output';
import { ensurePki, kubeconfigFor } from './pki';
import { checkBridgeFree, checkCgroups, checkKernel, checkPorts, ensureDebianPackages, requireRoot } from './prereqs';
import { captureBaseline, readRecord, withLock, writeRecord } from './record';
import { userKubectl } from './kubectl';

const repoRoot = path.resolve(__dirname, '../..');

export function pidFile(paths: StatePaths, name: string): string {
  return path.join(paths.pids, `${name}.pid`);
}

/** The component's pid when it runs from this state directory (a reused pid is not ours). */
export function runningPid(paths: StatePaths, name: string): number | undefined {
  const pid = readPid(pidFile(paths, name));
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(paths.root) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pod bridge, made before any pod so that CoreDNS can bind its gateway address. */
async function ensureBridge(): Promise<void> {
  if (!(await linkExists(BRIDGE_NAME))) await $`ip link add ${BRIDGE_NAME} type bridge`;
  const prefix = POD_CIDR.split('/')[1];
  const addrs = (await $({ quiet: true })`ip -4 -o addr show dev ${BRIDGE_NAME}`).stdout;
  if (!addrs.includes(`${BRIDGE_GATEWAY}/${prefix}`)) await $`ip addr add ${`${BRIDGE_GATEWAY}/${prefix}`} dev ${BRIDGE_NAME}`;
  await $`ip link set ${BRIDGE_NAME} up`;
}

async function start(paths: StatePaths, c: Component): Promise<void> {
  if (runningPid(paths, c.name) !== undefined && (await c.ready())) return;
  if (runningPid(paths, c.name) === undefined) {
    const logFile = path.join(paths.logs, `${c.name}.log`);
    spawnDaemon({ command: c.command, args: c.args, logFile, pidFile: pidFile(paths, c.name), cwd: paths.root, env: { PATH: componentPath() } });
  }
  await timed(`${c.name} ready`, () => waitFor(c.name, c.ready, {
    timeoutMs: c.startTimeoutMs,
    alive: () => runningPid(paths, c.name) !== undefined,
    hint: () => `last lines of ${path.join(paths.logs, `${c.name}.log`)}:\n${tail(path.join(paths.logs, `${c.name}.log`), 15)}`,
  }));
}

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function importPauseImage(paths: StatePaths): Promise<void> {
  const ctr = ['--address', paths.containerdSocket, '-n', 'k8s.io'];
  const have = (await $({ quiet: true })`ctr ${ctr} images ls -q`).stdout.split('\n');
  if (!have.includes(PAUSE_IMAGE)) await $({ quiet: true })`ctr ${ctr} images import ${pauseImageArchive()}`;
}

async function waitNodeReady(paths: StatePaths): Promise<void> {
  const kubectl = programPath('kubectl');
  await waitFor(`node ${NODE_NAME} Ready`, async () => {
    const r = await $({ nothrow: true, quiet: true })`${kubectl} --kubeconfig ${paths.kubeconfig} get node ${NODE_NAME} -o ${'jsonpath={.status.conditions[?(@.type=="Ready")].status}'}`;
    return r.stdout.trim() === 'True';
  }, { timeoutMs: 120_000, hint: () => `last lines of the kubelet log:\n${tail(path.join(paths.logs, 'kubelet.log'), 15)}` });
}

export interface UpResult {
  readonly kubeconfig: string;
  readonly kubectl: string;
  /** False when the cluster was already running. */
  readonly started: boolean;
  readonly seconds: Record<string, number>;
}

export async function clusterUp(env: NodeJS.ProcessEnv = process.env): Promise<UpResult> {
  requireRoot();
  const paths = statePaths(env);
  const seconds: Record<string, number> = {};
  Object.assign(seconds, await ensureBinaries());
  return withLock(paths, 'cluster:up', async () => {
    const all = components(paths);
    const running = new Set(all.filter((c) => runningPid(paths, c.name) !== undefined).map((c) => c.name));
    const record = readRecord(paths);
    if (running.size === all.length && (await Promise.all(all.map((c) => c.ready()))).every(Boolean)) {
      log(`already running (started from ${record?.checkout ?? 'an unknown checkout'} at ${record?.startedAt ?? '?'})`);
      return { kubeconfig: paths.kubeconfig, kubectl: userKubectl(paths), started: false, seconds };
    }
    const startAt = Date.now();
    await ensureDebianPackages();
    checkCgroups();
    await checkPorts(running);
    await checkBridgeFree(paths, record !== undefined);
    if (!record) {
      // Before anything changes the host: teardown restores and checks against this.
      writeRecord(paths, { checkout: repoRoot, startedAt: new Date().toISOString(), baseline: await captureBaseline() });
    }
    await checkKernel();
    seconds.pki = await timed('certificates and kubeconfigs (kubeadm phases)', () => ensurePki(paths));
    writeContainerdConfig(paths);
    writeCniConfig(paths);
    writeKubeletConfig(paths);
    writeProxyConfig(paths, kubeconfigFor(paths, 'kube-proxy'));
    writeCorefile(paths, kubeconfigFor(paths, 'coredns'));
    await ensureBridge();
    fs.mkdirSync(paths.pids, { recursive: true });
    for (const c of all) {
      await start(paths, c);
      if (c.name === 'containerd') await importPauseImage(paths);
      if (c.name === 'kube-apiserver') await applyBootstrap(paths);
    }
    await timed(`node ${NODE_NAME} Ready`, () => waitNodeReady(paths));
    seconds.start = Math.round((Date.now() - startAt) / 100) / 10;
    log(`cluster up in ${seconds.start} s (from ${running.size === 0 ? 'nothing' : `${running.size} components already running`})`);
    return { kubeconfig: paths.kubeconfig, kubectl: userKubectl(paths), started: true, seconds };
  });
}

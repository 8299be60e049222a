// Makes a Docker engine answer on /var/run/docker.sock: installs Debian's docker.io when no
// dockerd exists and starts one when none runs. Idempotent; safe to call before every deploy.
//
// Usage: ts-node scripts/deploy/dockerd.ts   (log: ${XDG_CACHE_HOME:-~/.cache}/rtdatastream/dockerd.log)
//   RTDS_DOCKERD_TIMEOUT=60  seconds to wait for the socket
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { $, which } from 'zx';
import { sleep } from '../services/process';
import { defaultCacheDir } from '../services/service';

const SOCK = '/var/run/docker.sock';
const PID_FILE = '/var/run/docker.pid';
const log = (m: string) => process.stderr.write(`[dockerd.ts] ${m}\n`);

async function engineVersion(): Promise<string | undefined> {
  const r = await $({ quiet: true, nothrow: true })`docker version --format ${'{{.Server.Version}}'}`;
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/**
 * A dockerd that was killed (SIGKILL, a CI runner ending every process) leaves its pid file, and a
 * new dockerd then refuses to start ("pid file found"). The file is removed when its pid is no
 * live dockerd.
 */
function removeStalePidFile(): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(PID_FILE, 'utf8').trim());
  } catch {
    return;
  }
  let comm = '';
  try {
    comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    /* no such process */
  }
  if (comm === 'dockerd') return;
  log(`removing ${PID_FILE}: pid ${pid} is ${comm ? `a ${comm}, not dockerd` : 'gone'} (a dockerd that was killed)`);
  fs.rmSync(PID_FILE, { force: true });
}

/** Root runs it as is; anyone else through sudo. */
const asRoot = (args: string[]) => (process.getuid?.() === 0 ? args : ['sudo', ...args]);

export async function ensureDockerd(): Promise<void> {
  if ((await which('docker', { nothrow: true })) && (await engineVersion())) {
    log(`engine ${await engineVersion()} already answers`);
    return;
  }
  if (!(await which('dockerd', { nothrow: true }))) {
    if (!(await which('apt-get', { nothrow: true }))) throw new Error('[dockerd.ts] error: no dockerd and no apt-get: install Docker Engine by hand');
    log("installing Debian's docker.io");
    const [cmd, ...args] = asRoot(['apt-get', 'update', '-qq']);
    await $({ quiet: true })`${cmd} ${args}`;
    const [icmd, ...iargs] = asRoot(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'docker.io', 'iptables', 'ca-certificates']);
    await $({ quiet: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })`${icmd} ${iargs}`;
  }
  const logFile = path.join(defaultCacheDir(), 'dockerd.log');
  if ((await $({ nothrow: true, quiet: true })`pgrep -x dockerd`).exitCode !== 0) {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    if (process.getuid?.() === 0) removeStalePidFile();
    log(`starting dockerd (log: ${logFile})`);
    const out = fs.openSync(logFile, 'a');
    // Its own session: the engine must outlive the shell (and the test runner) that started it.
    const [cmd, ...args] = asRoot(['setsid', 'dockerd']);
    spawn(cmd, args, { detached: true, stdio: ['ignore', out, out] }).unref();
    fs.closeSync(out);
  }
  const timeout = Number(process.env.RTDS_DOCKERD_TIMEOUT || 60);
  for (let i = 0; i < timeout; i++) {
    const version = fs.existsSync(SOCK) ? await engineVersion() : undefined;
    if (version) {
      log(`engine ${version} answers on ${SOCK}`);
      return;
    }
    await sleep(1000);
  }
  const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n') : '';
  throw new Error(`${tail}\n[dockerd.ts] error: dockerd did not answer on ${SOCK} within ${timeout}s (see ${logFile})`);
}

if (require.main === module) {
  ensureDockerd().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}

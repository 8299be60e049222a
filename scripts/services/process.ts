// Detached processes with pid files, port checks and waiting: what every local service shares.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers signal 0; it is not running.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

export interface DaemonOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /** Written with the child's pid. */
  readonly pidFile: string;
  /** @default the log file's directory */
  readonly cwd?: string;
  /** Added to the current environment. @default nothing added */
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this user id/group id (PostgreSQL refuses root). @default the current user */
  readonly uid?: number;
  readonly gid?: number;
}

/** Starts a process in its own session, detached from the CLI, and records its pid. */
export function spawnDaemon(opts: DaemonOptions): number {
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(opts.command, [...opts.args], {
    cwd: opts.cwd ?? path.dirname(opts.logFile),
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', out, out],
    uid: opts.uid,
    gid: opts.gid,
  });
  fs.closeSync(out);
  // A missing binary is reported by the pid check below, not as an unhandled 'error' event.
  child.on('error', () => undefined);
  if (child.pid === undefined) throw new Error(`could not start ${opts.command}: not found or not executable`);
  child.unref();
  fs.writeFileSync(opts.pidFile, `${child.pid}\n`);
  return child.pid;
}

/**
 * Sends `signal` (default SIGTERM) to the pid's process group, SIGKILL after the grace period;
 * removes the pid file.
 */
export async function stopPid(
  pidFile: string,
  graceMs: number,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  const pid = readPid(pidFile);
  if (pid !== undefined && isAlive(pid)) {
    signalGroup(pid, signal);
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(200);
    if (isAlive(pid)) {
      signalGroup(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(100);
    }
  }
  fs.rmSync(pidFile, { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Daemons lead their own process group (detached), so this reaches their children too.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** The one sleep: Node's own. */
export { setTimeout as sleep } from 'node:timers/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** The last lines of a log, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Where a detached process of the project keeps its pid and log: `<home>/<name>/{pid,log}`. */
export function processFiles(home: string, name: string): { pidFile: string; logFile: string } {
  const dir = path.join(home, name);
  return { pidFile: path.join(dir, 'pid'), logFile: path.join(dir, 'log') };
}

/** True when something accepts TCP connections on host:port. */
export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when we can bind host:port ourselves. */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws a message naming the port, the service and the variable that moves it. */
export async function assertPortFree(service: string, portName: string, port: number, env: string): Promise<void> {
  if (!(await portFree(port))) {
    throw new Error(
      `port ${port} (${service} ${portName}) is already in use by another process: stop it or set ${env} to a free port`,
    );
  }
}

/** Polls `check` until true; throws with `what` and `hint` when the timeout passes or `alive` turns false. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; alive?: () => boolean; hint?: () => string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (opts.alive && !opts.alive()) {
      throw new Error(`${what}: the process exited before it became healthy\n${opts.hint ? opts.hint() : ''}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not healthy after ${Math.round(opts.timeoutMs / 1000)} s\n${opts.hint ? opts.hint() : ''}`);
    }
    await sleep(opts.intervalMs ?? 500);
  }
}

/** Takes `lock` (a pid file) unless a live process holds it; returns that holder's pid, else undefined (taken). */
function takeLock(lock: string): number | undefined {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return undefined;
    } catch {
      const holder = readPid(lock);
      if (holder !== undefined && isAlive(holder)) return holder;
      // A dead holder's lock is taken over.
      fs.rmSync(lock, { force: true });
    }
  }
}

function waitingFor(lock: string, holder: number, since: number, timeoutMs: number, told: boolean): void {
  if (Date.now() - since > timeoutMs) throw new Error(`${lock} is held by pid ${holder} for too long`);
  if (!told) process.stderr.write(`waiting for pid ${holder}, which holds ${lock}\n`);
}

/** One holder at a time of `lock` (a pid file); a second waits, a dead holder's lock is taken over. */
export async function withFileLock<T>(lock: string, body: () => Promise<T>, timeoutMs = 60 * 60_000): Promise<T> {
  const since = Date.now();
  for (let holder, told = false; (holder = takeLock(lock)) !== undefined; told = true) {
    waitingFor(lock, holder, since, timeoutMs, told);
    await sleep(2000);
  }
  try {
    return await body();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** withFileLock for synchronous work (provisioning a cache entry that another checkout may be building). */
export function withFileLockSync<T>(lock: string, body: () => T, timeoutMs = 60 * 60_000): T {
  const since = Date.now();
  for (let holder, told = false; (holder = takeLock(lock)) !== undefined; told = true) {
    waitingFor(lock, holder, since, timeoutMs, told);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
  }
  try {
    return body();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/**
 * CPU time of processes and their descendants, read from /proc (Linux). On a shared machine CPU
 * per record moves far less than wall time, and split by process it says where a run's time went.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

interface ProcStat {
  readonly ppid: number;
  /** Own user + system ticks. */
  readonly own: number;
  /** User + system ticks of its children that ended and were waited for. */
  readonly reaped: number;
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

function readStat(entry: string): ProcStat {
  const text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
  // Fields after the command (which may hold spaces): state ppid ... utime(14) stime cutime cstime.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
}

/** Every process's parent and CPU ticks, read once. */
function procTable(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      stats.set(Number(entry), readStat(entry));
    } catch {
      /* the process ended meanwhile */
    }
  }
  return stats;
}

/**
 * CPU seconds used so far by each group's processes and all their descendants (with the children
 * they reaped). A process counts once, in the first group whose tree holds it.
 */
export function cpuByGroup(groups: Readonly<Record<string, readonly number[]>>): Record<string, number> {
  const stats = procTable();
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  const seen = new Set<number>();
  const out: Record<string, number> = {};
  for (const [group, roots] of Object.entries(groups)) {
    let ticks = 0;
    for (const todo = roots.filter((p) => stats.has(p)); todo.length > 0;) {
      const pid = todo.pop()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      ticks += stats.get(pid)!.own + stats.get(pid)!.reaped;
      todo.push(...(children.get(pid) ?? []));
    }
    out[group] = ticks / ticksPerSecond();
  }
  return out;
}

/** CPU seconds used so far by these processes and all their descendants. */
export function treeCpuSeconds(roots: readonly number[]): number {
  return cpuByGroup({ all: roots }).all;
}

/** This process's own CPU seconds, and its ended children's (waited for) apart. */
export function selfCpuSeconds(): { own: number; reaped: number } {
  const s = readStat('self');
  return { own: s.own / ticksPerSecond(), reaped: s.reaped / ticksPerSecond() };
}

/**
 * The processes a local run keeps pid files for (`<home>/<name>/pid` and `<home>/<name>/*.pid`:
 * the services, Airflow's components, the pipeline's source, relay and Spark job), by directory.
 */
export function pidFileGroups(home: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (!fs.existsSync(home)) return out;
  for (const dir of fs.readdirSync(home, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const pids: number[] = [];
    for (const file of fs.readdirSync(path.join(home, dir.name))) {
      if (file !== 'pid' && !file.endsWith('.pid')) continue;
      const pid = Number(fs.readFileSync(path.join(home, dir.name, file), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && fs.existsSync(`/proc/${pid}`)) pids.push(pid);
    }
    if (pids.length > 0) out[dir.name] = pids;
  }
  return out;
}

/** Where a run's CPU went: seconds per process group over the run, beside what the cores offered. */
export interface CpuProfile {
  readonly wallSeconds: number;
  /** Wall seconds × the machine's cores. */
  readonly coreSeconds: number;
  /** CPU seconds per group, largest first; `bench` is this process, `bench children` what it ran and waited for (ingest). */
  readonly groups: Record<string, number>;
}

/**
 * Starts a CPU profile of the local run in `home` (the groups of `pidFileGroups`, this process and
 * its children); the returned function ends it. A group's processes are the ones running at the
 * start, with everything they start meanwhile.
 */
export function startCpuProfile(home: string, cores: number): () => CpuProfile {
  const groups = pidFileGroups(home);
  const before = cpuByGroup(groups);
  const self0 = selfCpuSeconds();
  const t0 = Date.now();
  return () => {
    const after = cpuByGroup(groups);
    const self1 = selfCpuSeconds();
    const wallSeconds = (Date.now() - t0) / 1000;
    const used: [string, number][] = [
      ...Object.keys(groups).map((g): [string, number] => [g, after[g] - before[g]]),
      ['bench', self1.own - self0.own],
      ['bench children', self1.reaped - self0.reaped],
    ];
    const round = (s: number) => Math.round(s * 10) / 10;
    return {
      wallSeconds: round(wallSeconds),
      coreSeconds: round(wallSeconds * cores),
      groups: Object.fromEntries(used.filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1]).map(([g, s]) => [g, round(s)])),
    };
  };
}

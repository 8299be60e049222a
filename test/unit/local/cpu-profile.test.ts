import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cpuByGroup, pidFileGroups, startCpuProfile } from '../../../bench/cpu/proc';

// A child that burns CPU until killed, and a parent that only waits on it.
function busyTree(): ChildProcess {
  return spawn(process.execPath, ['-e', "const c = require('child_process').spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }); process.on('SIGTERM', () => { c.kill('SIGKILL'); process.exit(0); }); setInterval(() => {}, 1000);"], { stdio: 'ignore' });
}

async function cpuOf(pid: number, atLeast: number): Promise<number> {
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const s = cpuByGroup({ tree: [pid] }).tree;
    if (s >= atLeast) return s;
  }
  return cpuByGroup({ tree: [pid] }).tree;
}

describe('CPU profile of a run (bench/cpu/proc.ts)', () => {
  let home: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-cpu-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGTERM');
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('counts a process tree\'s descendants with it, and each process in one group only', async () => {
    const parent = busyTree();
    children.push(parent);
    // The grandchild's busy loop shows up in the parent's tree.
    expect(await cpuOf(parent.pid!, 0.3)).toBeGreaterThanOrEqual(0.3);
    const both = cpuByGroup({ first: [parent.pid!], again: [parent.pid!], none: [] });
    expect(both.first).toBeGreaterThanOrEqual(0.3);
    expect(both.again).toBe(0);
    expect(both.none).toBe(0);
  });

  it('finds the pid files of a local run by directory, skipping dead pids and other files', () => {
    const busy = busyTree();
    children.push(busy);
    fs.mkdirSync(path.join(home, 'relay'));
    fs.writeFileSync(path.join(home, 'relay', 'pid'), `${busy.pid}\n`);
    fs.mkdirSync(path.join(home, 'spark'));
    fs.writeFileSync(path.join(home, 'spark', 'pid'), `${process.pid}\n`);
    fs.writeFileSync(path.join(home, 'spark', 'worker.pid'), `${busy.pid}\n`);
    fs.writeFileSync(path.join(home, 'spark', 'log'), '12\n');
    fs.mkdirSync(path.join(home, 'gone'));
    fs.writeFileSync(path.join(home, 'gone', 'pid'), '999999999\n');
    fs.writeFileSync(path.join(home, 'endpoints.json'), '{}');
    expect(pidFileGroups(home)).toEqual({ relay: [busy.pid], spark: [process.pid, busy.pid] });
    expect(pidFileGroups(path.join(home, 'missing'))).toEqual({});
  });

  it('reports each group\'s CPU over the run, largest first, and the core-seconds offered', async () => {
    const busy = busyTree();
    children.push(busy);
    fs.mkdirSync(path.join(home, 'busy'));
    fs.writeFileSync(path.join(home, 'busy', 'pid'), `${busy.pid}\n`);
    fs.mkdirSync(path.join(home, 'idle'));
    fs.writeFileSync(path.join(home, 'idle', 'pid'), `${process.ppid}\n`);
    const stop = startCpuProfile(home, 2);
    await new Promise((r) => setTimeout(r, 1500));
    const p = stop();
    expect(p.wallSeconds).toBeGreaterThanOrEqual(1.4);
    expect(p.coreSeconds).toBeCloseTo(p.wallSeconds * 2, 0);
    expect(Object.keys(p.groups)[0]).toBe('busy');
    expect(p.groups.busy).toBeGreaterThan(0.3);
    expect(p.groups.busy).toBeLessThanOrEqual(p.wallSeconds + 0.1);
  });
});

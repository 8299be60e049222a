// The cache under ${XDG_CACHE_HOME}/rtdatastream is shared by every checkout on the machine:
// a venv is one directory per content of its inputs, and builders take turns through a lock file.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { venvDir } from '../../../scripts/services/python-env';
import { withFileLockSync } from '../../../scripts/services/process';

describe('the shared cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-cache-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives each content of the requirements its own venv directory, so one checkout never rebuilds another\'s in place', () => {
    const requirements = path.join(dir, 'requirements.txt');
    const spec = { base: path.join(dir, 'venv'), pipArgs: ['-r', requirements], inputs: [requirements] };
    fs.writeFileSync(requirements, 'pyspark==3.5.7\nfastavro==1.13.1\n');
    const before = venvDir(spec);
    expect(venvDir(spec)).toBe(before);
    expect(path.basename(before)).toMatch(/^venv-[0-9a-f]{12}$/);
    fs.writeFileSync(requirements, 'pyspark==3.5.7\nfastavro==1.13.1\npyarrow==12.0.1\n');
    expect(venvDir(spec)).not.toBe(before);
    expect(path.dirname(venvDir(spec))).toBe(dir);
  });

  it('runs a synchronous build under the lock and releases it, even when the build fails', () => {
    const lock = path.join(dir, 'venv-x.lock');
    expect(withFileLockSync(lock, () => fs.readFileSync(lock, 'utf8').trim())).toBe(String(process.pid));
    expect(fs.existsSync(lock)).toBe(false);
    expect(() => withFileLockSync(lock, () => { throw new Error('pip failed'); })).toThrow('pip failed');
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('takes over the lock of a builder that died, and waits for one that is alive', () => {
    const lock = path.join(dir, 'venv-y.lock');
    // A pid that is not running: the lock is stale.
    fs.writeFileSync(lock, '2147483646\n');
    expect(withFileLockSync(lock, () => 'built')).toBe('built');
    // The test runner's parent is alive: a lock it holds makes the builder wait, here until the timeout.
    fs.writeFileSync(lock, `${process.ppid}\n`);
    expect(() => withFileLockSync(lock, () => 'built', 0)).toThrow(`${lock} is held by pid ${process.ppid} for too long`);
    expect(fs.readFileSync(lock, 'utf8').trim()).toBe(String(process.ppid));
  });
});

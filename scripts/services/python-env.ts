// Python virtual environments for the local services: built once per content of their inputs
// and cached (a directory per content), shared by Spark (PySpark, the job's tests) and Airflow (its own venv).
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { withFileLockSync } from './process';
import { ServiceContext } from './service';

const REPO = path.resolve(__dirname, '..', '..');

/** The interpreter venvs are made from: `RTDS_PYTHON`, else python3.11, else python3. */
export function basePython(): string {
  const candidates = process.env.RTDS_PYTHON ? [process.env.RTDS_PYTHON] : ['python3.11', 'python3'];
  for (const candidate of candidates) {
    try {
      const version = execFileSync(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      const [major, minor] = version.split('.').map(Number);
      if (major === 3 && minor >= 9 && minor <= 12) return candidate;
    } catch {
      /* try the next one */
    }
  }
  throw new Error(
    `no Python 3.9-3.12 found (tried ${candidates.join(', ')}): install python3.11 (Debian: apt-get install python3 python3-venv) or set RTDS_PYTHON`,
  );
}

export interface VenvSpec {
  /** Where the venv goes, inside the cache: `<base>-<first 12 hex of the inputs' hash>`. */
  readonly base: string;
  /** Lines given to `pip install` (requirement specifiers or `-r file` / `-c file` pairs). */
  readonly pipArgs: readonly string[];
  /** Files whose content decides whether the venv is current (requirements, constraints). */
  readonly inputs: readonly string[];
}

function located(spec: VenvSpec): { digest: string; dir: string } {
  const hash = createHash('sha256');
  // Paths inside the checkout count by name only, so every clone shares one cached venv.
  hash.update(spec.pipArgs.map((a) => (path.isAbsolute(a) && a.startsWith(REPO + path.sep) ? path.relative(REPO, a) : a)).join('\n'));
  for (const input of spec.inputs) hash.update(fs.readFileSync(input));
  const digest = hash.digest('hex');
  return { digest, dir: `${spec.base}-${digest.slice(0, 12)}` };
}

/**
 * The venv's directory for these inputs. One per content, not one rebuilt in place: checkouts of
 * different requirements share the cache (and the machine), and a rebuild would pull the venv from
 * under another checkout's running Spark job or tests.
 */
export function venvDir(spec: VenvSpec): string {
  return located(spec).dir;
}

/** The venv's python; builds the venv when missing (a stamp marks it complete; one builder at a time). */
export function ensureVenv(ctx: ServiceContext, name: string, spec: VenvSpec): string {
  const { digest, dir } = located(spec);
  const python = path.join(dir, 'bin', 'python');
  const stamp = path.join(dir, '.rtds-stamp');
  const ready = () => fs.existsSync(python) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8').trim() === digest;
  if (ready()) return python;
  return withFileLockSync(`${dir}.lock`, () => {
    // Another process may have built it while this one waited for the lock.
    if (ready()) return python;
    const started = Date.now();
    ctx.log(`${name}: building the Python venv ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    const base = basePython();
    try {
      run(base, ['-m', 'venv', dir], `${name}: python -m venv`);
    } catch (err) {
      // Debian's python3 comes without ensurepip until python3-venv is installed.
      if (process.getuid?.() !== 0 || !fs.existsSync('/usr/bin/apt-get')) throw err;
      ctx.log(`${name}: installing Debian package python3-venv`);
      execFileSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'python3-venv'], {
        stdio: 'ignore',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      fs.rmSync(dir, { recursive: true, force: true });
      run(base, ['-m', 'venv', dir], `${name}: python -m venv`);
    }
    run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...spec.pipArgs], `${name}: pip install`);
    fs.writeFileSync(stamp, digest + '\n');
    ctx.log(`${name}: venv ready in ${Math.round((Date.now() - started) / 1000)} s`);
    return python;
  });
}

export function run(command: string, args: readonly string[], what: string, env?: NodeJS.ProcessEnv): string {
  try {
    return execFileSync(command, [...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      env: env ?? process.env,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${what} failed\n${out || e.message}`);
  }
}


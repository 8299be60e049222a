// Disk full on the landing database (issue 13, item 4): a PostgreSQL of the local runtime's kind
// (scripts/services/postgres.ts: same binaries, same initdb, same settings) whose cluster lives on
// a size-limited tmpfs this scenario mounts, so that a real ingest run fills it. Expected: the run
// fails with an error naming the full disk; every page landed is whole; once space is freed (the
// tmpfs grown, PostgreSQL started again if the full WAL stopped it) `ingest_runs` says how the run
// ended and a rerun with its seed lands the rest exactly once.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Pool } from 'pg';
import { createContext } from '../../scripts/services/lifecycle';
import { postgres } from '../../scripts/services/postgres';
import { isAlive, readPid, sleep } from '../../scripts/services/process';
import { ServiceContext } from '../../scripts/services/service';
import { sourceUrl } from '../../scripts/local/pipeline';
import { migratePostgres } from '../../workloads/migrate/postgres';
import { runIngest, RunStatus } from '../../workloads/ingest/run';
import { Outcome, USERS } from './scenario';
import { freePort } from '../shared/ports';

/** Room for initdb, the pipeline database and its migrations (about 45 MiB of it is used then). */
const SETUP_MIB = 256;
/**
 * Free space left for the run: the tmpfs is shrunk to what the migrated cluster uses plus this,
 * which holds a few thousand users and their WAL; a run of USERS (some 60 MiB of rows and
 * indexes, as much WAL again) cannot fit.
 */
const HEADROOM_MIB = 20;
/** What "space freed" means here: the same tmpfs grown, with room for the whole run. */
const FREED_MIB = 1024;
/** Pages small enough that several land whole before the disk fills. */
const BATCH = 1_000;

export const DISK_FULL_SCENARIO = 'postgres disk full';
export const DISK_FULL_EXPECTED = 'the ingest run fails naming the full disk; every landed page is whole; after space is freed ingest_runs says failed with that cause and a rerun with its seed lands the rest exactly once';

/** The runtime's PostgreSQL reads its port from RTDS_POSTGRES_PORT at each call; this instance has its own. */
async function onPort<T>(port: number, body: () => Promise<T>): Promise<T> {
  const before = process.env.RTDS_POSTGRES_PORT;
  process.env.RTDS_POSTGRES_PORT = String(port);
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.RTDS_POSTGRES_PORT;
    else process.env.RTDS_POSTGRES_PORT = before;
  }
}

function mountTmpfs(dir: string, mib: number, remount = false): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${remount ? 'remount,' : ''}size=${mib}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
}

const usedMib = (dir: string) => {
  const s = fs.statfsSync(dir);
  return Math.round(((s.blocks - s.bfree) * s.bsize) / 2 ** 20);
};

/** Runs the scenario on its own PostgreSQL and takes everything down again; throws naming what went wrong. */
export async function runDiskFull(log: (m: string) => void): Promise<Outcome> {
  if (process.getuid?.() !== 0) throw new Error('the disk-full scenario mounts a tmpfs and needs root');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-disk-full-'));
  // PostgreSQL runs as the runtime's service account, which must reach the cluster directory.
  fs.chmodSync(home, 0o755);
  const cluster = path.join(home, 'postgres', 'data');
  fs.mkdirSync(cluster, { recursive: true });
  const port = await freePort();
  const ctx: ServiceContext = createContext({ home, log: (m) => log(`disk-full: ${m}`) });
  let mounted = false;
  let pool: Pool | undefined;
  try {
    mountTmpfs(cluster, SETUP_MIB);
    mounted = true;
    const endpoint = await onPort(port, async () => {
      await postgres.start(ctx);
      await postgres.prepare(ctx);
      return (await postgres.endpoints(ctx)).postgres!;
    });
    const cfg = { host: endpoint.host, port: endpoint.port, user: endpoint.user, password: endpoint.password, database: endpoint.database };
    await migratePostgres(cfg);
    pool = new Pool({ ...cfg, max: 4 });
    // The server may stop under its clients (a full WAL is a PANIC): idle clients then error here.
    pool.on('error', () => undefined);
    const small = usedMib(cluster) + HEADROOM_MIB;
    mountTmpfs(cluster, small, true);
    log(`disk-full: PostgreSQL on 127.0.0.1:${port}, cluster on a tmpfs shrunk to ${small} MiB (${HEADROOM_MIB} MiB free) for the run`);

    const seed = `faults-disk-full-${Date.now()}`;
    const first = await runIngest({ pool, sourceUrl: sourceUrl(), users: USERS, seed, batchSize: BATCH });
    const failedAt = Date.now();
    if (first.state !== 'failed') throw new Error(`the run of ${USERS} users with ${HEADROOM_MIB} MiB free ended ${first.state}: the disk did not fill (lower HEADROOM_MIB)`);
    if (!/out of disk space/.test(first.error ?? '') || !/No space left on device/.test(first.error ?? '') || !first.error!.includes(seed)) {
      throw new Error(`the failed run's error should name the full disk and the seed to rerun, it says: ${first.error}`);
    }
    log(`disk-full: run failed after ${first.inserted} users: ${first.error}`);

    // Space freed: the tmpfs grown; PostgreSQL started again if the full WAL stopped it.
    mountTmpfs(cluster, FREED_MIB, true);
    const stopped = await onPort(port, async () => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if (await postgres.healthy(ctx)) return false;
        const pid = readPid(postgres.pidFile(ctx));
        if (pid === undefined || !isAlive(pid)) break;
        await sleep(500);
      }
      await postgres.start(ctx);
      return true;
    });
    // A full WAL is a PANIC: the server ends every session and reinitializes, and its recovery
    // succeeds only once there is space again (else it shuts down and is started again above).
    const panicked = /PANIC: .*No space left on device/.test(fs.readFileSync(postgres.logFile(ctx), 'utf8'));
    const server = stopped ? 'PostgreSQL had shut down (its WAL could not be written) and was started again'
      : panicked ? 'PostgreSQL had PANICked (its WAL could not be written) and recovered by itself once space was freed'
        : 'PostgreSQL kept running (a data file could not grow)';
    log(`disk-full: tmpfs grown to ${FREED_MIB} MiB; ${server}`);

    // The failed run's row says so once the database takes it (ingest offers it again every 5 s).
    const row = await (async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = (await pool.query<{ state: string; error: string | null; counts: Partial<RunStatus> }>('SELECT state, error, counts FROM ingest_runs WHERE id = $1', [first.id]).catch(() => ({ rows: [] }))).rows[0];
        if (r?.state === 'failed') return r;
        if (Date.now() > deadline) throw new Error(`ingest_runs should say run ${first.id} failed once PostgreSQL is back, says ${JSON.stringify(r)}`);
        await sleep(1000);
      }
    })();
    if (row.error !== first.error) throw new Error(`ingest_runs gives another cause than the run: ${row.error}`);

    // No page half written: every page of the seed holds all its users or none.
    const pages = (await pool.query<{ page: number; n: string }>('SELECT source_page AS page, count(*) AS n FROM landing_users WHERE source_seed = $1 GROUP BY 1 ORDER BY 1', [seed])).rows;
    const partial = pages.filter((p) => Number(p.n) !== Math.min(BATCH, USERS - (p.page - 1) * BATCH));
    if (partial.length) throw new Error(`pages half written: ${JSON.stringify(partial.slice(0, 5))}`);
    const landedBefore = pages.reduce((n, p) => n + Number(p.n), 0);
    if (landedBefore !== first.inserted) throw new Error(`${landedBefore} users of the failed run landed, its status says ${first.inserted}`);

    const rerun = await runIngest({ pool, sourceUrl: sourceUrl(), users: USERS, seed, batchSize: BATCH });
    if (rerun.state !== 'succeeded') throw new Error(`the rerun with seed ${seed} ended ${rerun.state}: ${rerun.error}`);
    if (rerun.alreadyLanded !== landedBefore || rerun.inserted !== USERS - landedBefore) {
      throw new Error(`the rerun inserted ${rerun.inserted} and skipped ${rerun.alreadyLanded}; expected ${USERS - landedBefore} and ${landedBefore}`);
    }
    const ids = (await pool.query<{ n: string; ids: string }>('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM landing_users WHERE source_seed = $1', [seed])).rows[0];
    if (Number(ids.n) !== USERS || Number(ids.ids) !== USERS) throw new Error(`seed ${seed}: ${ids.n} rows and ${ids.ids} distinct ids landed, not ${USERS} once each`);
    return {
      scenario: DISK_FULL_SCENARIO,
      expected: DISK_FULL_EXPECTED,
      observed: [
        `run failed with ${HEADROOM_MIB} MiB free: "${(first.error ?? '').split(': page')[0]}"`,
        `${pages.length} whole pages (${landedBefore.toLocaleString('en-US')} users) landed before it, none partial`,
        `tmpfs grown to ${FREED_MIB} MiB: ${server}`,
        'ingest_runs said failed with the same cause',
        `rerun with the seed landed ${rerun.inserted.toLocaleString('en-US')} and skipped ${rerun.alreadyLanded.toLocaleString('en-US')}: ${USERS.toLocaleString('en-US')} ids once each`,
      ].join('; '),
      convergenceSeconds: (Date.now() - failedAt) / 1000,
    };
  } finally {
    await pool?.end().catch(() => undefined);
    await onPort(port, () => postgres.stop(ctx)).catch((e: Error) => log(`disk-full: stopping its PostgreSQL: ${e.message}`));
    if (mounted) execFileSync('umount', [cluster], { stdio: 'pipe' });
    fs.rmSync(home, { recursive: true, force: true });
  }
}

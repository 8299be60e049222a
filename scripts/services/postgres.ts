// PostgreSQL 15 from Debian's binaries, its own cluster in <home>/postgres/data, TCP on
// 127.0.0.1 only, scram passwords, a `pipeline` database owned by a `pipeline` role.
import { POSTGRES_DEFAULTS } from '../../config';
import { LOCAL_PORTS, VERSIONS } from '../../config/facts';
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { LocalEndpoints } from './endpoints';
import { DaemonService, ServiceContext, ServicePort, servicePort } from './service';
import { assertPortFree, isAlive, readPid, spawnDaemon, stopPid, waitFor } from './process';

const PG_VERSION = VERSIONS.postgresLocal;
const SUPERUSER = 'postgres';
const PIPELINE_ROLE = POSTGRES_DEFAULTS.landingUser;
const PIPELINE_DATABASE = POSTGRES_DEFAULTS.landingDatabase;
/** Unprivileged account the server runs as when we are root (PostgreSQL refuses root). */
const SERVICE_ACCOUNT = 'rtds';

export class Postgres extends DaemonService {
  readonly name = 'postgres';
  // Fast shutdown: SIGTERM would wait for every client to disconnect.
  protected readonly stopSignal: NodeJS.Signals = 'SIGINT';

  binDir(): string {
    return process.env.RTDS_PG_BIN || `/usr/lib/postgresql/${PG_VERSION}/bin`;
  }

  version(): string {
    try {
      return execFileSync(path.join(this.binDir(), 'postgres'), ['--version'], { encoding: 'utf8' })
        .trim()
        .replace(/^postgres \(PostgreSQL\) /, '')
        .split(' ')[0];
    } catch {
      return PG_VERSION;
    }
  }

  ports(): readonly ServicePort[] {
    return [servicePort('sql', LOCAL_PORTS.postgres)];
  }

  /** `<home>/postgres/data` (a symlink when the cluster had to live elsewhere, see below). */
  clusterDir(ctx: ServiceContext): string {
    const dir = path.join(this.dataDir(ctx), 'data');
    return fs.existsSync(dir) ? fs.realpathSync(dir) : dir;
  }

  /**
   * When we run as root and the service account cannot reach the repository (a clone under
   * /root, mode 0700), the cluster goes to /var/lib/rtdatastream/<hash of home> and
   * `<home>/postgres/data` links to it.
   */
  private placeCluster(ctx: ServiceContext, account: { uid?: number; gid?: number }): void {
    const link = path.join(this.dataDir(ctx), 'data');
    if (account.uid === undefined || fs.existsSync(link)) return;
    fs.rmSync(link, { force: true }); // a dangling link left by a failed initdb
    try {
      execFileSync('test', ['-x', this.dataDir(ctx)], { uid: account.uid, gid: account.gid, stdio: 'ignore' });
      return;
    } catch {
      /* not reachable by the service account */
    }
    const hash = createHash('sha256').update(ctx.home).digest('hex').slice(0, 12);
    const outside = path.join('/var/lib/rtdatastream', hash, 'postgres-data');
    fs.mkdirSync(path.dirname(outside), { recursive: true, mode: 0o755 });
    fs.mkdirSync(outside, { recursive: true, mode: 0o700 });
    fs.symlinkSync(outside, link);
    ctx.log(`postgres: ${ctx.home} is not reachable by the ${SERVICE_ACCOUNT} account; cluster in ${outside}`);
  }

  async provision(ctx: ServiceContext): Promise<void> {
    if (fs.existsSync(path.join(this.binDir(), 'postgres'))) return;
    if (process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get')) {
      ctx.log(`postgres: installing Debian package postgresql-${PG_VERSION} (binaries only are used)`);
      // policy-rc.d 101 keeps the package from starting its own system cluster.
      fs.writeFileSync('/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 101\n', { mode: 0o755 });
      try {
        execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
        execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', `postgresql-${PG_VERSION}`], {
          stdio: 'inherit',
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        });
      } finally {
        fs.rmSync('/usr/sbin/policy-rc.d', { force: true });
      }
    }
    if (!fs.existsSync(path.join(this.binDir(), 'postgres'))) {
      throw new Error(
        `PostgreSQL ${PG_VERSION} binaries not found in ${this.binDir()}: install the Debian package postgresql-${PG_VERSION} or set RTDS_PG_BIN`,
      );
    }
  }

  /** uid/gid to run the server as: ourselves, or the `rtds` account when we are root. */
  private account(): { uid?: number; gid?: number } {
    if (process.getuid?.() !== 0) return {};
    try {
      execFileSync('id', ['-u', SERVICE_ACCOUNT], { stdio: 'ignore' });
    } catch {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVICE_ACCOUNT]);
    }
    const uid = Number(execFileSync('id', ['-u', SERVICE_ACCOUNT], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', SERVICE_ACCOUNT], { encoding: 'utf8' }).trim());
    return { uid, gid };
  }

  private initCluster(ctx: ServiceContext, account: { uid?: number; gid?: number }): void {
    const cluster = this.clusterDir(ctx);
    if (fs.existsSync(path.join(cluster, 'PG_VERSION'))) return;
    ctx.log(`postgres: initdb ${cluster}`);
    fs.mkdirSync(cluster, { recursive: true, mode: 0o700 });
    const pwFile = path.join(path.dirname(cluster), '.initdb-pw');
    fs.writeFileSync(pwFile, ctx.secrets.get('postgres.superuser') + '\n', { mode: 0o600 });
    try {
      if (account.uid !== undefined) {
        fs.chownSync(cluster, account.uid, account.gid!);
        fs.chownSync(pwFile, account.uid, account.gid!);
      }
      execFileSync(
        path.join(this.binDir(), 'initdb'),
        ['-D', cluster, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C'],
        { stdio: ['ignore', 'pipe', 'pipe'], uid: account.uid, gid: account.gid, cwd: cluster },
      );
    } catch (err) {
      fs.rmSync(cluster, { recursive: true, force: true });
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`postgres: initdb failed: ${e.stderr?.toString() || e.message}`);
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
    // TCP on loopback only, password for everyone; no Unix socket (its path length is limited).
    fs.writeFileSync(
      path.join(cluster, 'pg_hba.conf'),
      'host all all 127.0.0.1/32 scram-sha-256\n',
    );
  }

  async start(ctx: ServiceContext): Promise<void> {
    const account = this.account();
    fs.mkdirSync(this.dataDir(ctx), { recursive: true });
    this.placeCluster(ctx, account);
    this.initCluster(ctx, account);
    const port = this.mainPort(ctx);
    await assertPortFree(this.name, 'sql', port, 'RTDS_POSTGRES_PORT');
    const pid = spawnDaemon({
      command: path.join(this.binDir(), 'postgres'),
      args: [
        '-D', this.clusterDir(ctx),
        '-c', `port=${port}`,
        '-c', "listen_addresses=127.0.0.1",
        '-c', "unix_socket_directories=",
        '-c', 'password_encryption=scram-sha-256',
        '-c', 'max_connections=200',
        '-c', 'fsync=on',
      ],
      logFile: this.logFile(ctx),
      pidFile: this.pidFile(ctx),
      cwd: this.clusterDir(ctx),
      uid: account.uid,
      gid: account.gid,
    });
    await waitFor(`postgres on 127.0.0.1:${port}`, () => this.healthy(ctx), {
      timeoutMs: 60_000,
      alive: () => isAlive(pid),
      hint: () => this.logTail(ctx),
    });
  }

  async stop(ctx: ServiceContext): Promise<void> {
    await stopPid(this.pidFile(ctx), this.stopGraceSeconds * 1000, this.stopSignal);
  }

  private superClient(ctx: ServiceContext, database = 'postgres'): Client {
    return new Client({
      host: '127.0.0.1',
      port: this.mainPort(ctx),
      user: SUPERUSER,
      password: ctx.secrets.get('postgres.superuser'),
      database,
      connectionTimeoutMillis: 3000,
    });
  }

  async healthy(ctx: ServiceContext): Promise<boolean> {
    if (readPid(this.pidFile(ctx)) === undefined) return false;
    const client = this.superClient(ctx);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async prepare(ctx: ServiceContext): Promise<void> {
    const client = this.superClient(ctx);
    await client.connect();
    try {
      const password = ctx.secrets.get('postgres.pipeline');
      const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [PIPELINE_ROLE]);
      // Identifiers are constants; the password goes through format() so it is quoted by the server.
      const verb = role.rowCount ? 'ALTER' : 'CREATE';
      const sql = await client.query(`SELECT format('${verb} ROLE %I LOGIN PASSWORD %L', $1::text, $2::text) AS sql`, [
        PIPELINE_ROLE,
        password,
      ]);
      await client.query(sql.rows[0].sql);
      const db = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [PIPELINE_DATABASE]);
      if (!db.rowCount) await client.query(`CREATE DATABASE ${PIPELINE_DATABASE} OWNER ${PIPELINE_ROLE}`);
    } finally {
      await client.end();
    }
  }

  async endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>> {
    return {
      postgres: {
        host: '127.0.0.1',
        port: this.mainPort(ctx),
        user: PIPELINE_ROLE,
        password: ctx.secrets.get('postgres.pipeline'),
        database: PIPELINE_DATABASE,
        superuser: { user: SUPERUSER, password: ctx.secrets.get('postgres.superuser') },
      },
    };
  }
}

export const postgres = new Postgres();

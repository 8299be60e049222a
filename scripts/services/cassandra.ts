// Cassandra 5.0 from Maven Central jars on Java 17: a generated cassandra.yaml in
// <home>/cassandra, password authentication, the default cassandra/cassandra superuser
// replaced by a generated one, and a `pipeline` role for the workloads and Spark.
import * as fs from 'fs';
import * as path from 'path';
import { CASSANDRA_DEFAULTS, DEFAULT_DATA_CENTER } from '../../config';
import { CASSANDRA_JARS, LOCAL_PORTS, VERSIONS } from '../../config/facts';
import { Client } from 'cassandra-driver';
import { cassandraClient } from '../../workloads/shared/cassandra';
import { LocalEndpoints } from './endpoints';
import { javaBin, mavenLibDir } from './maven';
import { DaemonService, ServiceContext, ServicePort, servicePort } from './service';
import { assertPortFree, isAlive, readPid, spawnDaemon, waitFor } from './process';

const CASSANDRA_VERSION = VERSIONS.cassandra;
const DATA_CENTER = DEFAULT_DATA_CENTER;
const ADMIN_ROLE = 'rtds_admin';
const PIPELINE_ROLE = CASSANDRA_DEFAULTS.pipelineUser;

/** From Cassandra's conf/jvm17-server.options: what Java 17 must open for it. */
const JVM17_OPTIONS = [
  '-XX:+UseG1GC',
  '-XX:+ParallelRefProcEnabled',
  '-XX:MaxTenuringThreshold=1',
  '-XX:G1HeapRegionSize=16m',
  '-XX:G1RSetUpdatingPauseTimePercent=5',
  '-XX:MaxGCPauseMillis=300',
  '-XX:InitiatingHeapOccupancyPercent=70',
  '-Djdk.attach.allowAttachSelf=true',
  '--add-exports', 'java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports', 'java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports', 'java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports', 'java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports', 'java.sql/java.sql=ALL-UNNAMED',
  '--add-exports', 'java.base/java.lang.ref=ALL-UNNAMED',
  '--add-exports', 'jdk.unsupported/sun.misc=ALL-UNNAMED',
  '--add-exports', 'jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports', 'jdk.attach/sun.tools.attach=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens', 'jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens', 'java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens', 'java.base/java.io=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens', 'jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
  '--add-opens', 'java.base/java.util=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dio.netty.allocator.useCacheForAllThreads=true',
  '-Dio.netty.allocator.maxOrder=11',
];

export class Cassandra extends DaemonService {
  readonly name = 'cassandra';
  protected readonly stopGraceSeconds = 60;

  version(): string {
    return CASSANDRA_VERSION;
  }

  ports(): readonly ServicePort[] {
    return [
      servicePort('native', LOCAL_PORTS.cassandra),
      servicePort('storage', LOCAL_PORTS.cassandraStorage),
    ];
  }

  private libDir(ctx: ServiceContext): string {
    return mavenLibDir(ctx, `cassandra-${CASSANDRA_VERSION}`, CASSANDRA_JARS);
  }

  async provision(ctx: ServiceContext): Promise<void> {
    this.libDir(ctx);
  }

  private heap(): string {
    return process.env.RTDS_CASSANDRA_HEAP || '1G';
  }

  private writeConfig(ctx: ServiceContext): string {
    const dir = this.dataDir(ctx);
    const [native, storage] = this.ports();
    const data = (sub: string) => path.join(dir, 'data', sub);
    for (const sub of ['data', 'commitlog', 'saved_caches', 'hints', 'cdc_raw']) fs.mkdirSync(data(sub), { recursive: true });
    const yaml = [
      'cluster_name: rtds-local',
      'num_tokens: 16',
      'allocate_tokens_for_local_replication_factor: 1',
      'partitioner: org.apache.cassandra.dht.Murmur3Partitioner',
      'endpoint_snitch: SimpleSnitch',
      'seed_provider:',
      '  - class_name: org.apache.cassandra.locator.SimpleSeedProvider',
      '    parameters:',
      `      - seeds: "127.0.0.1:${storage.port}"`,
      'listen_address: 127.0.0.1',
      'rpc_address: 127.0.0.1',
      `storage_port: ${storage.port}`,
      `native_transport_port: ${native.port}`,
      'start_native_transport: true',
      `data_file_directories: [${JSON.stringify(data('data'))}]`,
      `commitlog_directory: ${JSON.stringify(data('commitlog'))}`,
      `saved_caches_directory: ${JSON.stringify(data('saved_caches'))}`,
      `hints_directory: ${JSON.stringify(data('hints'))}`,
      `cdc_raw_directory: ${JSON.stringify(data('cdc_raw'))}`,
      'commitlog_sync: periodic',
      'commitlog_sync_period: 10000ms',
      'commitlog_segment_size: 32MiB',
      'authenticator: PasswordAuthenticator',
      'authorizer: CassandraAuthorizer',
      'role_manager: CassandraRoleManager',
      'roles_validity: 2000ms',
      'permissions_validity: 2000ms',
      'credentials_validity: 2000ms',
      'disk_failure_policy: stop',
      'commit_failure_policy: stop',
      // Small machine: fewer threads and less memory than the server defaults.
      'concurrent_reads: 8',
      'concurrent_writes: 8',
      'concurrent_counter_writes: 8',
      'concurrent_compactors: 1',
      'memtable_heap_space: 128MiB',
      'memtable_offheap_space: 128MiB',
      'file_cache_size: 64MiB',
      'key_cache_size: 16MiB',
      'read_request_timeout: 10000ms',
      'write_request_timeout: 10000ms',
      'range_request_timeout: 20000ms',
      'request_timeout: 20000ms',
      '',
    ].join('\n');
    const file = path.join(dir, 'cassandra.yaml');
    fs.writeFileSync(file, yaml);
    fs.writeFileSync(
      path.join(dir, 'logback.xml'),
      `<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT" /></root>
</configuration>
`,
    );
    return file;
  }

  async start(ctx: ServiceContext): Promise<void> {
    for (const p of this.ports()) await assertPortFree(this.name, p.name, p.port, p.env);
    const dir = this.dataDir(ctx);
    fs.mkdirSync(dir, { recursive: true });
    const config = this.writeConfig(ctx);
    const lib = this.libDir(ctx);
    const jamm = fs.readdirSync(lib).find((f) => /^jamm-.*\.jar$/.test(f));
    const pid = spawnDaemon({
      command: javaBin(),
      args: [
        `-Xms${this.heap()}`,
        `-Xmx${this.heap()}`,
        '-Xss256k',
        '-Djava.net.preferIPv4Stack=true',
        ...JVM17_OPTIONS,
        ...(jamm ? [`-javaagent:${path.join(lib, jamm)}`] : []),
        `-Dcassandra.config=file://${config}`,
        `-Dcassandra.storagedir=${path.join(dir, 'data')}`,
        `-Dcassandra.logdir=${dir}`,
        `-Dlogback.configurationFile=${path.join(dir, 'logback.xml')}`,
        '-Dcassandra-foreground=yes',
        // Create the default role at once instead of after 10 s: we replace it right away.
        '-Dcassandra.superuser_setup_delay_ms=0',
        '-Dcassandra.skip_wait_for_gossip_to_settle=0',
        // A single seed node has no ring to wait for (the default waits 30 s).
        '-Dcassandra.ring_delay_ms=1000',
        '-XX:+ExitOnOutOfMemoryError',
        '-cp',
        `${lib}/*`,
        'org.apache.cassandra.service.CassandraDaemon',
      ],
      logFile: this.logFile(ctx),
      pidFile: this.pidFile(ctx),
    });
    await waitFor(`cassandra on 127.0.0.1:${this.mainPort(ctx)}`, () => this.answers(ctx), {
      timeoutMs: 240_000,
      intervalMs: 2000,
      alive: () => isAlive(pid),
      hint: () => this.logTail(ctx),
    });
  }

  private client(ctx: ServiceContext, username: string, password: string): Client {
    return cassandraClient(
      { contactPoints: ['127.0.0.1'], port: this.mainPort(ctx), localDataCenter: DATA_CENTER, username, password },
      { socketOptions: { connectTimeout: 3000, readTimeout: 15000 }, pooling: { warmup: false } },
    );
  }

  private rolesReadyMarker(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'roles-ready');
  }

  /** Credentials that work now: ours once the roles exist, the built-in default before. */
  private currentAdmin(ctx: ServiceContext): [string, string] {
    return fs.existsSync(this.rolesReadyMarker(ctx))
      ? [ADMIN_ROLE, ctx.secrets.get('cassandra.superuser')]
      : ['cassandra', 'cassandra'];
  }

  private async query(ctx: ServiceContext, creds: [string, string], cql: string, params?: unknown[]): Promise<void> {
    const client = this.client(ctx, ...creds);
    try {
      await client.connect();
      await client.execute(cql, params, { prepare: params !== undefined });
    } finally {
      await client.shutdown().catch(() => undefined);
    }
  }

  /** A CQL query with the current superuser credentials succeeds. */
  private async answers(ctx: ServiceContext): Promise<boolean> {
    try {
      await this.query(ctx, this.currentAdmin(ctx), 'SELECT release_version FROM system.local');
      return true;
    } catch {
      return false;
    }
  }

  async healthy(ctx: ServiceContext): Promise<boolean> {
    if (readPid(this.pidFile(ctx)) === undefined) return false;
    return this.answers(ctx);
  }

  async prepare(ctx: ServiceContext): Promise<void> {
    const adminPassword = ctx.secrets.get('cassandra.superuser');
    const pipelinePassword = ctx.secrets.get('cassandra.pipeline');
    if (!fs.existsSync(this.rolesReadyMarker(ctx))) {
      ctx.log('cassandra: replacing the default superuser with a generated one');
      const dflt: [string, string] = ['cassandra', 'cassandra'];
      // Passwords are bound as literals by the server only in DML; they are base64url, so quoting is safe.
      await this.query(ctx, dflt, `CREATE ROLE IF NOT EXISTS ${ADMIN_ROLE} WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = '${adminPassword}'`);
      const admin: [string, string] = [ADMIN_ROLE, adminPassword];
      await waitFor('cassandra: new superuser can log in', () => this.query(ctx, admin, 'SELECT now() FROM system.local').then(() => true), {
        timeoutMs: 30_000,
        intervalMs: 1000,
      });
      await this.query(ctx, admin, 'DROP ROLE IF EXISTS cassandra');
      fs.writeFileSync(this.rolesReadyMarker(ctx), new Date().toISOString() + '\n');
    }
    const admin: [string, string] = [ADMIN_ROLE, adminPassword];
    await this.query(ctx, admin, `CREATE ROLE IF NOT EXISTS ${PIPELINE_ROLE} WITH LOGIN = true AND PASSWORD = '${pipelinePassword}'`);
    await this.query(ctx, admin, `ALTER ROLE ${PIPELINE_ROLE} WITH PASSWORD = '${pipelinePassword}'`);
    // Migrations create keyspaces and tables; Spark writes rows: all keyspaces, no superuser.
    await this.query(ctx, admin, `GRANT ALL PERMISSIONS ON ALL KEYSPACES TO ${PIPELINE_ROLE}`);
  }

  async endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>> {
    return {
      cassandra: {
        contactPoints: ['127.0.0.1'],
        port: this.mainPort(ctx),
        localDataCenter: DATA_CENTER,
        username: PIPELINE_ROLE,
        password: ctx.secrets.get('cassandra.pipeline'),
        superuser: { username: ADMIN_ROLE, password: ctx.secrets.get('cassandra.superuser') },
      },
    };
  }
}

export const cassandra = new Cassandra();

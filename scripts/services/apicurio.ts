// The Schema Registry: Apicurio Registry built from Maven Central (see
// scripts/services/apicurio/pom.xml), serving the Confluent-compatible API under /apis/ccompat/v7.
// Its storage is an H2 database file in <home>/schema-registry, so ids survive restarts.
import { LOCAL_PORTS, VERSIONS } from '../../config/facts';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LocalEndpoints } from './endpoints';
import { javaBin, runMaven } from './maven';
import { DaemonService, ServiceContext, ServicePort, servicePort } from './service';
import { assertPortFree, isAlive, readPid, spawnDaemon, waitFor } from './process';

/** The build project copied into the cache: pom.xml and its build-time config. */
const BUILD_TEMPLATE = path.join(__dirname, 'apicurio');

/** Where the Confluent-compatible API lives on an Apicurio server. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

/** Confluent's default global compatibility; Apicurio has no global rule until one is set. */
const DEFAULT_COMPATIBILITY = 'BACKWARD';

/** Every file of the build template, relative to it, sorted. */
function templateFiles(dir = BUILD_TEMPLATE, prefix = ''): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? templateFiles(path.join(dir, e.name), path.join(prefix, e.name)) : [path.join(prefix, e.name)]))
    .sort();
}

/** The Apicurio release (config/facts/versions.ts; the template pom's property must agree, test/unit/facts.test.ts checks it). */
export function apicurioVersion(): string {
  return VERSIONS.apicurio;
}

export class ApicurioRegistry extends DaemonService {
  readonly name = 'schema-registry';
  protected readonly stopGraceSeconds = 20;

  version(): string {
    return `apicurio-registry ${apicurioVersion()}`;
  }

  ports(): readonly ServicePort[] {
    return [servicePort('http', LOCAL_PORTS.schemaRegistry)];
  }

  /** The server root (health checks live here, not under the API path). */
  private root(ctx: ServiceContext): string {
    return `http://127.0.0.1:${this.mainPort(ctx)}`;
  }

  /** The Confluent-compatible base URL, what clients call `SCHEMA_REGISTRY_URL`. */
  url(ctx: ServiceContext): string {
    return `${this.root(ctx)}${CCOMPAT_PATH}`;
  }

  buildDir(ctx: ServiceContext): string {
    return path.join(ctx.cacheDir, `apicurio-registry-${apicurioVersion()}`);
  }

  runnerJar(ctx: ServiceContext): string {
    return path.join(this.buildDir(ctx), 'target', 'apicurio-registry-runner.jar');
  }

  /** Copies the template into the cache and runs the Quarkus build once per template content. */
  async provision(ctx: ServiceContext): Promise<void> {
    const dir = this.buildDir(ctx);
    const files = templateFiles();
    const digest = createHash('sha256');
    for (const f of files) digest.update(`${f}\0`).update(fs.readFileSync(path.join(BUILD_TEMPLATE, f)));
    const stamp = digest.digest('hex');
    const marker = path.join(dir, '.built');
    if (fs.existsSync(this.runnerJar(ctx)) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8').trim() === stamp) return;
    ctx.log(`schema-registry: building Apicurio Registry ${apicurioVersion()} with Maven (first time only)`);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(BUILD_TEMPLATE, f), path.join(dir, f));
    }
    runMaven(ctx, dir, ['package', '-DskipTests'], 'schema-registry (Apicurio build)');
    if (!fs.existsSync(this.runnerJar(ctx))) throw new Error(`schema-registry: the Maven build in ${dir} produced no ${this.runnerJar(ctx)}`);
    fs.writeFileSync(marker, `${stamp}\n`);
  }

  private heap(): string {
    const heap = process.env.RTDS_SCHEMA_REGISTRY_HEAP || '256m';
    if (!/^\d+[kmgKMG]?$/.test(heap)) throw new Error(`RTDS_SCHEMA_REGISTRY_HEAP=${heap} is not a Java heap size (e.g. 256m, 1g)`);
    return heap;
  }

  async start(ctx: ServiceContext): Promise<void> {
    const port = this.mainPort(ctx);
    await assertPortFree(this.name, 'http', port, 'RTDS_SCHEMA_REGISTRY_PORT');
    const jar = this.runnerJar(ctx);
    if (!fs.existsSync(jar)) throw new Error(`schema-registry: ${jar} is missing: run provision first (npm run services:up does)`);
    const dir = this.dataDir(ctx);
    fs.mkdirSync(dir, { recursive: true });
    const pid = spawnDaemon({
      command: javaBin(),
      args: [
        `-Xmx${this.heap()}`,
        '-XX:+UseSerialGC',
        '-Dquarkus.http.host=127.0.0.1',
        // The release's pool (20 to 100 connections) is sized for a server, not an embedded file.
        '-D%prod.quarkus.datasource.jdbc.initial-size=2',
        '-D%prod.quarkus.datasource.jdbc.min-size=2',
        '-D%prod.quarkus.datasource.jdbc.max-size=16',
        '-jar',
        jar,
      ],
      logFile: this.logFile(ctx),
      pidFile: this.pidFile(ctx),
      cwd: dir,
      // The release's application.properties reads these names.
      env: {
        HTTP_PORT: String(port),
        REGISTRY_DATASOURCE_URL: `jdbc:h2:file:${path.join(dir, 'registry')}`,
        REGISTRY_DATASOURCE_USERNAME: 'rtds',
        REGISTRY_DATASOURCE_PASSWORD: ctx.secrets.get('schema-registry.h2'),
      },
    });
    await waitFor(`schema-registry on ${this.url(ctx)}`, () => this.healthy(ctx), {
      timeoutMs: 120_000,
      alive: () => isAlive(pid),
      hint: () => this.logTail(ctx),
    });
  }

  /** Apicurio's system info answers with its name: a different server on the port is not healthy. */
  async healthy(ctx: ServiceContext): Promise<boolean> {
    if (readPid(this.pidFile(ctx)) === undefined) return false;
    try {
      const res = await fetch(`${this.root(ctx)}/apis/registry/v2/system/info`, { signal: AbortSignal.timeout(2000) });
      return res.ok && ((await res.json()) as { name?: string }).name === 'apicurio-registry';
    } catch {
      return false;
    }
  }

  /** Sets Confluent's default global compatibility once: a global rule already set (even NONE) is kept. */
  async prepare(ctx: ServiceContext): Promise<void> {
    // Only the native API tells "no global rule" apart from a rule set to NONE.
    const rulesUrl = `${this.root(ctx)}/apis/registry/v2/admin/rules`;
    const rules = await fetch(rulesUrl, { signal: AbortSignal.timeout(5000) });
    if (!rules.ok) throw new Error(`schema-registry: GET ${rulesUrl} answered ${rules.status}: ${await rules.text()}`);
    if (((await rules.json()) as string[]).includes('COMPATIBILITY')) return;
    const res = await fetch(`${this.url(ctx)}/config`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: DEFAULT_COMPATIBILITY }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`schema-registry: PUT ${this.url(ctx)}/config answered ${res.status}: ${await res.text()}`);
  }

  async endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>> {
    return { schemaRegistry: { url: this.url(ctx) } };
  }
}

export const apicurioRegistry = new ApicurioRegistry();

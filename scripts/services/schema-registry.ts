// The Schema Registry service: Apicurio Registry (apicurio.ts) by default; with
// RTDS_SCHEMA_REGISTRY_IMPL=builtin, our Confluent-compatible server (schema-registry-server.ts)
// as a daemon, its schemas persisted in <home>/schema-registry/schemas.json so ids survive restarts.
import * as fs from 'fs';
import * as path from 'path';
import { LocalEndpoints } from './endpoints';
import { apicurioRegistry } from './apicurio';
import { DaemonService, LocalService, ServiceContext, ServicePort, portFromEnv } from './service';
import { assertPortFree, isAlive, readPid, spawnDaemon, waitFor } from './process';

/** Version of the API it implements (Confluent REST v1, as of Confluent Platform 7). */
const API_VERSION = 'confluent-v1 (rtds)';

export class SchemaRegistry extends DaemonService {
  readonly name = 'schema-registry';
  protected readonly stopGraceSeconds = 10;

  version(): string {
    return API_VERSION;
  }

  ports(): readonly ServicePort[] {
    return [{ name: 'http', port: portFromEnv('RTDS_SCHEMA_REGISTRY_PORT', 18081), env: 'RTDS_SCHEMA_REGISTRY_PORT' }];
  }

  url(ctx: ServiceContext): string {
    return `http://127.0.0.1:${this.mainPort(ctx)}`;
  }

  async provision(): Promise<void> {
    // Nothing to download: it runs from this repository with the project's Node and avsc.
  }

  async start(ctx: ServiceContext): Promise<void> {
    const port = this.mainPort(ctx);
    await assertPortFree(this.name, 'http', port, 'RTDS_SCHEMA_REGISTRY_PORT');
    fs.mkdirSync(this.dataDir(ctx), { recursive: true });
    const pid = spawnDaemon({
      // The Node that runs this CLI (Node 24 from the project's devDependency).
      command: process.execPath,
      args: [
        '-r',
        require.resolve('ts-node/register/transpile-only'),
        path.join(__dirname, 'schema-registry-server.ts'),
        '--port',
        String(port),
        '--store',
        path.join(this.dataDir(ctx), 'schemas.json'),
      ],
      logFile: this.logFile(ctx),
      pidFile: this.pidFile(ctx),
      env: { TS_NODE_PROJECT: path.resolve(__dirname, '..', '..', 'tsconfig.json') },
    });
    await waitFor(`schema-registry on ${this.url(ctx)}`, () => this.healthy(ctx), {
      timeoutMs: 60_000,
      alive: () => isAlive(pid),
      hint: () => this.logTail(ctx),
    });
  }

  async healthy(ctx: ServiceContext): Promise<boolean> {
    if (readPid(this.pidFile(ctx)) === undefined) return false;
    try {
      const res = await fetch(`${this.url(ctx)}/subjects`, { signal: AbortSignal.timeout(2000) });
      return res.ok && Array.isArray(await res.json());
    } catch {
      return false;
    }
  }

  async endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>> {
    return { schemaRegistry: { url: this.url(ctx) } };
  }
}

export const builtinSchemaRegistry = new SchemaRegistry();

/** The implementation named by `RTDS_SCHEMA_REGISTRY_IMPL`: `apicurio` (the default) or `builtin`. */
export function schemaRegistryImpl(raw: string | undefined = process.env.RTDS_SCHEMA_REGISTRY_IMPL): LocalService {
  const value = raw && raw !== '' ? raw : 'apicurio';
  if (value === 'apicurio') return apicurioRegistry;
  if (value === 'builtin') return builtinSchemaRegistry;
  throw new Error(`RTDS_SCHEMA_REGISTRY_IMPL=${value} is unknown: use apicurio (the default) or builtin`);
}

export const schemaRegistry = schemaRegistryImpl();

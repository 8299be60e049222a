// A Confluent-compatible Schema Registry (REST API v1 subset used by serializers and tools),
// Avro only, persisted in a JSON file so schema ids survive restarts. It stands in for Apicurio,
// whose Quarkus build needs artifacts the package registries do not serve (docs/LOCAL_SERVICES.md).
//
//   node -r ts-node/register/transpile-only schema-registry-server.ts --port 18081 --store <file>
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { Type } from 'avsc';

export type Compatibility =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

const COMPATIBILITY_LEVELS: readonly Compatibility[] = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
];

interface SubjectVersion {
  readonly version: number;
  readonly id: number;
  deleted?: boolean;
}

interface RegistryState {
  nextId: number;
  /** Global id → schema (compact JSON). Ids are never reused, even after deletes. */
  schemas: Record<string, string>;
  subjects: Record<string, SubjectVersion[]>;
  globalCompatibility: Compatibility;
  subjectCompatibility: Record<string, Compatibility>;
}

/** An error with the Confluent error body. */
export class RegistryError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The registry's state and rules, separate from HTTP. */
export class SchemaStore {
  private state: RegistryState;

  constructor(private readonly file?: string) {
    this.state =
      file && fs.existsSync(file)
        ? (JSON.parse(fs.readFileSync(file, 'utf8')) as RegistryState)
        : { nextId: 1, schemas: {}, subjects: {}, globalCompatibility: 'BACKWARD', subjectCompatibility: {} };
  }

  private save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.state));
    fs.renameSync(tmp, this.file);
  }

  /** Parses and normalizes an Avro schema; 422/42201 when it is not one. */
  static normalize(schema: unknown, schemaType: unknown, references: unknown): string {
    if (schemaType !== undefined && schemaType !== 'AVRO') {
      throw new RegistryError(422, 42201, `Invalid schema: schemaType ${String(schemaType)} is not supported (AVRO only)`);
    }
    if (Array.isArray(references) && references.length > 0) {
      throw new RegistryError(422, 42201, 'Invalid schema: schema references are not supported');
    }
    if (typeof schema !== 'string') throw new RegistryError(422, 42201, 'Invalid schema: "schema" must be a string');
    let parsed: unknown;
    try {
      parsed = JSON.parse(schema);
    } catch {
      // A bare primitive name such as `string` is valid Avro schema text too.
      parsed = schema.trim();
    }
    try {
      Type.forSchema(parsed as never);
    } catch (err) {
      throw new RegistryError(422, 42201, `Invalid schema: ${(err as Error).message}`);
    }
    return JSON.stringify(parsed);
  }

  private live(subject: string): SubjectVersion[] {
    return (this.state.subjects[subject] ?? []).filter((v) => !v.deleted);
  }

  subjects(): string[] {
    return Object.keys(this.state.subjects).filter((s) => this.live(s).length > 0).sort();
  }

  versions(subject: string): number[] {
    const versions = this.live(subject);
    if (versions.length === 0) throw new RegistryError(404, 40401, `Subject '${subject}' not found.`);
    return versions.map((v) => v.version);
  }

  version(subject: string, version: string): { subject: string; version: number; id: number; schema: string } {
    const versions = this.live(subject);
    if (versions.length === 0) throw new RegistryError(404, 40401, `Subject '${subject}' not found.`);
    let found: SubjectVersion | undefined;
    if (version === 'latest' || version === '-1') found = versions[versions.length - 1];
    else {
      const n = Number(version);
      if (!Number.isInteger(n) || n < 1) {
        throw new RegistryError(422, 42202, `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
      }
      found = versions.find((v) => v.version === n);
    }
    if (!found) throw new RegistryError(404, 40402, `Version ${version} not found.`);
    return { subject, version: found.version, id: found.id, schema: this.state.schemas[found.id] };
  }

  schemaById(id: string): string {
    const schema = this.state.schemas[id];
    if (schema === undefined) throw new RegistryError(404, 40403, 'Schema not found');
    return schema;
  }

  subjectsOfId(id: string): { subject: string; version: number }[] {
    this.schemaById(id);
    const out: { subject: string; version: number }[] = [];
    for (const subject of this.subjects()) {
      for (const v of this.live(subject)) if (String(v.id) === id) out.push({ subject, version: v.version });
    }
    return out;
  }

  compatibility(subject?: string, fallBack = true): Compatibility {
    if (subject === undefined) return this.state.globalCompatibility;
    const own = this.state.subjectCompatibility[subject];
    if (own) return own;
    if (fallBack) return this.state.globalCompatibility;
    throw new RegistryError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
  }

  setCompatibility(level: unknown, subject?: string): Compatibility {
    if (typeof level !== 'string' || !COMPATIBILITY_LEVELS.includes(level as Compatibility)) {
      throw new RegistryError(422, 42203, `Invalid compatibility level ${String(level)}: use one of ${COMPATIBILITY_LEVELS.join(', ')}`);
    }
    if (subject === undefined) this.state.globalCompatibility = level as Compatibility;
    else this.state.subjectCompatibility[subject] = level as Compatibility;
    this.save();
    return level as Compatibility;
  }

  deleteCompatibility(subject: string): Compatibility {
    const level = this.compatibility(subject, false);
    delete this.state.subjectCompatibility[subject];
    this.save();
    return level;
  }

  /** Messages explaining why `candidate` breaks the subject's rule, empty when compatible. */
  incompatibilities(subject: string, candidate: string, against?: SubjectVersion[]): string[] {
    const level = this.compatibility(subject);
    if (level === 'NONE') return [];
    const versions = against ?? this.live(subject);
    if (versions.length === 0) return [];
    const targets = level.endsWith('_TRANSITIVE') ? versions : [versions[versions.length - 1]];
    const reader = Type.forSchema(JSON.parse(candidate));
    const problems: string[] = [];
    for (const target of targets) {
      const existing = Type.forSchema(JSON.parse(this.state.schemas[target.id]));
      // BACKWARD: the new schema reads old data; FORWARD: old schemas read new data.
      const checks: [Type, Type, string][] = [];
      if (level.startsWith('BACKWARD') || level.startsWith('FULL')) checks.push([reader, existing, 'BACKWARD']);
      if (level.startsWith('FORWARD') || level.startsWith('FULL')) checks.push([existing, reader, 'FORWARD']);
      for (const [r, w, rule] of checks) {
        try {
          r.createResolver(w);
        } catch (err) {
          problems.push(`${rule} incompatible with version ${target.version}: ${(err as Error).message}`);
        }
      }
    }
    return problems;
  }

  register(subject: string, body: Record<string, unknown>): { id: number } {
    const schema = SchemaStore.normalize(body.schema, body.schemaType, body.references);
    const versions = this.live(subject);
    const same = versions.find((v) => this.state.schemas[v.id] === schema);
    if (same) return { id: same.id };
    const problems = this.incompatibilities(subject, schema);
    if (problems.length > 0) {
      throw new RegistryError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}": ${problems.join('; ')}`);
    }
    // The same schema text keeps one global id across subjects, as in Confluent's registry.
    let id = Number(Object.keys(this.state.schemas).find((k) => this.state.schemas[k] === schema));
    if (!id) {
      id = this.state.nextId++;
      this.state.schemas[id] = schema;
    }
    const all = this.state.subjects[subject] ?? (this.state.subjects[subject] = []);
    const version = all.reduce((max, v) => Math.max(max, v.version), 0) + 1;
    all.push({ version, id });
    this.save();
    return { id };
  }

  lookup(subject: string, body: Record<string, unknown>): { subject: string; version: number; id: number; schema: string } {
    const schema = SchemaStore.normalize(body.schema, body.schemaType, body.references);
    const versions = this.live(subject);
    if (versions.length === 0) throw new RegistryError(404, 40401, `Subject '${subject}' not found.`);
    const found = versions.find((v) => this.state.schemas[v.id] === schema);
    if (!found) throw new RegistryError(404, 40403, 'Schema not found');
    return { subject, version: found.version, id: found.id, schema };
  }

  deleteSubject(subject: string): number[] {
    const versions = this.versions(subject);
    for (const v of this.state.subjects[subject]) v.deleted = true;
    this.save();
    return versions;
  }

  deleteVersion(subject: string, version: string): number {
    const found = this.version(subject, version);
    const entry = this.state.subjects[subject].find((v) => v.version === found.version)!;
    entry.deleted = true;
    this.save();
    return found.version;
  }

  testCompatibility(subject: string, version: string, body: Record<string, unknown>): { is_compatible: boolean; messages: string[] } {
    const schema = SchemaStore.normalize(body.schema, body.schemaType, body.references);
    const against = this.live(subject).length === 0 ? [] : [this.live(subject).find((v) => v.version === this.version(subject, version).version)!];
    const level = this.compatibility(subject);
    const problems = this.incompatibilities(subject, schema, level.endsWith('_TRANSITIVE') ? undefined : against);
    return { is_compatible: problems.length === 0, messages: problems };
  }
}

const JSON_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Routes one request to the store; returns [status, body]. */
export function route(store: SchemaStore, method: string, url: URL, body: Record<string, unknown>): [number, unknown] {
  // Also answer under Apicurio's ccompat prefix, so a URL written for Apicurio works unchanged.
  const pathname = url.pathname.replace(/^\/apis\/ccompat\/v[67](?=\/|$)/, '');
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c, d, e] = parts;
  const n = parts.length;
  if (n === 0 && method === 'GET') return [200, {}];
  if (a === 'schemas' && b === 'types' && n === 2 && method === 'GET') return [200, ['AVRO']];
  if (a === 'schemas' && b === 'ids' && n === 3 && method === 'GET') return [200, { schema: store.schemaById(c) }];
  if (a === 'schemas' && b === 'ids' && d === 'schema' && n === 4 && method === 'GET') return [200, JSON.parse(store.schemaById(c))];
  if (a === 'schemas' && b === 'ids' && d === 'versions' && n === 4 && method === 'GET') return [200, store.subjectsOfId(c)];
  if (a === 'schemas' && b === 'ids' && d === 'subjects' && n === 4 && method === 'GET') return [200, store.subjectsOfId(c).map((x) => x.subject)];
  if (a === 'subjects' && n === 1 && method === 'GET') return [200, store.subjects()];
  if (a === 'subjects' && n === 2 && method === 'POST') return [200, store.lookup(b, body)];
  if (a === 'subjects' && n === 2 && method === 'DELETE') return [200, store.deleteSubject(b)];
  if (a === 'subjects' && c === 'versions' && n === 3 && method === 'GET') return [200, store.versions(b)];
  if (a === 'subjects' && c === 'versions' && n === 3 && method === 'POST') return [200, store.register(b, body)];
  if (a === 'subjects' && c === 'versions' && n === 4 && method === 'GET') return [200, store.version(b, d)];
  if (a === 'subjects' && c === 'versions' && n === 4 && method === 'DELETE') return [200, store.deleteVersion(b, d)];
  if (a === 'subjects' && c === 'versions' && e === 'schema' && n === 5 && method === 'GET') return [200, JSON.parse(store.version(b, d).schema)];
  if (a === 'config' && n === 1 && method === 'GET') return [200, { compatibilityLevel: store.compatibility() }];
  if (a === 'config' && n === 1 && method === 'PUT') return [200, { compatibility: store.setCompatibility(body.compatibility) }];
  if (a === 'config' && n === 2 && method === 'GET') {
    return [200, { compatibilityLevel: store.compatibility(b, url.searchParams.get('defaultToGlobal') === 'true') }];
  }
  if (a === 'config' && n === 2 && method === 'PUT') return [200, { compatibility: store.setCompatibility(body.compatibility, b) }];
  if (a === 'config' && n === 2 && method === 'DELETE') return [200, { compatibilityLevel: store.deleteCompatibility(b) }];
  if (a === 'compatibility' && b === 'subjects' && d === 'versions' && n === 5 && method === 'POST') {
    const result = store.testCompatibility(c, e, body);
    return [200, url.searchParams.get('verbose') === 'true' ? result : { is_compatible: result.is_compatible }];
  }
  throw new RegistryError(404, 404, `HTTP 404 Not Found: ${method} ${url.pathname}`);
}

export function createServer(store: SchemaStore): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let status: number;
      let payload: unknown;
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        if (text.trim() !== '') {
          try {
            body = JSON.parse(text) as Record<string, unknown>;
          } catch {
            throw new RegistryError(400, 400, 'Unrecognized request body: not JSON');
          }
        }
        [status, payload] = route(store, req.method ?? 'GET', new URL(req.url ?? '/', 'http://registry'), body);
      } catch (err) {
        if (err instanceof RegistryError) {
          status = err.status;
          payload = { error_code: err.errorCode, message: err.message };
        } else {
          status = 500;
          payload = { error_code: 50001, message: `Error in the backend data store: ${(err as Error).message}` };
        }
      }
      res.writeHead(status, { 'Content-Type': JSON_TYPE });
      res.end(JSON.stringify(payload));
    });
  });
}

function main(): void {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0 || !args[i + 1]) throw new Error(`${name} is required`);
    return args[i + 1];
  };
  const port = Number(arg('--port'));
  const storeFile = path.resolve(arg('--store'));
  const server = createServer(new SchemaStore(storeFile));
  server.listen(port, '127.0.0.1', () => console.log(`schema registry listening on 127.0.0.1:${port}, store ${storeFile}`));
  const shutdown = () => server.close(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (require.main === module) main();

/**
 * A client for the Confluent Schema Registry REST API, standard endpoints only, so it works
 * with Confluent, Karapace and Apicurio's ccompat API (SCHEMA_REGISTRY_URL is the full base).
 */
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class SchemaRegistryError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'SchemaRegistryError';
  }
}

export class SchemaRegistry {
  constructor(private readonly baseUrl: string, private readonly timeoutMs = 10_000) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { accept: CONTENT_TYPE + ', application/json', ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new SchemaRegistryError(`schema registry ${method} ${url} failed: ${(e as Error).message}`, 0);
    }
    const text = await res.text();
    if (!res.ok) throw new SchemaRegistryError(`schema registry ${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`, res.status);
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /** Registers (or finds) the schema under the subject; returns its global id. */
  async register(subject: string, schema: string): Promise<number> {
    const r = await this.call<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema, schemaType: 'AVRO' });
    if (typeof r.id !== 'number') throw new SchemaRegistryError(`schema registry returned no id for ${subject}: ${JSON.stringify(r)}`, 200);
    return r.id;
  }

  async setCompatibility(subject: string, level: 'BACKWARD' | 'FORWARD' | 'FULL' | 'NONE'): Promise<void> {
    await this.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  async compatibility(subject: string): Promise<string | undefined> {
    const r = await this.call<{ compatibilityLevel?: string; compatibility?: string }>('GET', `/config/${encodeURIComponent(subject)}`);
    return r.compatibilityLevel ?? r.compatibility;
  }

  async schemaById(id: number): Promise<string> {
    const r = await this.call<{ schema: string }>('GET', `/schemas/ids/${id}`);
    return r.schema;
  }

  /** Whether `schema` could be registered under the subject's compatibility rule. */
  async isCompatible(subject: string, schema: string): Promise<boolean> {
    const r = await this.call<{ is_compatible: boolean }>('POST', `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`, { schema, schemaType: 'AVRO' });
    return r.is_compatible;
  }
}

/** Registers the user schema and pins BACKWARD compatibility on its subject; returns the id. */
export async function registerUserSchema(registry: SchemaRegistry, subject: string, schema: string): Promise<number> {
  const id = await registry.register(subject, schema);
  await registry.setCompatibility(subject, 'BACKWARD');
  return id;
}

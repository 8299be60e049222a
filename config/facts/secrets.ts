// The kinds of secret the pipeline uses, each defined once: how Terraform generates one
// (random_password / random_id) and how the deploy tooling and the local services generate one
// (Node's crypto) read the same table.
import { randomBytes } from 'node:crypto';

export type SecretKind = 'password' | 'fernet' | 'cluster-id';

export interface SecretKindSpec {
  /** What the value is, in a line. */
  readonly doc: string;
  /** Random bytes behind a url-safe base64 value; absent for an alphanumeric password. */
  readonly bytes?: number;
  /** Appended to the url-safe base64 (a Fernet key keeps its padding). */
  readonly suffix?: string;
  /** Characters of a password when the secret does not say. */
  readonly defaultLength?: number;
}

export const SECRET_KINDS: Readonly<Record<SecretKind, SecretKindSpec>> = {
  password: { doc: 'random alphanumeric password (safe in URLs, SQL and shell)', defaultLength: 32 },
  fernet: { doc: '32 random bytes as url-safe base64 with its padding (an Airflow/cryptography Fernet key)', bytes: 32, suffix: '=' },
  'cluster-id': { doc: '16 random bytes as url-safe base64 without padding (a KRaft cluster id)', bytes: 16 },
};

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh value of this kind, as Terraform's random provider would make it. */
export function generateSecret(kind: string, length?: number): string {
  if (!(kind in SECRET_KINDS)) throw new Error(`unknown secret kind '${kind}' (known: ${Object.keys(SECRET_KINDS).join(', ')})`);
  const spec = SECRET_KINDS[kind as SecretKind];
  if (spec.bytes === undefined) {
    const n = length ?? spec.defaultLength!;
    // Rejection sampling keeps every character equally likely.
    let out = '';
    while (out.length < n) for (const b of randomBytes(n)) if (b < 248 && out.length < n) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
    return out;
  }
  return randomBytes(spec.bytes).toString('base64url') + (spec.suffix ?? '');
}

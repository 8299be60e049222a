import { err, ok, Result } from '../shared/result';
import { UserRecord } from '../shared/user';

/** Longest name part we land; longer ones are quarantined rather than silently cut. */
export const MAX_NAME_LENGTH = 256;
/** Longest value of any other text field. */
export const MAX_FIELD_LENGTH = 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The nationalities randomuser.me 1.4 serves; others still land, with a warning. */
export const KNOWN_NATIONALITIES: ReadonlySet<string> = new Set(
  ['AU', 'BR', 'CA', 'CH', 'DE', 'DK', 'ES', 'FI', 'FR', 'GB', 'IE', 'IN', 'IR', 'MX', 'NL', 'NO', 'NZ', 'RS', 'TR', 'UA', 'US'],
);

export interface Normalized {
  readonly record: UserRecord;
  /** Oddities that do not stop the record from landing (e.g. an unknown nationality). */
  readonly warnings: readonly string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Walks a dotted path, reporting the first missing or mistyped step. */
class Reader {
  /** Dotted paths split once per process, not once per record and field. */
  private static readonly steps = new Map<string, readonly string[]>();
  readonly problems: string[] = [];
  constructor(private readonly root: unknown) {}

  private at(path: string): unknown {
    let parts = Reader.steps.get(path);
    if (parts === undefined) Reader.steps.set(path, (parts = path.split('.')));
    let cur: unknown = this.root;
    for (const part of parts) {
      if (!isObj(cur)) return undefined;
      cur = cur[part];
    }
    return cur;
  }

  text(path: string, max = MAX_FIELD_LENGTH): string {
    const v = this.at(path);
    if (v === undefined || v === null) return this.fail(`${path} is missing`);
    if (typeof v !== 'string') return this.fail(`${path} must be a string, got ${typeName(v)}`);
    const t = v.trim();
    if (t === '') return this.fail(`${path} is empty`);
    if (t.length > max) return this.fail(`${path} is ${t.length} characters, longer than ${max}`);
    if (t.includes('\u0000')) return this.fail(`${path} contains a NUL character`);
    return t;
  }

  /** A string, or a finite number turned into its decimal text (postcodes, street numbers). */
  textOrNumber(path: string): string {
    const v = this.at(path);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : this.fail(`${path} is not a finite number`);
    return this.text(path);
  }

  instant(path: string): string {
    const t = this.text(path);
    if (t === '') return t;
    const ms = Date.parse(t);
    if (Number.isNaN(ms)) return this.fail(`${path} is not a date: ${JSON.stringify(t.slice(0, 40))}`);
    return new Date(ms).toISOString();
  }

  private fail(problem: string): string {
    this.problems.push(problem);
    return '';
  }
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/**
 * Validates one randomuser.me result and maps it to the pipeline's record. Every problem is
 * listed in the error, so a quarantine row says all that was wrong, not only the first thing.
 */
export function normalizeUser(raw: unknown, ingestedAt: Date | string): Result<Normalized> {
  if (!isObj(raw)) return err(`record must be an object, got ${typeName(raw)}`);
  const r = new Reader(raw);
  const id = r.text('login.uuid');
  if (id !== '' && !UUID.test(id)) r.problems.push(`login.uuid is not a UUID: ${JSON.stringify(id.slice(0, 60))}`);
  const first = r.text('name.first', MAX_NAME_LENGTH);
  const last = r.text('name.last', MAX_NAME_LENGTH);
  const gender = r.text('gender', 32);
  const streetNumber = r.textOrNumber('location.street.number');
  const streetName = r.text('location.street.name');
  const city = r.text('location.city');
  const state = r.textOrNumber('location.state');
  const country = r.text('location.country');
  const postCode = r.textOrNumber('location.postcode');
  const email = r.text('email');
  if (email !== '' && !email.includes('@')) r.problems.push(`email has no @: ${JSON.stringify(email.slice(0, 60))}`);
  const username = r.text('login.username');
  const dob = r.instant('dob.date');
  const registered = r.instant('registered.date');
  const phone = r.textOrNumber('phone');
  const picture = r.text('picture.medium');
  const nat = r.text('nat', 8).toUpperCase();
  if (nat !== '' && !/^[A-Z]{2}$/.test(nat)) r.problems.push(`nat is not a two-letter code: ${JSON.stringify(nat)}`);
  if (r.problems.length > 0) return err(r.problems.join('; '));
  const warnings = KNOWN_NATIONALITIES.has(nat) ? [] : [`unknown nationality ${nat}`];
  return ok({
    record: {
      id: id.toLowerCase(),
      first_name: first,
      last_name: last,
      gender,
      address: `${streetNumber} ${streetName}, ${city}, ${state}, ${country}`,
      post_code: postCode,
      email,
      username,
      dob,
      registered_date: registered,
      phone,
      picture,
      nat,
      ingested_at: typeof ingestedAt === 'string' ? ingestedAt : ingestedAt.toISOString(),
    },
    warnings,
  });
}

/** Where a record came from, kept with quarantine rows so a bad record can be found again. */
export interface SourcePosition {
  readonly seed: string;
  readonly page: number;
  readonly pageSize: number;
}

export interface Rejected {
  /** Index in the page, or -1 when the whole page is rejected. */
  readonly index: number;
  readonly reason: string;
  readonly payload: unknown;
}

export interface SortedBatch {
  readonly accepted: readonly UserRecord[];
  readonly rejected: readonly Rejected[];
  readonly warnings: readonly string[];
}

/**
 * Normalizes a page of results: invalid ones and repeated ids (the first one wins) are
 * rejected with a reason; nothing is dropped without a trace.
 */
export function sortBatch(results: readonly unknown[], ingestedAt: Date): SortedBatch {
  const accepted: UserRecord[] = [];
  const rejected: Rejected[] = [];
  const warnings: string[] = [];
  const firstIndex = new Map<string, number>();
  const at = ingestedAt.toISOString();
  results.forEach((raw, index) => {
    const n = normalizeUser(raw, at);
    if (!n.ok) {
      rejected.push({ index, reason: n.error, payload: raw });
      return;
    }
    const seen = firstIndex.get(n.value.record.id);
    if (seen !== undefined) {
      rejected.push({ index, reason: `duplicate login.uuid ${n.value.record.id} in the same page (first at index ${seen})`, payload: raw });
      return;
    }
    firstIndex.set(n.value.record.id, index);
    accepted.push(n.value.record);
    for (const w of n.value.warnings) warnings.push(`index ${index}: ${w}`);
  });
  return { accepted, rejected, warnings };
}

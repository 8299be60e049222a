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

const NO_WARNINGS: readonly string[] = [];

/** An unknown nationality still lands, with a warning. */
function nationalityWarnings(nat: string): readonly string[] {
  return KNOWN_NATIONALITIES.has(nat) ? NO_WARNINGS : [`unknown nationality ${nat}`];
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
 * Every problem of a result that quickRecord turned down, joined with "; ", so that a quarantine
 * row says all that was wrong, not only the first thing.
 */
function problemsOf(raw: unknown): string {
  if (!isObj(raw)) return `record must be an object, got ${typeName(raw)}`;
  const r = new Reader(raw);
  const id = r.text('login.uuid');
  if (id !== '' && !UUID.test(id)) r.problems.push(`login.uuid is not a UUID: ${JSON.stringify(id.slice(0, 60))}`);
  r.text('name.first', MAX_NAME_LENGTH);
  r.text('name.last', MAX_NAME_LENGTH);
  r.text('gender', 32);
  r.textOrNumber('location.street.number');
  r.text('location.street.name');
  r.text('location.city');
  r.textOrNumber('location.state');
  r.text('location.country');
  r.textOrNumber('location.postcode');
  const email = r.text('email');
  if (email !== '' && !email.includes('@')) r.problems.push(`email has no @: ${JSON.stringify(email.slice(0, 60))}`);
  r.text('login.username');
  r.instant('dob.date');
  r.instant('registered.date');
  r.textOrNumber('phone');
  r.text('picture.medium');
  const nat = r.text('nat', 8).toUpperCase();
  if (nat !== '' && !TWO_LETTERS.test(nat)) r.problems.push(`nat is not a two-letter code: ${JSON.stringify(nat)}`);
  return r.problems.length > 0 ? r.problems.join('; ') : 'record did not validate';
}

/** Validates one randomuser.me result and maps it to the pipeline's record; a rejection lists every problem. */
export function normalizeUser(raw: unknown, ingestedAt: Date | string): Result<Normalized> {
  const record = quickRecord(raw, typeof ingestedAt === 'string' ? ingestedAt : ingestedAt.toISOString());
  return record === undefined ? err(problemsOf(raw)) : ok({ record, warnings: nationalityWarnings(record.nat) });
}

/** A trimmed string within `max`; undefined when normalizeUser has something to say about it. */
function plainText(v: unknown, max: number = MAX_FIELD_LENGTH): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t !== '' && t.length <= max && !t.includes('\u0000') ? t : undefined;
}

function plainTextOrNumber(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  return plainText(v);
}

/** The form toISOString gives, with a day that exists in every month (1–28). */
const ISO_INSTANT = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

function plainInstant(v: unknown): string | undefined {
  const t = plainText(v);
  if (t === undefined) return undefined;
  // Already what Date.parse and toISOString would give back (formatting costs more than the rest of a record).
  if (ISO_INSTANT.test(t)) return t;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

const TWO_LETTERS = /^[A-Z]{2}$/;

/**
 * The pipeline's record for a valid result, read with plain property access; undefined as soon
 * as anything is off (problemsOf then names every problem). Nearly every record of a page is
 * valid, so this is what a page costs.
 */
export function quickRecord(raw: unknown, ingestedAt: string): UserRecord | undefined {
  if (!isObj(raw)) return undefined;
  const { name, location, login, dob, registered, picture } = raw;
  if (!isObj(name) || !isObj(location) || !isObj(login) || !isObj(dob) || !isObj(registered) || !isObj(picture)) return undefined;
  const street = location.street;
  if (!isObj(street)) return undefined;
  const id = plainText(login.uuid);
  if (id === undefined || !UUID.test(id)) return undefined;
  const first = plainText(name.first, MAX_NAME_LENGTH);
  const last = plainText(name.last, MAX_NAME_LENGTH);
  const gender = plainText(raw.gender, 32);
  const streetNumber = plainTextOrNumber(street.number);
  const streetName = plainText(street.name);
  const city = plainText(location.city);
  const state = plainTextOrNumber(location.state);
  const country = plainText(location.country);
  const postCode = plainTextOrNumber(location.postcode);
  const email = plainText(raw.email);
  const username = plainText(login.username);
  const dobAt = plainInstant(dob.date);
  const registeredAt = plainInstant(registered.date);
  const phone = plainTextOrNumber(raw.phone);
  const pictureUrl = plainText(picture.medium);
  const nat = plainText(raw.nat, 8)?.toUpperCase();
  if (first === undefined || last === undefined || gender === undefined || streetNumber === undefined || streetName === undefined || city === undefined
    || state === undefined || country === undefined || postCode === undefined || email === undefined || !email.includes('@') || username === undefined
    || dobAt === undefined || registeredAt === undefined || phone === undefined || pictureUrl === undefined || nat === undefined || !TWO_LETTERS.test(nat)) return undefined;
  return {
    id: id.toLowerCase(),
    first_name: first,
    last_name: last,
    gender,
    address: `${streetNumber} ${streetName}, ${city}, ${state}, ${country}`,
    post_code: postCode,
    email,
    username,
    dob: dobAt,
    registered_date: registeredAt,
    phone,
    picture: pictureUrl,
    nat,
    ingested_at: ingestedAt,
  };
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
  for (let index = 0; index < results.length; index++) {
    const raw = results[index];
    const record = quickRecord(raw, at);
    if (record === undefined) {
      rejected.push({ index, reason: problemsOf(raw), payload: raw });
      continue;
    }
    const seen = firstIndex.get(record.id);
    if (seen !== undefined) {
      rejected.push({ index, reason: `duplicate login.uuid ${record.id} in the same page (first at index ${seen})`, payload: raw });
      continue;
    }
    firstIndex.set(record.id, index);
    accepted.push(record);
    for (const w of nationalityWarnings(record.nat)) warnings.push(`index ${index}: ${w}`);
  }
  return { accepted, rejected, warnings };
}

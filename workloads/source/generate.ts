import { createHash } from 'node:crypto';
import { NATIONALITIES, Nationality, PASSWORDS, TIMEZONES, USERNAME_ANIMALS, USERNAME_WORDS } from './nationalities';

/** The randomuser.me 1.4 record shape, field for field. */
export interface RandomUser {
  gender: 'male' | 'female';
  name: { title: string; first: string; last: string };
  location: {
    street: { number: number; name: string };
    city: string;
    state: string;
    country: string;
    postcode: string | number;
    coordinates: { latitude: string; longitude: string };
    timezone: { offset: string; description: string };
  };
  email: string;
  login: { uuid: string; username: string; password: string; salt: string; md5: string; sha1: string; sha256: string };
  dob: { date: string; age: number };
  registered: { date: string; age: number };
  phone: string;
  cell: string;
  id: { name: string; value: string | null };
  picture: { large: string; medium: string; thumbnail: string };
  nat: string;
}

export const USER_FIELDS = ['gender', 'name', 'location', 'email', 'login', 'registered', 'dob', 'phone', 'cell', 'id', 'picture', 'nat'] as const;
export type UserField = (typeof USER_FIELDS)[number];

export interface PageRequest {
  readonly results: number;
  readonly seed: string;
  readonly page: number;
  /** Nationalities to draw from; empty = all. */
  readonly nat: readonly string[];
  /** Fields to include, already resolved from inc/exc. */
  readonly fields: readonly UserField[];
  readonly gender?: 'male' | 'female';
  readonly noinfo: boolean;
}

export interface RandomUserPage {
  results: Partial<RandomUser>[];
  info?: { seed: string; results: number; page: number; version: '1.4' };
}

/** FNV-1a over a string, 32 bits: a cheap, stable way to turn (seed, page, index) into PRNG state. */
function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** sfc32: small, fast and good enough for synthetic data; seeded per record so pages are independent. */
class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(key: string) {
    this.a = fnv1a(key);
    this.b = fnv1a(key, 0x01234567);
    this.c = fnv1a(key, 0x9e3779b9);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  hex(length: number): string {
    let s = '';
    while (s.length < length) s += ((this.next() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    return s.slice(0, length);
  }

  /** Expands a pattern: 9 → digit, A → capital letter, anything else kept. */
  pattern(p: string): string {
    let s = '';
    for (const ch of p) s += ch === '9' ? String(this.int(10)) : ch === 'A' ? String.fromCharCode(65 + this.int(26)) : ch;
    return s;
  }
}

const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const DAY_MS = 86_400_000;
const YEAR_MS = 365.25 * DAY_MS;

function ageAt(dateMs: number, nowMs: number): number {
  return Math.floor((nowMs - dateMs) / YEAR_MS);
}

function asciiFold(text: string): string {
  return text.toLowerCase().replace(/\s+/g, '');
}

/** A random 16-hex-digit seed, the shape the real API returns when none was given. */
export function randomSeed(): string {
  return createHash('sha1').update(String(Math.random()) + String(process.hrtime.bigint())).digest('hex').slice(0, 16);
}

/** One user, a pure function of (seed, page, index, nationalities, gender) and `nowMs` (ages only). */
export function generateUser(seed: string, page: number, index: number, nat: readonly string[], gender: 'male' | 'female' | undefined, nowMs: number): RandomUser {
  const rng = new Prng(`${seed}\u0000${page}\u0000${index}`);
  const pool: readonly Nationality[] = nat.length === 0 ? NATIONALITIES : NATIONALITIES.filter((n) => nat.includes(n.code));
  const n = rng.pick(pool);
  const g: 'male' | 'female' = gender ?? (rng.next() < 0.5 ? 'male' : 'female');
  const first = rng.pick(g === 'male' ? n.maleFirst : n.femaleFirst);
  const last = rng.pick(n.last);
  const title = g === 'male' ? rng.pick(['Mr', 'Monsieur', 'Mr']) : rng.pick(['Ms', 'Mrs', 'Miss', 'Madame']);
  const [city, state] = rng.pick(n.places);
  const postcodeText = rng.pattern(n.postcode);
  const [offset, description] = rng.pick(TIMEZONES);
  const b = rng.hex(32);
  const uuid = `${b.slice(0, 8)}-${b.slice(8, 12)}-4${b.slice(13, 16)}-${'89ab'[rng.int(4)]}${b.slice(17, 20)}-${b.slice(20, 32)}`;
  const password = rng.pick(PASSWORDS);
  let salt = '';
  for (let i = 0; i < 8; i++) salt += SALT_CHARS[rng.int(SALT_CHARS.length)];
  const salted = password + salt;
  const dobMs = Date.UTC(1945, 0, 1) + Math.floor(rng.next() * 58 * YEAR_MS);
  const registeredMs = Date.UTC(2002, 0, 1) + Math.floor(rng.next() * 20 * YEAR_MS);
  const portrait = rng.int(100);
  const folder = g === 'male' ? 'men' : 'women';
  return {
    gender: g,
    name: { title, first, last },
    location: {
      street: { number: 1 + rng.int(9999), name: rng.pick(n.streets) },
      city,
      state,
      country: n.country,
      postcode: n.numericPostcode ? Number(postcodeText) : postcodeText,
      coordinates: { latitude: (rng.next() * 180 - 90).toFixed(4), longitude: (rng.next() * 360 - 180).toFixed(4) },
      timezone: { offset, description },
    },
    email: `${asciiFold(first)}.${asciiFold(last)}@example.com`,
    login: {
      uuid,
      username: `${rng.pick(USERNAME_WORDS)}${rng.pick(USERNAME_ANIMALS)}${100 + rng.int(900)}`,
      password,
      salt,
      md5: createHash('md5').update(salted).digest('hex'),
      sha1: createHash('sha1').update(salted).digest('hex'),
      sha256: createHash('sha256').update(salted).digest('hex'),
    },
    dob: { date: new Date(dobMs).toISOString(), age: ageAt(dobMs, nowMs) },
    registered: { date: new Date(registeredMs).toISOString(), age: ageAt(registeredMs, nowMs) },
    phone: rng.pattern(n.phone),
    cell: rng.pattern(n.phone),
    id: { name: n.idName, value: n.idValue === null ? null : rng.pattern(n.idValue) },
    picture: {
      large: `https://randomuser.me/api/portraits/${folder}/${portrait}.jpg`,
      medium: `https://randomuser.me/api/portraits/med/${folder}/${portrait}.jpg`,
      thumbnail: `https://randomuser.me/api/portraits/thumb/${folder}/${portrait}.jpg`,
    },
    nat: n.code,
  };
}

/** A whole response page, the body the real API returns for the same query. */
export function generatePage(req: PageRequest, nowMs = Date.now()): RandomUserPage {
  const all = req.fields.length === USER_FIELDS.length;
  const results: Partial<RandomUser>[] = new Array(req.results);
  for (let i = 0; i < req.results; i++) {
    const user = generateUser(req.seed, req.page, i, req.nat, req.gender, nowMs);
    if (all) {
      results[i] = user;
    } else {
      const picked: Partial<RandomUser> = {};
      for (const f of req.fields) (picked as Record<string, unknown>)[f] = user[f];
      results[i] = picked;
    }
  }
  return req.noinfo ? { results } : { results, info: { seed: req.seed, results: req.results, page: req.page, version: '1.4' } };
}

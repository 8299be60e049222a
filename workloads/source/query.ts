import { err, ok, Result } from '../shared/result';
import { NATIONALITY_BY_CODE } from './nationalities';
import { PageRequest, randomSeed, USER_FIELDS, UserField } from './generate';

/** The real API's per-request ceiling. */
export const MAX_RESULTS = 5000;

function list(raw: string | null): string[] {
  return raw === null ? [] : raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Parses `/api/?results=&seed=&page=&nat=&inc=&exc=&gender=&noinfo` into a PageRequest.
 * Anything out of range is an error naming the parameter, answered as `{error}` like the real API.
 */
export function parsePageQuery(params: URLSearchParams, newSeed: () => string = randomSeed): Result<PageRequest> {
  const resultsRaw = params.get('results') ?? '1';
  const results = Number(resultsRaw);
  if (!Number.isInteger(results) || results < 1 || results > MAX_RESULTS)
    return err(`results=${JSON.stringify(resultsRaw)} must be an integer from 1 to ${MAX_RESULTS}`);

  const pageRaw = params.get('page') ?? '1';
  const page = Number(pageRaw);
  if (!Number.isInteger(page) || page < 1 || page > 1_000_000_000) return err(`page=${JSON.stringify(pageRaw)} must be a positive integer`);

  const seedRaw = params.get('seed');
  if (seedRaw !== null && (seedRaw.length === 0 || seedRaw.length > 256)) return err('seed must be 1 to 256 characters');
  const seed = seedRaw ?? newSeed();

  const nat = list(params.get('nat')).map((n) => n.toUpperCase());
  const unknown = nat.filter((n) => !NATIONALITY_BY_CODE.has(n));
  if (unknown.length > 0) return err(`unknown nationality: ${unknown.join(', ')} (known: ${[...NATIONALITY_BY_CODE.keys()].join(', ')})`);

  const inc = list(params.get('inc'));
  const exc = list(params.get('exc'));
  const badField = [...inc, ...exc].find((f) => !(USER_FIELDS as readonly string[]).includes(f));
  if (badField !== undefined) return err(`unknown field in inc/exc: ${badField} (known: ${USER_FIELDS.join(', ')})`);
  let fields: UserField[] = inc.length > 0 ? USER_FIELDS.filter((f) => inc.includes(f)) : [...USER_FIELDS];
  fields = fields.filter((f) => !exc.includes(f));

  const genderRaw = params.get('gender');
  if (genderRaw !== null && genderRaw !== 'male' && genderRaw !== 'female') return err(`gender=${JSON.stringify(genderRaw)} must be male or female`);

  return ok({ results, seed, page, nat, fields, gender: genderRaw ?? undefined, noinfo: params.has('noinfo') });
}

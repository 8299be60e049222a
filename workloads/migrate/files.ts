import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, Result } from '../shared/result';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly text: string;
  /** sha256 of the file, so an edited, already-applied migration is caught. */
  readonly checksum: string;
}

/** Reads NNN_name.ext files in version order; a bad name or a repeated version is an error. */
export function readMigrations(dir: string, ext: '.sql' | '.cql'): Result<Migration[]> {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith(ext)) continue;
    const m = /^(\d{3})_([a-z0-9_]+)\.(sql|cql)$/.exec(file);
    if (!m) return err(`migration file ${file} in ${dir} is not named NNN_name${ext}`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) return err(`two migrations with version ${m[1]} in ${dir}`);
    const text = readFileSync(join(dir, file), 'utf8');
    out.push({ version, name: m[2], text, checksum: createHash('sha256').update(text).digest('hex') });
  }
  return ok(out);
}

/** Splits CQL into statements: drops -- comments, cuts at a ; that ends a line. */
export function cqlStatements(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

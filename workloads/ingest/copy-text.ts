import { USER_COLUMNS, UserRecord } from '../shared/user';

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value in PostgreSQL's COPY text format: backslash, tab, newline and return escaped (NUL never gets here). */
export function copyValue(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]) : value;
}

/** A page's users as COPY text rows: USER_COLUMNS, then the same run id, seed and page on every row. */
export function copyRows(users: readonly UserRecord[], runId: string, seed: string, page: number): Buffer {
  const tail = `${copyValue(runId)}\t${copyValue(seed)}\t${page}\n`;
  let out = '';
  for (const u of users) {
    for (const c of USER_COLUMNS) out += copyValue(u[c]) + '\t';
    out += tail;
  }
  return Buffer.from(out, 'utf8');
}

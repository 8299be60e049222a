/** One JSON object per line on stderr, so stdout stays free for CLI output (progress, ids). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  readonly [key: string]: unknown;
}

let quiet = process.env.RTDS_LOG_LEVEL === 'silent';

/** Silences logging (tests that provoke errors on purpose). */
export function setQuiet(value: boolean): void {
  quiet = value;
}

export function isQuiet(): boolean {
  return quiet;
}

export function log(level: LogLevel, component: string, msg: string, fields: LogLine = {}): void {
  if (quiet || (level === 'debug' && process.env.RTDS_LOG_LEVEL !== 'debug')) return;
  process.stderr.write(JSON.stringify({ at: new Date().toISOString(), level, component, msg, ...fields }) + '\n');
}

// Generated credentials, created on first use and kept in <home>/secrets.json (mode 0600).
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export class Secrets {
  private readonly file: string;

  constructor(home: string) {
    this.file = path.join(home, 'secrets.json');
  }

  /** The secret under `key` (e.g. `postgres.superuser`), generated and saved on first use. */
  get(key: string): string {
    const all = this.read();
    if (!all[key]) {
      // URL- and shell-safe so it can go in connection strings and config files unquoted.
      all[key] = randomBytes(24).toString('base64url');
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(this.file, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
      fs.chmodSync(this.file, 0o600);
    }
    return all[key];
  }

  private read(): Record<string, string> {
    if (!fs.existsSync(this.file)) return {};
    return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string>;
  }
}

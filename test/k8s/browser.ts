// What a person sees: Debian's chromium, headless, driven by playwright-core (installed with apt
// when missing; no browser download), on a fresh profile that is removed afterwards.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  process.stderr.write('[k8s test] installing Debian\'s chromium\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'ignore', env }).status !== 0) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'ignore', env });
  }
}

/** Runs `use` on a page of a fresh headless chromium; always closes it and removes its profile. */
export async function withPage<T>(use: (page: Page) => Promise<T>): Promise<T> {
  ensureChromium();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rtds-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    return await use(context.pages()[0] ?? (await context.newPage()));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Finds a file shipped beside the code (migrations, the Avro schema) whether we run from
 * the sources (ts-node), from dist/ in a checkout, or from /app in the image.
 */
export function assetPath(relative: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'workloads', relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find workloads/${relative} above ${__dirname}`);
    dir = parent;
  }
}

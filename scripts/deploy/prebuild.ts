// The Go builds the deploy and k8s tiers need on a machine that has never run them, built ahead:
// Terraform and its mirrored providers, and the cluster's binaries (about 40 CPU-minutes cold).
// `npm test` starts this in the background, at the lowest CPU and I/O priority, while the tiers on
// local processes run, so that on a cold machine the builds use the cores the tests leave idle
// instead of adding their whole length to the run; the deploy tier waits for it. The Docker
// engine and the base image are left to the tiers: a daemon started from here would keep this
// priority, and its containers with it. Each step is a cache check on a warm machine.
//
// Usage: ts-node scripts/deploy/prebuild.ts [--cluster]
import { ensureBinaries } from '../cluster/build';
import { ensureToolchain } from './terraform';

export async function prebuild(opts: { cluster: boolean }): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  const step = async (name: string, body: () => Promise<unknown>) => {
    const t0 = Date.now();
    await body();
    seconds[name] = Math.round((Date.now() - t0) / 1000);
  };
  await step('terraform', ensureToolchain);
  if (opts.cluster) await step('cluster binaries', ensureBinaries);
  return seconds;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--cluster');
  if (unknown.length) {
    process.stderr.write(`[prebuild] unknown argument ${unknown.join(' ')} (usage: prebuild.ts [--cluster])\n`);
    process.exit(2);
  }
  prebuild({ cluster: args.includes('--cluster') }).then(
    (s) => process.stderr.write(`[prebuild] ready: ${Object.entries(s).map(([k, v]) => `${k} ${v} s`).join(', ')}\n`),
    (err: Error) => {
      process.stderr.write(`[prebuild] error: ${err.message}\n`);
      process.exit(1);
    },
  );
}

// The floors, checked by dependency-cruiser with the committed .dependency-cruiser.js (npm run deps).
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');

interface Violation { readonly rule: { readonly name: string }; readonly from: string; readonly to: string }

function cruise(): { violations: Violation[]; modules: string[]; rules: string[] } {
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/depcruise'),
    ['--config', '.dependency-cruiser.js', '--output-type', 'json', 'main.ts', 'config', 'constructs', 'stacks', 'workloads', 'scripts', 'bench', 'test'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  const out = JSON.parse(r.stdout) as { modules: Array<{ source: string }>; summary: { violations: Violation[]; ruleSetUsed: { forbidden: Array<{ name: string }> } } };
  return { violations: out.summary.violations, modules: out.modules.map((m) => m.source), rules: out.summary.ruleSetUsed.forbidden.map((f) => f.name) };
}

describe('the floors (config, constructs, stacks; tooling above) as dependency-cruiser checks them', () => {
  const result = cruise();

  it('has no circular import, no upward import, no provider outside the renderers and stacks, no I/O in the pure workload core', () => {
    expect(result.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('checks every rule the house keeps, over the whole project', () => {
    expect(result.rules).toEqual([
      'no-circular', 'provider-only-in-renderers-and-stacks', 'config-is-the-ground-floor', 'constructs-below-stacks',
      'components-below-renderers', 'floors-never-import-tooling', 'workloads-read-config-facts-only', 'pure-workload-modules-do-no-io',
    ]);
    // A cruise that missed a floor would prove nothing about it.
    for (const m of ['main.ts', 'config/index.ts', 'config/facts/index.ts', 'constructs/components/kafka.ts', 'constructs/platform/docker.ts', 'stacks/docker.ts',
      'workloads/ingest/normalize.ts', 'workloads/ingest/page.ts', 'workloads/source/generate.ts', 'workloads/relay/avro.ts', 'scripts/services/lifecycle.ts', 'bench/bench.ts'])
      expect({ m, cruised: result.modules.includes(m) }).toEqual({ m, cruised: true });
  });
});

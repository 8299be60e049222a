// Golden files of the synthesized stacks, one per component per platform (score-compose style):
// a change to one component's rendering shows up as a diff of that component's file only.
//
//   test/unit/infra/golden/<variant>/<platform>/<component>.json   services, volumes, config maps
//   test/unit/infra/golden/<variant>/<platform>/images.json        docker_image (Docker only)
//   test/unit/infra/golden/<variant>/<platform>/secrets.json       generated or supplied secret values
//   test/unit/infra/golden/<variant>/<platform>/stack.json         providers, backend, network/namespace, outputs
//
// After an intended change: RTDS_UPDATE_GOLDEN=1 npx jest --selectProjects unit --testPathPatterns golden
import * as fs from 'fs';
import * as path from 'path';
import { TerraformJson } from './synth';

export const GOLDEN_DIR = path.join(__dirname, 'golden');

type Resources = Record<string, Record<string, any>>;
export type GoldenFiles = Record<string, { resource?: Resources; [key: string]: unknown }>;

const STACK_TYPES = new Set(['docker_network', 'kubernetes_namespace_v1']);
const SECRET_TYPES = new Set(['random_password', 'random_id', 'kubernetes_secret_v1']);

/** The component label a rendered resource carries, if any. */
function componentLabel(resource: any): string | undefined {
  const k8s = resource.metadata?.labels?.['app.kubernetes.io/component'];
  if (k8s) return k8s;
  return (resource.labels as Array<{ label: string; value: string }> | undefined)
    ?.find((l) => l.label === 'app.kubernetes.io/component')?.value;
}

/** Splits a synthesized stack into golden files; every resource lands in exactly one of them. */
export function splitStack(json: TerraformJson): GoldenFiles {
  const files: GoldenFiles = {};
  const put = (file: string, type: string, key: string, value: unknown) => {
    const f = (files[file] ??= {});
    const r = (f.resource ??= {});
    (r[type] ??= {})[key] = value;
  };
  // A Docker volume belongs to the component whose container mounts it.
  const volumeOwner = new Map<string, string>();
  for (const c of Object.values(json.resource.docker_container ?? {})) {
    for (const v of (c as any).volumes ?? []) {
      const m = /^\$\{docker_volume\.([^.]+)\.name\}$/.exec(v.volume_name);
      if (m) volumeOwner.set(m[1], componentLabel(c)!);
    }
  }
  for (const [type, resources] of Object.entries(json.resource)) {
    for (const [key, value] of Object.entries(resources)) {
      if (STACK_TYPES.has(type)) put('stack', type, key, value);
      else if (SECRET_TYPES.has(type)) put('secrets', type, key, value);
      else if (type === 'docker_image') put('images', type, key, value);
      else if (type === 'docker_volume') {
        const owner = volumeOwner.get(key);
        if (!owner) throw new Error(`docker_volume.${key} is mounted by no container`);
        put(owner, type, key, value);
      } else {
        const component = componentLabel(value);
        if (!component) throw new Error(`${type}.${key} has no app.kubernetes.io/component label: say where it belongs in test/unit/infra/golden.ts`);
        put(component, type, key, value);
      }
    }
  }
  const stack = (files.stack ??= {});
  for (const key of ['terraform', 'provider', 'output'] as const) if (json[key] !== undefined) stack[key] = json[key];
  if (json.variable !== undefined) (files.secrets ??= {}).variable = json.variable;
  return files;
}

/** The committed golden files of one variant and platform. */
export function readGolden(variant: string, platform: string): Record<string, unknown> {
  const dir = path.join(GOLDEN_DIR, variant, platform);
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => [f.replace(/\.json$/, ''), JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))]));
}

/** Replaces the golden files of one variant and platform (RTDS_UPDATE_GOLDEN=1). */
export function writeGolden(variant: string, platform: string, files: GoldenFiles): void {
  const dir = path.join(GOLDEN_DIR, variant, platform);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(content, null, 2) + '\n');
}

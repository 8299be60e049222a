// How the deploy app adapts the Docker stack to the offline provider mirror, checked
// on the real stack synthesized in memory (no engine needed).
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { loadConfig } from '../../../config';
import { generateSecret } from '../../../config/facts';
import { DockerStack } from '../../../stacks/docker';
import { mirroredProviders, offlineStacks, pinToMirror } from '../../../scripts/deploy/offline-app';
import { parseUpArgs } from '../../../scripts/deploy/up';
import { parseDownArgs } from '../../../scripts/deploy/down';

const repoDir = path.resolve(__dirname, '../../..');

function stack(env: NodeJS.ProcessEnv) {
  const config = loadConfig({ env: { ...env }, cwd: repoDir });
  const app = Testing.app() as App;
  return { config, stack: new DockerStack(app, 'docker', { config, repoDir }) };
}

type Json = { terraform: { required_providers: Record<string, { version: string }> }; provider?: Record<string, unknown>; resource: Record<string, unknown>; variable?: Record<string, unknown> };
const synthesized = (s: DockerStack) => JSON.parse(Testing.synth(s)) as Json;

describe('offline deploy app', () => {
  test('requires exactly the mirrored docker provider and drops random when secrets are variables', () => {
    const { stack: s } = stack({ RTDS_SECRET_SOURCE: 'variables' });
    pinToMirror(s, { docker: '4.6.0' });
    const json = synthesized(s);
    expect(json.terraform.required_providers).toEqual({ docker: { source: 'kreuzwerker/docker', version: '4.6.0' } });
    expect(Object.keys(json.provider ?? {})).toEqual(['docker']);
    expect(Object.keys(json.resource).filter((t) => t.startsWith('random_'))).toEqual([]);
  });

  test('refuses a provider the mirror does not hold, naming it', () => {
    const { stack: s } = stack({ RTDS_SECRET_SOURCE: 'generate' });
    expect(() => pinToMirror(s, { docker: '4.6.0' })).toThrow("provider 'random' is not in the offline mirror");
  });

  test('reads mirrored versions from RTDS_PROVIDER_* variables', () => {
    expect(mirroredProviders({ RTDS_PROVIDER_DOCKER: '4.6.0', OTHER: 'x', RTDS_PROVIDER_KUBERNETES: '' })).toEqual({ docker: '4.6.0' });
  });
});

describe('deploy secrets and arguments', () => {
  test('generate the shapes the services expect', () => {
    expect(generateSecret('password')).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(generateSecret('password', 48)).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(Buffer.from(generateSecret('fernet'), 'base64url')).toHaveLength(32);
    expect(generateSecret('fernet')).toMatch(/=$/);
    expect(generateSecret('cluster-id')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(generateSecret('password')).not.toBe(generateSecret('password'));
    expect(() => generateSecret('pin')).toThrow("unknown secret kind 'pin' (known: password, fernet, cluster-id)");
  });

  test('are listed with their kind and length by the stack, so nothing parses a description', () => {
    const { stack: s } = stack({ RTDS_SECRET_SOURCE: 'variables' });
    const byName = Object.fromEntries(s.platform.secretVariables.map((v) => [v.variable, v]));
    expect(byName.airflow_jwt_secret).toEqual({ variable: 'airflow_jwt_secret', kind: 'password', length: 48 });
    expect(byName.airflow_fernet_key).toEqual({ variable: 'airflow_fernet_key', kind: 'fernet' });
    expect(byName.postgres_landing_password).toEqual({ variable: 'postgres_landing_password', kind: 'password', length: 32 });
    const declared = Object.keys(synthesized(s).variable ?? {}).sort();
    expect(s.platform.secretVariables.map((v) => v.variable).sort()).toEqual(declared);
  });

  test('reject unknown or malformed arguments with the argument named', () => {
    expect(parseUpArgs(['--image-mode', 'local', '--timeout-minutes', '5'])).toEqual({ imageMode: 'local', timeoutMinutes: 5 });
    expect(() => parseUpArgs(['--image-mode', 'pulled'])).toThrow("--image-mode must be 'local' or 'upstream', not 'pulled'");
    expect(() => parseUpArgs(['--timeout-minutes', '-1'])).toThrow('--timeout-minutes must be a positive number');
    expect(() => parseUpArgs(['--fast'])).toThrow("unknown argument '--fast'");
    expect(parseDownArgs(['--keep-data'])).toEqual({ keepData: true });
    expect(() => parseDownArgs(['--purge'])).toThrow("unknown argument '--purge'");
    expect(parseUpArgs(['--target', 'kubernetes'])).toEqual({ target: 'kubernetes' });
    expect(() => parseUpArgs(['--target', 'nomad'])).toThrow("--target must be 'docker' or 'kubernetes', not 'nomad'");
    expect(parseDownArgs(['--target', 'kubernetes', '--cluster'])).toEqual({ target: 'kubernetes', keepData: false, cluster: true });
    expect(() => parseDownArgs(['--cluster'])).toThrow('--cluster stops the Kubernetes cluster: use it with --target kubernetes');
    expect(() => parseDownArgs(['--target', 'kubernetes', '--keep-data'])).toThrow('--keep-data is for the Docker target');
  });
});

describe('offline deploy app, Kubernetes target', () => {
  const env = { RTDS_SECRET_SOURCE: 'variables', RTDS_IMAGE_MODE: 'local', RTDS_CONSOLE_KIND: 'none', RTDS_PROVIDER_KUBERNETES: '3.2.1', RTDS_PROVIDER_DOCKER: '4.6.0' };
  const app = Testing.app() as App;
  const out = offlineStacks(app, 'kubernetes', env, repoDir);
  const stack = (id: string) => JSON.parse(Testing.synth(app.node.findChild(id) as any)) as Json & { resource: Record<string, Record<string, any>> };

  test('requires exactly the mirrored kubernetes provider and no random provider', () => {
    expect(stack('kubernetes').terraform.required_providers).toEqual({ kubernetes: { source: 'kubernetes', version: '3.2.1' } });
    expect(stack('kubernetes-images').terraform.required_providers).toEqual({ docker: { source: 'kreuzwerker/docker', version: '4.6.0' } });
  });

  test('lists every secret as a variable to generate, and every image a pod runs once, marked built or pulled', () => {
    expect(out.secretVariables.map((v) => v.variable).sort()).toEqual(Object.keys(stack('kubernetes').variable ?? {}).sort());
    const pods = new Set<string>();
    for (const type of ['kubernetes_stateful_set_v1', 'kubernetes_deployment_v1', 'kubernetes_job_v1']) {
      for (const w of Object.values(stack('kubernetes').resource[type])) pods.add(w.spec.template.spec.container[0].image);
    }
    expect(out.podImages!.map((i) => i.name).sort()).toEqual([...pods].sort());
    expect(out.podImages!.every((i) => i.built)).toBe(true);
  });

  test('builds the images exactly as the Docker stack does (same names, Dockerfiles, build args and bases), so one build serves both', () => {
    const dockerApp = Testing.app() as App;
    offlineStacks(dockerApp, 'docker', env, repoDir);
    // Keyed by image name (the logical ids differ by stack); a base is named instead of addressed.
    const images = (json: any) => {
      const all = json.resource.docker_image as Record<string, any>;
      const nameOf = (address: string) => all[address.replace(/^docker_image\./, '')].name;
      return Object.fromEntries(Object.values(all).map((i) => [i.name, { ...i, triggers: Object.keys(i.triggers ?? {}), depends_on: i.depends_on?.map(nameOf) }]));
    };
    const docker = JSON.parse(Testing.synth(dockerApp.node.findChild('docker') as any));
    expect(images(stack('kubernetes-images'))).toEqual(images(docker));
  });
});

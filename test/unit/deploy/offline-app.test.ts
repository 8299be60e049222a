// How the deploy app adapts the Docker stack to the offline provider mirror, checked
// on the real stack synthesized in memory (no engine needed).
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { loadConfig } from '../../../config';
import { generateSecret } from '../../../config/facts';
import { DockerStack } from '../../../stacks/docker';
import { mirroredProviders, pinToMirror } from '../../../scripts/deploy/offline-app';
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
  });
});

import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { byName, dockerEnv, podContainer, synthBoth } from './synth';

const SEED_SECRETS = ['airflow:airflow', 'this_is_a_very_secured_key'];
/** Names whose value is a credential wherever they appear. */
const SECRET_NAME = /PASSWORD|SECRET|FERNET|TOKEN|_KEY$|SQL_ALCHEMY_CONN|CLUSTER_ID/;
/** A Terraform reference to a generated or supplied value, never the value itself. */
const REFERENCE = /\$\{(random_password|random_id|var)\.[^}]+\}/;

function readTree(dir: string): string {
  return fs.readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? readTree(path.join(dir, e.name)) : fs.readFileSync(path.join(dir, e.name), 'utf8')))
    .join('\n');
}

describe('no secret value in the synthesized stacks or the code that makes them', () => {
  const stacks = synthBoth();
  const synthesized = [Testing.fullSynth(stacks.dockerStack), Testing.fullSynth(stacks.kubernetesStack)].map(readTree).join('\n');

  it('contains none of the seed\'s literal credentials', () => {
    // What is scanned: both stacks' synthesized JSON, with every credential-carrying resource in it.
    for (const marker of ['"docker_container"', '"kubernetes_secret_v1"', '"random_password"', '"random_id"'])
      expect({ marker, present: synthesized.includes(marker) }).toEqual({ marker, present: true });
    for (const s of SEED_SECRETS) expect(synthesized).not.toContain(s);
  });

  it('sets every credential variable of every Docker container from a generated value', () => {
    const checked: string[] = [];
    for (const c of Object.values(byName(stacks.docker, 'docker_container'))) {
      for (const [name, value] of Object.entries(dockerEnv(c))) {
        if (!SECRET_NAME.test(name)) continue;
        checked.push(name);
        expect({ container: c.name, name, value }).toEqual({ container: c.name, name, value: expect.stringMatching(REFERENCE) });
      }
    }
    expect(checked).toEqual(expect.arrayContaining(['POSTGRES_PASSWORD', 'PGPASSWORD', 'CASSANDRA_PASSWORD', 'AIRFLOW__CORE__FERNET_KEY',
      'AIRFLOW__API_AUTH__JWT_SECRET', '_AIRFLOW_WWW_USER_PASSWORD', 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']));
  });

  it('reads every Kubernetes credential from a Secret whose data are generated values', () => {
    for (const type of ['kubernetes_stateful_set_v1', 'kubernetes_deployment_v1', 'kubernetes_job_v1']) {
      for (const w of Object.values(byName(stacks.kubernetes, type))) {
        for (const e of podContainer(w).env ?? []) {
          if (SECRET_NAME.test(e.name)) expect({ name: e.name, ref: !!e.value_from?.secret_key_ref, value: e.value }).toEqual({ name: e.name, ref: true, value: undefined });
        }
      }
    }
    for (const s of Object.values(byName(stacks.kubernetes, 'kubernetes_secret_v1'))) {
      for (const value of Object.values(s.data as Record<string, string>)) expect(value).toMatch(REFERENCE);
    }
  });

  it('embeds no credential in a URL', () => {
    const userinfo = [...synthesized.matchAll(/\/\/[\w.-]+:([^@/\s"]+)@/g)].map((m) => m[1]);
    for (const secret of userinfo) expect(secret).toMatch(/^\$\{(random_password|var)\./);
  });

  it("with secretSource 'variables' declares sensitive Terraform variables instead of generating", () => {
    const fromVars = synthBoth({ secretSource: 'variables' });
    expect(fromVars.docker.resource.random_password).toBeUndefined();
    const variables = fromVars.docker.variable ?? {};
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['postgres_landing-password', 'airflow_fernet-key'].map((n) => n.replace(/-/g, '_'))));
    for (const v of Object.values(variables)) expect(v).toMatchObject({ sensitive: true, type: 'string' });
    expect(dockerEnv(byName(fromVars.docker, 'docker_container')['rtds-relay']).PGPASSWORD).toBe('${var.postgres_landing_password}');
  });

  it('the infrastructure code holds no seed credential either', () => {
    const root = path.resolve(__dirname, '../../..');
    const code = ['main.ts', 'stacks', 'constructs'].map((p) => {
      const full = path.join(root, p);
      return fs.statSync(full).isDirectory() ? readTree(full) : fs.readFileSync(full, 'utf8');
    }).join('\n');
    for (const s of SEED_SECRETS) expect(code).not.toContain(s);
  });
});

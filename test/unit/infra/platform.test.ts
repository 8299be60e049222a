import { Testing, TerraformStack } from 'cdktf';
import { DockerPlatform, goDuration } from '../../../constructs/platform/docker';
import { KubernetesPlatform } from '../../../constructs/platform/kubernetes';
import { Platform, ServiceSpec, terraformLiteral } from '../../../constructs/platform/spec';
import { configWith } from '../../../config';
import { DockerStack } from '../../../stacks/docker';
import { FIXTURE_REPO } from './synth';

const web: ServiceSpec = {
  name: 'web',
  component: 'test',
  kind: 'stateless',
  image: { name: 'nginx:1.27.0' },
  ports: [{ name: 'http', containerPort: 80, hostPort: 8088 }],
  health: { probe: { httpGet: { path: '/', port: 80 } } },
  resources: { cpu: 0.25, memoryMiB: 128, requests: { cpu: 0.05, memoryMiB: 64 } },
};

function platforms(): Array<[string, Platform]> {
  const app = Testing.app();
  return [
    ['docker', new DockerPlatform(new TerraformStack(app, 'd'), 'p', { network: 'n' })],
    ['kubernetes', new KubernetesPlatform(new TerraformStack(app, 'k'), 'p', { namespace: 'ns' })],
  ];
}

describe.each(platforms())('the %s platform refuses specs it cannot render faithfully', (_name, platform) => {
  it('rejects a dependency that was not added before', () => {
    expect(() => platform.add({ ...web, name: 'api', dependsOn: [{ service: 'db', condition: 'healthy' }] }))
      .toThrow("service 'api': depends on 'db', which has not been added before it");
  });

  it('rejects waiting for a job to be healthy or a service to complete', () => {
    platform.add({ ...web, name: 'db' });
    platform.add({ ...web, name: 'init', kind: 'job', health: undefined });
    expect(() => platform.add({ ...web, name: 'a', dependsOn: [{ service: 'init', condition: 'healthy' }] }))
      .toThrow("service 'a': condition 'healthy' does not fit 'init' (a job service)");
    expect(() => platform.add({ ...web, name: 'b', dependsOn: [{ service: 'db', condition: 'completed' }] }))
      .toThrow("service 'b': condition 'completed' does not fit 'db' (a stateless service)");
  });

  it('rejects a long-running service without a health check, a duplicate, and a bad name', () => {
    expect(() => platform.add({ ...web, name: 'quiet', health: undefined })).toThrow("service 'quiet': a long-running service needs a health check");
    platform.add({ ...web, name: 'once' });
    expect(() => platform.add({ ...web, name: 'once' })).toThrow("service 'once': added twice");
    expect(() => platform.add({ ...web, name: 'Bad_Name' })).toThrow(/service 'Bad_Name': name must be a lowercase DNS label/);
  });

  it('rejects a secret derived from a key defined after it, and an unknown key', () => {
    expect(() => platform.secret('s1', { url: { derive: (v) => `x${v('pw')}` }, pw: { generate: 'password' } }))
      .toThrow("secret 's1': derived value refers to 'pw', which is not defined before it");
    const handle = platform.secret('s2', { pw: { generate: 'password' } });
    expect(() => handle.ref('nope')).toThrow("secret 's2' has no key 'nope'");
  });
});

describe('platform differences that are by design', () => {
  it('Docker runs one member of a stateful ensemble; Kubernetes runs the requested count', () => {
    const [[, docker], [, k8s]] = platforms();
    expect(docker.replicasFor('stateful', 3)).toBe(1);
    expect(docker.replicasFor('stateless', 3)).toBe(3);
    expect(k8s.replicasFor('stateful', 3)).toBe(3);
    expect(docker.peerHost('kafka', 0)).toBe('kafka');
    expect(k8s.peerHost('kafka', 2)).toBe('kafka-2.kafka-headless.ns.svc.cluster.local');
  });

  it('Kubernetes refuses to run a pod as root', () => {
    const [, [, k8s]] = platforms();
    expect(() => k8s.add({ ...web, runAs: { user: 0, group: 0 } })).toThrow("service 'web': runAs.user must not be 0");
  });
});

describe('Docker attributes are written the way the provider reads them back, so a second plan is empty', () => {
  it('spells durations like Go', () => {
    expect([5, 30, 60, 90, 120, 300, 3661].map(goDuration)).toEqual(['5s', '30s', '1m0s', '1m30s', '2m0s', '5m0s', '1h1m1s']);
  });
});

describe('terraformLiteral', () => {
  it('doubles ${ and %{ so Terraform keeps them, and leaves references alone', () => {
    expect(terraformLiteral('a ${HOME} %{if} b')).toBe('a $${HOME} %%{if} b');
    expect(terraformLiteral('plain $HOME')).toBe('plain $HOME');
    expect(terraformLiteral('${TfToken[TOKEN.1]}')).toBe('${TfToken[TOKEN.1]}');
  });
});

describe('the seam', () => {
  it('fails synthesis with the field name when the Spark app is missing', () => {
    const config = configWith({ spark: { app: 'missing_app.py' } });
    expect(() => new DockerStack(Testing.app(), 'docker', { config, repoDir: FIXTURE_REPO }))
      .toThrow("spark.app: 'missing_app.py' is not among the files of spark.appsDir 'spark-apps' (users_stream.py, users_transform.py)");
    expect(() => new DockerStack(Testing.app(), 'docker', { config: configWith({ airflow: { dagsDir: 'no-dags' } }), repoDir: FIXTURE_REPO }))
      .toThrow(/airflow\.dagsDir: folder 'no-dags' does not exist/);
  });
});

import { synthBoth } from './synth';

describe('Docker and Kubernetes render the same pipeline', () => {
  it.each([
    ['defaults', {}],
    ['KRaft with kafka-ui', { kafka: { mode: 'kraft' as const }, console: { kind: 'kafka-ui' as const } }],
    ['local images', { imageMode: 'local' as const, console: { kind: 'kafka-ui' as const } }],
    ['no console', { console: { kind: 'none' as const } }],
    ['local images without a console', { imageMode: 'local' as const, console: { kind: 'none' as const } }],
  ])('same set of services (%s)', (_name, overlay) => {
    const { dockerStack, kubernetesStack } = synthBoth(overlay);
    expect([...dockerStack.platform.serviceNames].sort()).toEqual([...kubernetesStack.platform.serviceNames].sort());
  });

  it('includes every component the issue lists, with its init steps', () => {
    const { dockerStack } = synthBoth();
    expect([...dockerStack.platform.serviceNames].sort()).toEqual([
      'airflow-api-server', 'airflow-dag-processor', 'airflow-init', 'airflow-scheduler', 'cassandra', 'cassandra-auth',
      'cassandra-migrate', 'control-center', 'ingest', 'kafka', 'kafka-topics', 'postgres', 'postgres-migrate',
      'register-schema', 'relay', 'schema-registry', 'source', 'spark-master', 'spark-worker', 'users-stream', 'zookeeper',
    ]);
  });

  it('renders each service as a container on Docker and as a workload on Kubernetes', () => {
    const { docker, kubernetes, config } = synthBoth();
    const containers = Object.values(docker.resource.docker_container).map((c: any) => c.name.replace(/^rtds-/, ''));
    const workloads = ['kubernetes_stateful_set_v1', 'kubernetes_deployment_v1', 'kubernetes_job_v1']
      .flatMap((t) => Object.values(kubernetes.resource[t]).map((w: any) => w.metadata.name));
    expect(containers.sort()).toEqual(workloads.sort());
    expect(config.spark.workers).toBe(1);
  });
});

import { STARTUP_SECONDS } from '../../../constructs/platform/kubernetes';
import { byName, dockerEnv, podContainer, podEnv, synthBoth, TerraformJson } from './synth';

const VARIANTS = [
  ['defaults', {}],
  ['KRaft with kafka-ui', { kafka: { mode: 'kraft' as const }, console: { kind: 'kafka-ui' as const } }],
  ['local images', { imageMode: 'local' as const, console: { kind: 'kafka-ui' as const } }],
  ['no console', { console: { kind: 'none' as const } }],
  ['local images without a console, secrets as variables', { imageMode: 'local' as const, console: { kind: 'none' as const }, secretSource: 'variables' as const }],
] as const;

/** Docker's reading with the start period Kubernetes gives: at least STARTUP_SECONDS (Docker never restarts a slow starter). */
function asOnKubernetes(r: Rendered): Rendered {
  if (!r.healthTiming) return r;
  const [start, period, ...rest] = r.healthTiming.split('/').map(Number);
  return { ...r, healthTiming: [Math.ceil(Math.max(start, STARTUP_SECONDS) / period) * period, period, ...rest].join('/') };
}

/** What a service is, read back from its rendering, in terms both platforms share. */
interface Rendered {
  readonly command: unknown;
  readonly args: unknown;
  /** Names of its environment variables (Kubernetes' POD_NAME helper for the self-host variable left out). */
  readonly env: string[];
  /** Where its probe looks: `tcp <port>`, `http <port><path>` or `exec <command>`. */
  readonly health: string | null;
  /** start period / interval / timeout / retries, as each platform derives them from the spec. */
  readonly healthTiming: string | null;
  /** Mount paths of its volumes. */
  readonly volumes: string[];
  /** Services it waits for. */
  readonly dependsOn: string[];
  readonly memoryMiB: number;
}

const seconds = (go: string) => { const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(go)!; return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0); };

function dockerHealth(test: string[] | undefined): string | null {
  if (!test) return null;
  const line = test.slice(1).join(' ');
  // The renderer's bare port check, not a probe that also speaks the service's protocol over /dev/tcp.
  const tcp = /^bash -c exec 3<>\/dev\/tcp\/127\.0\.0\.1\/(\d+)$/.exec(line);
  if (tcp) return `tcp ${tcp[1]}`;
  const http = /http:\/\/(?:localhost|127\.0\.0\.1):(\d+)(\/[^\s'")]*)/.exec(line);
  if (http) return `http ${http[1]}${http[2]}`;
  return `exec ${test.slice(1).join(' ')}`;
}

function dockerServices(json: TerraformJson): Record<string, Rendered> {
  const containers = byName(json, 'docker_container');
  const serviceOf = new Map<string, string>();
  for (const [key, c] of Object.entries(json.resource.docker_container)) serviceOf.set(`docker_container.${key}`, (c as any).hostname.replace(/-\d+$/, ''));
  const out: Record<string, Rendered> = {};
  for (const c of Object.values(containers)) {
    const service = c.networks_advanced[0].aliases[0];
    if (out[service]) continue; // replicas 2..N render the same
    const h = c.healthcheck;
    // Kubernetes counts the start period in whole probe periods.
    const period = h ? seconds(h.interval) : 1;
    out[service] = {
      command: c.entrypoint ?? null,
      args: c.command ?? null,
      env: Object.keys(dockerEnv(c)).sort(),
      health: dockerHealth(h?.test),
      healthTiming: h ? `${Math.ceil(seconds(h.start_period) / period) * period}/${period}/${seconds(h.timeout)}/${h.retries}` : null,
      volumes: [...(c.volumes ?? []).map((v: any) => v.container_path), ...[...new Set<string>((c.upload ?? []).map((u: any) => u.file.slice(0, u.file.lastIndexOf('/'))))]].sort(),
      dependsOn: (c.depends_on ?? []).map((d: string) => serviceOf.get(d)).filter((s: string | undefined, i: number, all: Array<string | undefined>) => s && all.indexOf(s) === i).sort(),
      memoryMiB: c.memory,
    };
  }
  return out;
}

function k8sServices(json: TerraformJson): Record<string, Rendered> {
  const types = ['kubernetes_stateful_set_v1', 'kubernetes_deployment_v1', 'kubernetes_job_v1'];
  const serviceOf = new Map<string, string>();
  for (const t of types) for (const [key, w] of Object.entries(json.resource[t] ?? {})) serviceOf.set(`${t}.${key}`, (w as any).metadata.name);
  const out: Record<string, Rendered> = {};
  for (const t of types) {
    for (const w of Object.values(byName(json, t))) {
      const c = podContainer(w);
      // Docker's health check is the readiness probe (a liveness probe may be laxer); timing comes from liveness.
      const p = c.liveness_probe;
      const r = c.readiness_probe;
      const health = !r ? null : r.tcp_socket ? `tcp ${r.tcp_socket[0].port}` : r.http_get ? `http ${r.http_get.port}${r.http_get.path}` : `exec ${r.exec.command.join(' ')}`;
      // Kubernetes encodes the start period in the start-up probe's threshold: (threshold - retries) × period.
      const start = p ? (c.startup_probe.failure_threshold - p.failure_threshold) * p.period_seconds : 0;
      out[w.metadata.name] = {
        command: c.command ?? null,
        args: c.args ?? null,
        env: Object.keys(podEnv(w)).filter((n) => n !== 'POD_NAME').sort(),
        health,
        healthTiming: p ? `${start}/${p.period_seconds}/${p.timeout_seconds}/${p.failure_threshold}` : null,
        volumes: (c.volume_mount ?? []).map((v: any) => v.mount_path).sort(),
        dependsOn: (w.depends_on ?? []).map((d: string) => serviceOf.get(d)).filter(Boolean).sort(),
        memoryMiB: Number(c.resources.limits.memory.replace(/Mi$/, '')),
      };
    }
  }
  return out;
}

/** Docker runs one member of each ensemble; with the same counts on Kubernetes, nothing may differ. */
const ONE_OF_EACH = { zookeeper: { replicas: 1 }, kafka: { replicas: 1, topic: { replicationFactor: 1 } }, cassandra: { replicas: 1 } };

describe.each(VARIANTS)('Docker and Kubernetes render the same pipeline (%s)', (_name, overlay) => {
  const { docker, kubernetes, dockerStack, kubernetesStack } = synthBoth({ ...overlay, ...ONE_OF_EACH, kafka: { ...ONE_OF_EACH.kafka, ...('kafka' in overlay ? overlay.kafka : {}) } });
  const onDocker = dockerServices(docker);
  const onK8s = k8sServices(kubernetes);

  it('has the same services on both platforms', () => {
    expect(Object.keys(onDocker).sort()).toEqual(Object.keys(onK8s).sort());
    expect([...dockerStack.platform.serviceNames].sort()).toEqual([...kubernetesStack.platform.serviceNames].sort());
  });

  it.each(Object.keys(onDocker).sort())('%s: same command, environment keys, health check, volumes, dependencies and memory', (service) => {
    expect(asOnKubernetes(onDocker[service])).toEqual(onK8s[service]);
  });

  it('publishes on Docker only ports the Kubernetes Service exposes too', () => {
    const services = byName(kubernetes, 'kubernetes_service_v1');
    for (const c of Object.values(byName(docker, 'docker_container'))) {
      const service = c.networks_advanced[0].aliases[0];
      const k8sPorts = (services[service]?.spec.port ?? []).map((p: any) => p.port);
      for (const p of c.ports ?? []) expect({ service, port: p.internal, exposed: k8sPorts.includes(p.internal) }).toEqual({ service, port: p.internal, exposed: true });
    }
  });
});

describe('the parity reading sees what a service is', () => {
  it('reads the relay the way an operator would describe it', () => {
    const relay = dockerServices(synthBoth().docker).relay;
    expect(relay).toEqual({
      command: null,
      args: ['relay'],
      env: ['HTTP_PORT', 'KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_TOPIC', 'NODE_OPTIONS', 'PGDATABASE', 'PGHOST', 'PGPASSWORD', 'PGPORT', 'PGUSER', 'SCHEMA_REGISTRY_URL'],
      health: 'http 8001/healthz',
      healthTiming: '20/10/5/6',
      volumes: [],
      dependsOn: ['postgres-migrate', 'register-schema'],
      memoryMiB: 512,
    });
    expect(k8sServices(synthBoth().kubernetes).postgres.volumes).toEqual(['/docker-entrypoint-initdb.d', '/var/lib/postgresql/data']);
  });
});

describe('the pipeline each platform renders', () => {
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

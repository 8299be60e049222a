import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import {
  StatefulSetV1, StatefulSetV1SpecTemplateSpec, StatefulSetV1SpecTemplateSpecContainerEnv,
  StatefulSetV1SpecTemplateSpecContainerReadinessProbe,
} from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { DeploymentV1, DeploymentV1SpecTemplateSpec } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { JobV1, JobV1SpecTemplateSpec } from '@cdktf/provider-kubernetes/lib/job-v1';
import { SecretSourceKind, SecretVariable, secretValueTokens, secretVariables } from './secrets';
import {
  checkSpec, HealthCheck, HealthProbe, ImageRef, Platform, SecretHandle, SecretValue, ServiceKind, ServiceSpec, terraformLiteral as lit,
} from './spec';

export interface KubernetesPlatformProps {
  /** Namespace every resource lives in (created here). */
  readonly namespace: string;
  /** StorageClass of the PVC templates. @default the cluster default */
  readonly storageClass?: string;
  /** @default 'generate' */
  readonly secretSource?: SecretSourceKind;
  /** Cluster DNS suffix. @default 'cluster.local' */
  readonly clusterDomain?: string;
  /**
   * Chown each persistent volume's mount point to the pod's user in a root init container, for
   * storage that ignores fsGroup. @default true
   */
  readonly chownVolumes?: boolean;
}

/** A uid Kubernetes can prove is not root when the image names its user. */
const DEFAULT_RUN_AS = { user: 1000, group: 1000 };

/**
 * Renders ServiceSpecs into a namespace with StatefulSets (+ headless Service, PVC templates),
 * Deployments (+ Service), Jobs, ConfigMaps and Secrets; every pod runs as non-root with probes,
 * requests and limits.
 */
export class KubernetesPlatform extends Construct implements Platform {
  readonly name = 'kubernetes' as const;
  readonly namespace: NamespaceV1;
  private readonly props: KubernetesPlatformProps;
  private readonly secrets = new Map<string, SecretV1>();
  private readonly rendered = new Map<string, ITerraformDependable>();
  private readonly kinds = new Map<string, ServiceKind>();
  private readonly imageRefs = new Map<string, ImageRef>();
  /** The sensitive variables of secretSource 'variables', for the deploy tooling that supplies them. */
  readonly secretVariables: SecretVariable[] = [];

  constructor(scope: Construct, id: string, props: KubernetesPlatformProps) {
    super(scope, id);
    this.props = props;
    this.namespace = new NamespaceV1(this, 'namespace', {
      metadata: { name: props.namespace, labels: { 'app.kubernetes.io/part-of': 'rtdatastream' } },
    });
  }

  get serviceNames(): readonly string[] {
    return [...this.kinds.keys()];
  }

  /** Every image a pod runs, once each, for the deploy tooling that builds and loads them. */
  get images(): readonly ImageRef[] {
    return [...this.imageRefs.values()];
  }

  private get ns(): string {
    return this.namespace.metadata.name;
  }

  replicasFor(kind: ServiceKind, requested: number): number {
    return kind === 'job' ? 1 : requested;
  }

  peerHost(service: string, ordinal: number): string {
    return `${service}-${ordinal}.${service}-headless.${this.props.namespace}.svc.${this.props.clusterDomain ?? 'cluster.local'}`;
  }

  secret(name: string, values: Readonly<Record<string, SecretValue>>): SecretHandle {
    if (this.secrets.has(name)) throw new Error(`secret '${name}' is defined twice`);
    const data = secretValueTokens(this, name, values, this.props.secretSource ?? 'generate');
    if (this.props.secretSource === 'variables') this.secretVariables.push(...secretVariables(name, values));
    this.secrets.set(name, new SecretV1(this, `secret-${name}`, {
      metadata: { name, namespace: this.ns, labels: { 'app.kubernetes.io/part-of': 'rtdatastream' } },
      data,
    }));
    return { name, ref: (key: string) => {
      if (!(key in values)) throw new Error(`secret '${name}' has no key '${key}'`);
      return { secret: name, key };
    } };
  }

  add(spec: ServiceSpec): void {
    checkSpec(spec, new Set(this.kinds.keys()), this.kinds);
    this.imageRefs.set(spec.image.name, spec.image);
    const labels = {
      'app.kubernetes.io/name': spec.name,
      'app.kubernetes.io/component': spec.component,
      'app.kubernetes.io/part-of': 'rtdatastream',
    };
    const selector = { 'app.kubernetes.io/name': spec.name };
    const dependsOn: ITerraformDependable[] = [
      ...(spec.dependsOn ?? []).map((d) => this.rendered.get(d.service) as ITerraformDependable),
      ...Object.values(spec.secretEnv ?? {}).map((ref) => {
        const secret = this.secrets.get(ref.secret);
        if (!secret) throw new Error(`service '${spec.name}': refers to unknown secret '${ref.secret}'`);
        return secret;
      }),
    ];
    const configMaps = (spec.volumes ?? []).flatMap((v) => v.kind === 'config'
      ? [new ConfigMapV1(this, `${spec.name}-${v.name}-config`, {
          metadata: { name: `${spec.name}-${v.name}`, namespace: this.ns, labels },
          data: Object.fromEntries(Object.entries(v.files).map(([f, c]) => [f, lit(c)])),
        })]
      : []);
    dependsOn.push(...configMaps);
    const podSpec = this.podSpec(spec);
    const replicas = String(this.replicasFor(spec.kind, spec.replicas ?? 1));
    const servicePorts = (spec.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort, targetPort: String(p.containerPort) }));
    const metadata = { name: spec.name, namespace: this.ns, labels };

    let workload: ITerraformDependable;
    if (spec.kind === 'stateful') {
      // Peers find each other through per-pod DNS names, which only a headless Service gives.
      new ServiceV1(this, `${spec.name}-headless-service`, {
        metadata: { ...metadata, name: `${spec.name}-headless` },
        spec: { clusterIp: 'None', publishNotReadyAddresses: true, selector, port: servicePorts },
      });
      workload = new StatefulSetV1(this, `${spec.name}-statefulset`, {
        metadata,
        spec: {
          serviceName: `${spec.name}-headless`,
          replicas,
          podManagementPolicy: spec.parallelStart ? 'Parallel' : 'OrderedReady',
          selector: { matchLabels: selector },
          template: { metadata: { labels }, spec: podSpec },
          volumeClaimTemplate: (spec.volumes ?? []).flatMap((v) => v.kind === 'persistent'
            ? [{
                metadata: { name: v.name },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  storageClassName: this.props.storageClass || undefined,
                  resources: { requests: { storage: `${v.sizeGiB}Gi` } },
                },
              }]
            : []),
        },
        waitForRollout: true,
        dependsOn,
      });
    } else if (spec.kind === 'stateless') {
      if ((spec.volumes ?? []).some((v) => v.kind === 'persistent'))
        throw new Error(`service '${spec.name}': a stateless service cannot have a persistent volume; make it stateful`);
      workload = new DeploymentV1(this, `${spec.name}-deployment`, {
        metadata,
        spec: {
          replicas,
          selector: { matchLabels: selector },
          template: { metadata: { labels }, spec: podSpec as unknown as DeploymentV1SpecTemplateSpec },
        },
        waitForRollout: true,
        dependsOn,
      });
    } else {
      workload = new JobV1(this, `${spec.name}-job`, {
        metadata,
        spec: {
          backoffLimit: 6,
          template: { metadata: { labels }, spec: { ...podSpec, restartPolicy: 'OnFailure' } as unknown as JobV1SpecTemplateSpec },
        },
        waitForCompletion: true,
        timeouts: { create: '15m', update: '15m' },
        dependsOn,
      });
    }
    if (spec.kind !== 'job' && servicePorts.length) {
      new ServiceV1(this, `${spec.name}-service`, {
        metadata,
        spec: { type: 'ClusterIP', selector, port: servicePorts },
      });
    }
    this.rendered.set(spec.name, workload);
    this.kinds.set(spec.name, spec.kind);
  }

  private podSpec(spec: ServiceSpec): StatefulSetV1SpecTemplateSpec {
    const runAs = spec.runAs ?? DEFAULT_RUN_AS;
    if (runAs.user === 0) throw new Error(`service '${spec.name}': runAs.user must not be 0 (pods run as non-root)`);
    const env: StatefulSetV1SpecTemplateSpecContainerEnv[] = [];
    if (spec.selfHostEnv) {
      env.push({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
      // $(POD_NAME) is expanded by the kubelet from the variable defined just above.
      env.push({ name: spec.selfHostEnv, value: `$(POD_NAME).${spec.name}-headless.${this.props.namespace}.svc.${this.props.clusterDomain ?? 'cluster.local'}` });
    }
    for (const [name, value] of Object.entries(spec.env ?? {})) env.push({ name, value: lit(value) });
    for (const [name, ref] of Object.entries(spec.secretEnv ?? {}))
      env.push({ name, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } } });

    const volumeMounts = (spec.volumes ?? []).map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: v.kind === 'config' }));
    const volumes = (spec.volumes ?? []).flatMap((v) => v.kind === 'config'
      ? [{ name: v.name, configMap: { name: `${spec.name}-${v.name}`, defaultMode: v.executable ? '0755' : '0644' } }]
      : []);
    const { cpu, memoryMiB, requests } = spec.resources;
    const probes = spec.health ? this.probes(spec.health) : {};
    const imagePullPolicy = spec.image.build ? 'IfNotPresent' : undefined;
    const persistent = (spec.volumes ?? []).filter((v) => v.kind === 'persistent');
    return {
      securityContext: {
        runAsNonRoot: true,
        runAsUser: String(runAs.user),
        runAsGroup: String(runAs.group),
        fsGroup: String(runAs.group),
        seccompProfile: { type: 'RuntimeDefault' },
      },
      enableServiceLinks: false,
      // Storage that ignores fsGroup (hostPath) hands out root-owned 0750 directories the service's user cannot write.
      initContainer: this.props.chownVolumes !== false && persistent.length > 0
        ? [{
            name: 'volume-permissions',
            image: spec.image.name,
            imagePullPolicy,
            command: ['chown', `${runAs.user}:${runAs.group}`, ...persistent.map((v) => v.mountPath)],
            volumeMount: persistent.map((v) => ({ name: v.name, mountPath: v.mountPath })),
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
            // Root for the one chown; nothing else: no other capability, no escalation.
            securityContext: {
              runAsUser: '0', runAsGroup: '0', runAsNonRoot: false, allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'], add: ['CHOWN'] },
            },
          }]
        : undefined,
      container: [{
        name: spec.name,
        image: spec.image.name,
        imagePullPolicy,
        command: spec.command ? spec.command.map(lit) : undefined,
        args: spec.args ? spec.args.map(lit) : undefined,
        env,
        port: (spec.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort })),
        volumeMount: volumeMounts,
        resources: {
          // Requests are what the service needs at rest, so the pipeline fits a small node; limits cap its peaks.
          requests: { cpu: millicores(requests.cpu), memory: `${requests.memoryMiB}Mi` },
          limits: { cpu: millicores(cpu), memory: `${memoryMiB}Mi` },
        },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        ...probes,
      }],
      volume: volumes,
    };
  }

  private probes(health: HealthCheck): {
    readinessProbe: StatefulSetV1SpecTemplateSpecContainerReadinessProbe;
    livenessProbe: StatefulSetV1SpecTemplateSpecContainerReadinessProbe;
    startupProbe: StatefulSetV1SpecTemplateSpecContainerReadinessProbe;
  } {
    const action = probeAction(health.probe);
    const alive = health.liveness ? probeAction(health.liveness) : action;
    const period = health.intervalSeconds ?? 10;
    const timing = { periodSeconds: period, timeoutSeconds: health.timeoutSeconds ?? 5 };
    return {
      // The start-up probe absorbs slow JVM starts so liveness can stay strict afterwards. It asks
      // whether the process is alive, and gives it at least STARTUP_SECONDS: on a busy node a JVM
      // can take minutes to start, and a start-up probe that gives up restarts it into a loop.
      startupProbe: { ...alive, ...timing, failureThreshold: Math.ceil(Math.max(health.startPeriodSeconds ?? 30, STARTUP_SECONDS) / period) + (health.retries ?? 6) },
      readinessProbe: { ...action, ...timing, failureThreshold: 3 },
      livenessProbe: { ...alive, ...timing, failureThreshold: health.retries ?? 6 },
    };
  }
}

/**
 * The least time a container gets to start before its liveness probe may restart it. Docker never
 * restarts an unhealthy container, so there the spec's start period stands alone.
 */
export const STARTUP_SECONDS = 600;

function probeAction(p: HealthProbe) {
  return 'command' in p
    ? { exec: { command: p.command.map(lit) } }
    : 'httpGet' in p
      ? { httpGet: { path: p.httpGet.path, port: String(p.httpGet.port) } }
      : { tcpSocket: [{ port: String(p.tcpPort) }] };
}

/** Cores as Kubernetes millicores, never below 1m. */
function millicores(cores: number): string {
  return `${Math.max(Math.round(cores * 1000), 1)}m`;
}

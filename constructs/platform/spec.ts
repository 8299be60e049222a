/**
 * The seam between the pipeline's components and the deploy targets: a component describes its
 * services once as ServiceSpecs; a Platform turns them into Docker or Kubernetes resources.
 * Nothing in this file knows a provider.
 */
import { SecretKind } from '../../config/facts';

/** Where an image comes from: pulled by name, or built from a Dockerfile in the repository. */
export interface ImageRef {
  /** Full reference with tag, e.g. `postgres:17.6` or `rtdatastream/workloads:0.1.0`. */
  readonly name: string;
  /** Build it from the repository instead of pulling it. @default pulled */
  readonly build?: {
    /** Build context, relative to the repository root. */
    readonly context: string;
    /** Dockerfile, relative to the repository root. @default `<context>/Dockerfile` */
    readonly dockerfile?: string;
    /** Files (globs relative to the repository root) whose change rebuilds the image. @default `<context>/**` */
    readonly watch?: readonly string[];
    /** Build arguments (`--build-arg NAME=value`). @default none */
    readonly args?: Readonly<Record<string, string>>;
    /** The image the Dockerfile starts FROM, when it is built here too: it is built first. @default none */
    readonly base?: ImageRef;
  };
}

/** A reference to one key of a platform secret; never holds the value itself. */
export interface SecretRef {
  readonly secret: string;
  readonly key: string;
}

/** How a secret value is produced. */
export type SecretValue =
  /** Generated, of one of the kinds in config/facts/secrets.ts; `length` for a password. */
  | { readonly generate: SecretKind; readonly length?: number }
  /** Built from other keys of the same secret, e.g. a connection URL that embeds a password. */
  | { readonly derive: (valueOf: (key: string) => string) => string };

/** A named set of secret values living on the platform (Docker: container env; Kubernetes: a Secret). */
export interface SecretHandle {
  readonly name: string;
  ref(key: string): SecretRef;
}

export interface PortSpec {
  /** IANA-style port name (Kubernetes port name, ≤15 chars). */
  readonly name: string;
  readonly containerPort: number;
  /** Publish on the host at this port (Docker only); 0 or absent = not published. */
  readonly hostPort?: number;
}

export type VolumeSpec =
  /** Survives container replacement: a named volume on Docker, a PVC template on Kubernetes. */
  | { readonly kind: 'persistent'; readonly name: string; readonly mountPath: string; readonly sizeGiB: number }
  /** Files delivered from the repository/config: uploads on Docker, a ConfigMap on Kubernetes. */
  | {
      readonly kind: 'config';
      readonly name: string;
      readonly mountPath: string;
      /** File name (no slashes) → content. */
      readonly files: Readonly<Record<string, string>>;
      /** Mark the files executable. @default false */
      readonly executable?: boolean;
    };

export type HealthProbe =
  /** Exit code 0 of this command (run with the image's shell when it is one string). */
  | { readonly command: readonly string[] }
  /** HTTP 2xx/3xx on this path and port. `shellCheck` replaces it on Docker where the image has no curl. */
  | { readonly httpGet: { readonly path: string; readonly port: number }; readonly shellCheck?: string }
  /** The port accepts TCP connections. */
  | { readonly tcpPort: number };

export interface HealthCheck {
  /** The service works: ready for clients (Docker's health, Kubernetes' start-up and readiness). */
  readonly probe: HealthProbe;
  /**
   * The process still lives, where that differs from working (an ensemble member waiting for
   * its quorum is alive but not ready): what Kubernetes restarts a container on. @default probe
   */
  readonly liveness?: HealthProbe;
  /** Grace period before failures count. @default 30 */
  readonly startPeriodSeconds?: number;
  /** @default 10 */
  readonly intervalSeconds?: number;
  /** @default 5 */
  readonly timeoutSeconds?: number;
  /** Consecutive failures before unhealthy. @default 6 */
  readonly retries?: number;
}

export interface ResourceSpec {
  /** CPU cores it may use (limit). */
  readonly cpu: number;
  /** Memory limit, MiB. */
  readonly memoryMiB: number;
  /** What it uses at rest, each at most its limit: Kubernetes places pods by these; Docker ignores them. */
  readonly requests: { readonly cpu: number; readonly memoryMiB: number };
}

export interface Dependency {
  readonly service: string;
  /** 'healthy' for a long-running service, 'completed' for a one-shot job. */
  readonly condition: 'healthy' | 'completed';
}

export type ServiceKind = 'stateful' | 'stateless' | 'job';

/** One service of the pipeline, platform-neutral. */
export interface ServiceSpec {
  /** DNS name other services reach it by; also the Kubernetes Service name. */
  readonly name: string;
  /** The component it belongs to (label `app.kubernetes.io/component`). */
  readonly component: string;
  /** 'stateful' (stable identity + storage), 'stateless', or 'job' (one-shot init step). */
  readonly kind: ServiceKind;
  readonly image: ImageRef;
  /** Replaces the image entrypoint. @default the image's */
  readonly command?: readonly string[];
  /** @default the image's */
  readonly args?: readonly string[];
  /** Plain environment. @default none */
  readonly env?: Readonly<Record<string, string>>;
  /** Environment read from platform secrets. @default none */
  readonly secretEnv?: Readonly<Record<string, SecretRef>>;
  /**
   * Set this variable to the replica's stable peer host name (e.g. `kafka-1.kafka-headless...`
   * on Kubernetes, the service name on Docker). @default not set
   */
  readonly selfHostEnv?: string;
  /** @default none */
  readonly ports?: readonly PortSpec[];
  /** @default none */
  readonly volumes?: readonly VolumeSpec[];
  /** Required for long-running services; start-up of dependents waits for it. @default none (jobs) */
  readonly health?: HealthCheck;
  readonly resources: ResourceSpec;
  /** Requested replicas; Docker runs one replica of a stateful service. @default 1 */
  readonly replicas?: number;
  /** Start all replicas at once (ensembles that must see each other before any is ready). @default false */
  readonly parallelStart?: boolean;
  /** Non-root user and group the container runs as on Kubernetes. @default the image's user, must be non-root */
  readonly runAs?: { readonly user: number; readonly group: number };
  /** Services that must be healthy or completed first. @default none */
  readonly dependsOn?: readonly Dependency[];
}

/** A deploy target that renders ServiceSpecs into resources. */
export interface Platform {
  readonly name: 'docker' | 'kubernetes';
  /** How many replicas a spec of this kind actually gets on this platform. */
  replicasFor(kind: ServiceKind, requested: number): number;
  /** Host name replica `ordinal` of a stateful service is reached at by its peers. */
  peerHost(service: string, ordinal: number): string;
  /** Creates (or, with secretSource 'variables', declares) a secret with these keys. */
  secret(name: string, values: Readonly<Record<string, SecretValue>>): SecretHandle;
  /** Renders one service; its dependencies must have been added before it. */
  add(spec: ServiceSpec): void;
  /** Names of every service added so far, in order. */
  readonly serviceNames: readonly string[];
}

/** Checks what both renderers rely on, with messages naming the service and field. */
export function checkSpec(spec: ServiceSpec, known: ReadonlySet<string>, kinds: ReadonlyMap<string, ServiceKind>): void {
  const where = `service '${spec.name}'`;
  if (!/^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$/.test(spec.name))
    throw new Error(`${where}: name must be a lowercase DNS label of at most 42 characters`);
  if (known.has(spec.name)) throw new Error(`${where}: added twice`);
  if (spec.kind !== 'job' && !spec.health) throw new Error(`${where}: a long-running service needs a health check`);
  if ((spec.replicas ?? 1) < 1) throw new Error(`${where}: replicas must be >= 1 (got ${spec.replicas})`);
  for (const dep of spec.dependsOn ?? []) {
    const kind = kinds.get(dep.service);
    if (!kind) throw new Error(`${where}: depends on '${dep.service}', which has not been added before it`);
    if ((dep.condition === 'completed') !== (kind === 'job'))
      throw new Error(`${where}: condition '${dep.condition}' does not fit '${dep.service}' (a ${kind} service)`);
  }
  for (const v of spec.volumes ?? []) {
    if (v.kind === 'config') {
      for (const file of Object.keys(v.files)) {
        if (file.includes('/') || file === '') throw new Error(`${where}: config volume '${v.name}' file name '${file}' must not contain '/'`);
      }
    }
  }
  for (const p of spec.ports ?? []) {
    if (p.name.length > 15) throw new Error(`${where}: port name '${p.name}' is longer than 15 characters`);
  }
}

/**
 * Terraform would evaluate `${...}` and `%{...}` inside plain strings (shell scripts, DAG files);
 * doubling the marker keeps them literal. Tokens (references to other resources) pass unchanged.
 */
export function terraformLiteral(value: string): string {
  if (/\$\{TfToken\[/.test(value)) return value;
  return value.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

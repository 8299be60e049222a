import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { Container, ContainerHealthcheck } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { Network } from '@cdktf/provider-docker/lib/network';
import { Volume } from '@cdktf/provider-docker/lib/volume';
import { SecretSourceKind, SecretVariable, secretValueTokens, secretVariables } from './secrets';
import { checkSpec, HealthCheck, ImageRef, Platform, SecretHandle, SecretValue, ServiceKind, ServiceSpec, terraformLiteral as lit } from './spec';

export interface DockerPlatformProps {
  /** Name of the one network every container joins. */
  readonly network: string;
  /** Address published ports bind to. @default '127.0.0.1' */
  readonly hostBind?: string;
  /** Prefix of container and volume names. @default 'rtds' */
  readonly prefix?: string;
  /** @default 'generate' */
  readonly secretSource?: SecretSourceKind;
  /**
   * Repository root as Terraform sees it from the stack's working directory (build contexts).
   * @default '${path.module}/../../..' (cdktf.out/stacks/<stack> → repository)
   */
  readonly repoRoot?: string;
  /** How long `terraform apply` waits for a container to become healthy. @default 300 */
  readonly healthWaitSeconds?: number;
}

/** Renders ServiceSpecs into docker_image, docker_container, docker_volume and one docker_network. */
export class DockerPlatform extends Construct implements Platform {
  readonly name = 'docker' as const;
  readonly network: Network;
  private readonly props: Required<DockerPlatformProps>;
  private readonly secretTokens = new Map<string, Record<string, string>>();
  private readonly images: DockerImageBuilds;
  private readonly rendered = new Map<string, ITerraformDependable[]>();
  private readonly kinds = new Map<string, ServiceKind>();
  /** The sensitive variables of secretSource 'variables', for the deploy tooling that supplies them. */
  readonly secretVariables: SecretVariable[] = [];

  constructor(scope: Construct, id: string, props: DockerPlatformProps) {
    super(scope, id);
    this.props = {
      hostBind: '127.0.0.1',
      prefix: 'rtds',
      secretSource: 'generate',
      repoRoot: '${path.module}/../../..',
      healthWaitSeconds: 300,
      ...props,
    };
    this.network = new Network(this, 'network', { name: props.network, driver: 'bridge' });
    this.images = new DockerImageBuilds(this, this.props.repoRoot);
  }

  get serviceNames(): readonly string[] {
    return [...this.kinds.keys()];
  }

  replicasFor(kind: ServiceKind, requested: number): number {
    // One engine: a stateful ensemble would share the host's disk and ports, so it runs one member.
    return kind === 'stateful' || kind === 'job' ? 1 : requested;
  }

  peerHost(service: string, _ordinal: number): string {
    return service;
  }

  secret(name: string, values: Readonly<Record<string, SecretValue>>): SecretHandle {
    if (this.secretTokens.has(name)) throw new Error(`secret '${name}' is defined twice`);
    this.secretTokens.set(name, secretValueTokens(this, name, values, this.props.secretSource));
    if (this.props.secretSource === 'variables') this.secretVariables.push(...secretVariables(name, values));
    return { name, ref: (key: string) => {
      if (!(key in values)) throw new Error(`secret '${name}' has no key '${key}'`);
      return { secret: name, key };
    } };
  }

  add(spec: ServiceSpec): void {
    checkSpec(spec, new Set(this.kinds.keys()), this.kinds);
    const image = this.images.imageFor(spec.image);
    const env = Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${lit(v)}`);
    for (const [k, ref] of Object.entries(spec.secretEnv ?? {})) {
      const token = this.secretTokens.get(ref.secret)?.[ref.key];
      if (token === undefined) throw new Error(`service '${spec.name}': env ${k} refers to unknown secret ${ref.secret}.${ref.key}`);
      env.push(`${k}=${token}`);
    }
    if (spec.selfHostEnv) env.push(`${spec.selfHostEnv}=${spec.name}`);

    const volumes = (spec.volumes ?? []).flatMap((v) =>
      v.kind === 'persistent'
        ? [{ containerPath: v.mountPath, volumeName: new Volume(this, `${spec.name}-${v.name}-volume`, { name: `${this.props.prefix}-${spec.name}-${v.name}` }).name }]
        : []);
    const upload = (spec.volumes ?? []).flatMap((v) =>
      v.kind === 'config'
        ? Object.entries(v.files).map(([file, content]) => ({ file: `${v.mountPath}/${file}`, content: lit(content), executable: v.executable ?? false }))
        : []);
    const dependsOn = (spec.dependsOn ?? []).flatMap((d) => this.rendered.get(d.service) ?? []);
    const replicas = this.replicasFor(spec.kind, spec.replicas ?? 1);
    const isJob = spec.kind === 'job';

    const containers: Container[] = [];
    for (let i = 0; i < replicas; i++) {
      const suffix = replicas > 1 ? `-${i + 1}` : '';
      containers.push(new Container(this, `${spec.name}${suffix}`, {
        name: `${this.props.prefix}-${spec.name}${suffix}`,
        image: image.imageId,
        hostname: `${spec.name}${suffix}`,
        entrypoint: spec.command ? spec.command.map(lit) : undefined,
        command: spec.args ? spec.args.map(lit) : undefined,
        env: env.length ? env : undefined,
        networksAdvanced: [{ name: this.network.name, aliases: [spec.name] }],
        // Only ports with a host port are published: a port block without one would make Docker
        // publish it on every interface at a random port. Peers reach the rest over the network.
        // Sorted as Docker reports them (else every plan shows a change); one host port, so only replica 1 publishes.
        ports: i === 0 ? publishedPorts(spec, this.props.hostBind) : undefined,
        volumes: volumes.length ? volumes : undefined,
        upload: upload.length ? upload : undefined,
        healthcheck: spec.health ? dockerHealthcheck(spec.health) : undefined,
        memory: spec.resources.memoryMiB,
        // Equal to memory: no swap, so a JVM over its limit fails fast instead of crawling.
        memorySwap: spec.resources.memoryMiB,
        // Docker reports whole cores as "1.0"; the same spelling keeps plans empty.
        cpus: Number.isInteger(spec.resources.cpu) ? spec.resources.cpu.toFixed(1) : String(spec.resources.cpu),
        restart: isJob ? 'no' : 'unless-stopped',
        // Jobs run to completion inside `apply` (attach); services are waited for until healthy.
        ...(isJob
          ? {
              attach: true, logs: true, mustRun: false, wait: false,
              // The provider records a failed job's exit code without failing; this makes `apply` stop there.
              lifecycle: { postcondition: [{ condition: '${self.exit_code == 0}', errorMessage: `one-shot job ${spec.name} failed; see its logs: docker logs ${this.props.prefix}-${spec.name}` }] },
            }
          : { wait: true, waitTimeout: this.props.healthWaitSeconds, mustRun: true }),
        labels: [
          { label: 'app.kubernetes.io/part-of', value: 'rtdatastream' },
          { label: 'app.kubernetes.io/component', value: spec.component },
          { label: 'app.kubernetes.io/name', value: spec.name },
        ],
        dependsOn,
      }));
    }
    this.rendered.set(spec.name, containers);
    this.kinds.set(spec.name, spec.kind);
  }
}

/**
 * docker_image resources, one per image name, created in `scope` (their logical ids do not
 * change with who asks): pulled by name, or built from the repository, a built base first. The
 * Docker platform renders its images with it, and the images stack the Kubernetes deploy loads.
 */
export class DockerImageBuilds {
  private readonly images = new Map<string, Image>();

  /** @param repoRoot the repository as Terraform sees it from the stack's working directory */
  constructor(private readonly scope: Construct, private readonly repoRoot: string) {}

  imageFor(ref: ImageRef): Image {
    const existing = this.images.get(ref.name);
    if (existing) return existing;
    const id = `image-${ref.name.replace(/[^a-zA-Z0-9]+/g, '-')}`;
    const build = ref.build;
    // A base built here must exist before the build that starts FROM it.
    const base = build?.base?.build ? this.imageFor(build.base) : undefined;
    const image = new Image(this.scope, id, {
      name: ref.name,
      keepLocally: true,
      buildAttribute: build
        ? {
            context: build.context === '.' ? this.repoRoot : `${this.repoRoot}/${build.context}`,
            dockerfile: build.dockerfile ? relativeTo(build.context, build.dockerfile) : 'Dockerfile',
            buildArgs: build.args && Object.keys(build.args).length ? { ...build.args } : undefined,
          }
        : undefined,
      // Hash of the watched files, computed by Terraform at plan time: edited sources rebuild the image.
      triggers: build
        ? {
            source_sha1: this.sourceHash(build.watch ?? [`${build.context}/**`]),
            // A rebuilt base changes its id, which rebuilds this image on top of it.
            ...(base ? { base_image_id: base.imageId } : {}),
          }
        : undefined,
      dependsOn: base ? [base] : undefined,
    });
    this.images.set(ref.name, image);
    return image;
  }

  private sourceHash(globs: readonly string[]): string {
    const root = this.repoRoot;
    const sets = globs.map((g) => `fileset("${root}", "${g.replace(/^\.\//, '')}")`).join(', ');
    return `\${sha1(join("", [for f in sort(setunion(${sets})) : filesha1("${root}/\${f}")]))}`;
  }
}

/** Docker resolves `dockerfile` relative to the build context. */
function relativeTo(context: string, file: string): string {
  const prefix = context.replace(/\/$/, '') + '/';
  if (context === '.' || context === '') return file;
  if (!file.startsWith(prefix)) throw new Error(`dockerfile '${file}' must lie inside its build context '${context}'`);
  return file.slice(prefix.length);
}

function dockerHealthcheck(health: HealthCheck): ContainerHealthcheck {
  const p = health.probe;
  let test: string[];
  if ('command' in p) test = ['CMD', ...p.command.map(lit)];
  else if ('httpGet' in p)
    test = ['CMD-SHELL', p.shellCheck ? lit(p.shellCheck) : `curl -fsS -o /dev/null http://localhost:${p.httpGet.port}${p.httpGet.path}`];
  // bash's /dev/tcp needs no extra tool in the image.
  else test = ['CMD', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${p.tcpPort}`];
  return {
    test,
    interval: goDuration(health.intervalSeconds ?? 10),
    timeout: goDuration(health.timeoutSeconds ?? 5),
    retries: health.retries ?? 6,
    startPeriod: goDuration(health.startPeriodSeconds ?? 30),
  };
}

/** Seconds as Go prints a duration ("90" → "1m30s"): the provider reads it back that way. */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}

function publishedPorts(spec: ServiceSpec, hostBind: string) {
  const published = (spec.ports ?? [])
    .filter((p) => p.hostPort)
    .sort((a, b) => a.containerPort - b.containerPort)
    .map((p) => ({ internal: p.containerPort, external: p.hostPort, ip: hostBind }));
  return published.length ? published : undefined;
}

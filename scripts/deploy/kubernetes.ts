// The Kubernetes target of `npm run up` / `npm run down`: a cluster (the user's when one is
// configured, else the project's own, brought up), the images its pods run built and loaded,
// cdktf deploy of the Kubernetes stack with the mirrored provider, every workload waited for,
// and the commands a user types next. `down` destroys the stack, checks that nothing of the
// namespace is left and, with --cluster, stops the project's cluster and checks the host.
import * as fs from 'fs';
import * as path from 'path';
import { loadConfig } from '../../config';
import { clusterDown, clusterStatus, ensureCluster, programPath, statePaths } from '../cluster';
import { buildPodImages, IMAGES_STACK, loadPodImages, pullPodImages } from './cluster-images';
import {
  cdktf, deployHome, deploySecrets, forgetDeploySecrets, log, repoRoot, secondsSince, statePath, synth,
} from './engine';
import { Kube, userKubectl, waitNamespaceGone, waitReady, WorkloadState } from './kubectl';
import { buildLayers, checkLocalImages } from './local-images';
import { deployEnv, forgetSettings, ImageModeOption, loadSettings, saveSettings, setInConfigFile } from './settings';

/** The commands a user runs next, with the kubectl and kubeconfig of this cluster. */
export interface KubernetesAccess {
  /** Forwards Airflow's API server (UI and REST API) to 127.0.0.1:<airflow.hostPort>. */
  readonly airflowPortForward: string;
  /** Prints the generated admin password. */
  readonly airflowPassword: string;
  /** One port-forward per broker: broker i is advertised at localhost:<kafka.hostPort + i>. */
  readonly kafkaPortForward: string;
}

export interface KubernetesUpResult {
  readonly kube: Kube;
  readonly namespace: string;
  readonly workloads: WorkloadState[];
  readonly access: KubernetesAccess;
  /** Seconds each step took: cluster, layers, synth, build, load, deploy, ready, total. */
  readonly seconds: Record<string, number>;
}

/** The kubeconfig the user set explicitly (RTDS_KUBERNETES_CONFIG_PATH or the config file); its default means "none". */
function explicitKubeconfig(env: NodeJS.ProcessEnv): string | undefined {
  if (env.RTDS_KUBERNETES_CONFIG_PATH || setInConfigFile(env, ['kubernetes', 'configPath'])) {
    return loadConfig({ env, cwd: repoRoot }).kubernetes.configPath;
  }
  return undefined;
}

function ownKube(env: NodeJS.ProcessEnv): Kube {
  return { kubectl: programPath('kubectl', env), kubeconfig: statePaths(env).kubeconfig, context: '', owned: true };
}

/** Replaces a command's leading `kubectl` (as the stack's outputs spell it) by this cluster's. */
function withKubectl(kube: Kube, command: string): string {
  return command.replace(/(^|& )kubectl /g, (_m, lead: string) => `${lead}${userKubectl(kube)} `);
}

function readAccess(kube: Kube, outputsFile: string): KubernetesAccess {
  const outputs = (JSON.parse(fs.readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>).kubernetes ?? {};
  const need = (key: string) => {
    if (!outputs[key]) throw new Error(`${outputsFile} has no output '${key}'`);
    return withKubectl(kube, outputs[key]);
  };
  return { airflowPortForward: need('airflow_port_forward'), airflowPassword: need('airflow_admin_password'), kafkaPortForward: need('kafka_port_forward') };
}

function printAccess(access: KubernetesAccess, workloads: readonly WorkloadState[], airflowUrl: string, adminUser: string): void {
  const table = workloads.map((w) => `  ${w.name.padEnd(40)} ${w.detail}`).join('\n');
  process.stdout.write(`\nWorkloads:\n${table}\n\n` +
    `Airflow (UI and REST API): run this in another shell, then open ${airflowUrl} (user ${adminUser})\n  ${access.airflowPortForward}\n` +
    `Its password:\n  ${access.airflowPassword}\n` +
    `Kafka from this host (bootstrap localhost:<kafka.hostPort>; each broker is advertised at its own port):\n  ${access.kafkaPortForward}\n`);
}

export async function upKubernetes(toolchain: NodeJS.ProcessEnv, imageMode: ImageModeOption | undefined, timeoutMinutes: number): Promise<KubernetesUpResult> {
  const start = Date.now();
  const seconds: Record<string, number> = {};
  let t = Date.now();
  const access = await ensureCluster({ kubeconfig: explicitKubeconfig(toolchain), env: toolchain });
  seconds.cluster = secondsSince(t);
  log(`cluster ready in ${seconds.cluster} s (${access.owned ? "the project's own" : `yours, from ${access.kubeconfig}`})`);
  const env = { ...deployEnv(toolchain, imageMode), RTDS_KUBERNETES_CONFIG_PATH: access.kubeconfig };
  const config = loadConfig({ env, cwd: repoRoot });
  const kube: Kube = access.owned ? ownKube(env) : { kubectl: access.kubectl, kubeconfig: access.kubeconfig, context: config.kubernetes.configContext, owned: false };
  if (config.imageMode === 'local') seconds.layers = await buildLayers(config.kafka.mode);
  t = Date.now();
  synth(env, 'kubernetes');
  seconds.synth = secondsSince(t);
  if (config.imageMode === 'local') checkLocalImages(IMAGES_STACK);
  seconds.build = buildPodImages(env);
  if (access.owned) {
    pullPodImages();
    seconds.load = (await loadPodImages()).seconds;
  } else {
    log('the images are in this Docker engine only: your cluster must be able to pull them (push them to a registry it reads, or load them the way your cluster allows)');
  }
  saveSettings(env, 'kubernetes');
  const secrets = deploySecrets(env, 'kubernetes');
  const outputsFile = path.join(deployHome(env, 'kubernetes'), 'outputs.json');
  t = Date.now();
  cdktf('deploy', 'kubernetes', { ...env, ...secrets }, ['--outputs-file', outputsFile]);
  seconds.deploy = secondsSince(t);
  log(`cdktf deploy finished in ${seconds.deploy} s`);
  t = Date.now();
  const namespace = config.kubernetes.namespace;
  const workloads = await waitReady(kube, namespace, timeoutMinutes);
  seconds.ready = secondsSince(t);
  log(`every Deployment and StatefulSet ready, every Job complete, ${seconds.ready} s after the deploy`);
  const result = { kube, namespace, workloads, access: readAccess(kube, outputsFile), seconds: { ...seconds, total: secondsSince(start) } };
  printAccess(result.access, workloads, `http://127.0.0.1:${config.airflow.hostPort}`, config.airflow.adminUser);
  return result;
}

export interface KubernetesDownResult {
  /** What of the namespace was left (empty, or down throws). */
  readonly left: string[];
  /** With --cluster: what of the cluster is left on the host (empty, or down throws). */
  readonly clusterLeft?: string[];
  readonly seconds: Record<string, number>;
}

/** `cdktf destroy kubernetes` and a check that the namespace and its volumes are gone; `cluster` also stops the project's cluster. */
export async function downKubernetes(toolchain: NodeJS.ProcessEnv, options: { cluster: boolean }): Promise<KubernetesDownResult> {
  const settings = loadSettings(toolchain, 'kubernetes');
  const env: NodeJS.ProcessEnv = { ...toolchain, ...settings };
  env.RTDS_SECRET_SOURCE ??= 'variables';
  const ownConfig = statePaths(env).kubeconfig;
  const deployedTo = settings.RTDS_KUBERNETES_CONFIG_PATH;
  const own = deployedTo === undefined || deployedTo === ownConfig;
  if (options.cluster && !own) throw new Error(`--cluster stops only the project's own cluster; this deploy went to ${deployedTo}`);
  const seconds: Record<string, number> = {};
  let left: string[] = [];
  let t = Date.now();
  if (deployedTo && fs.existsSync(statePath('kubernetes'))) {
    if (own && !(await clusterStatus(env)).running) {
      // Its objects lived in the cluster's etcd, which `cluster:down` removed with them.
      log("the project's cluster is not running, so nothing of the deploy is left in it: forgetting the Terraform state");
      fs.rmSync(statePath('kubernetes'), { force: true });
    } else {
      const kube: Kube = own ? ownKube(env) : await (async () => {
        const access = await ensureCluster({ kubeconfig: deployedTo, env });
        return { kubectl: access.kubectl, kubeconfig: deployedTo, context: loadConfig({ env, cwd: repoRoot }).kubernetes.configContext, owned: false };
      })();
      synth(env, 'kubernetes');
      cdktf('destroy', 'kubernetes', { ...env, ...deploySecrets(env, 'kubernetes') });
      const namespace = loadConfig({ env, cwd: repoRoot }).kubernetes.namespace;
      left = await waitNamespaceGone(kube, namespace);
      if (left.length) throw new Error(`destroy left these behind: ${left.join(', ')}`);
      log(`checked: namespace ${namespace} and its volumes are gone`);
    }
  } else {
    log('nothing is deployed on Kubernetes from this checkout');
  }
  seconds.destroy = secondsSince(t);
  forgetDeploySecrets(env, 'kubernetes');
  forgetSettings(env, 'kubernetes');
  if (!options.cluster) return { left, seconds };
  t = Date.now();
  const down = await clusterDown({}, env);
  seconds.cluster = secondsSince(t);
  if (down.left.length) throw new Error(`the cluster is down but the host is NOT clean; left:\n  ${down.left.join('\n  ')}`);
  log('cluster stopped; checked: no process, mount, network namespace, link, iptables chain, cgroup or sysctl change is left');
  return { left, clusterLeft: down.left, seconds };
}

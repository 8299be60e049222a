// The k8s tier: `npm run up -- --target kubernetes` on the project's own cluster, then what a user
// relies on, all against one cluster and one deploy: Kafka inside and through port-forwards, the
// Airflow API through a port-forward (login with the generated password, the scheduled run and a
// triggered one succeed, task logs readable), the brokers' quorum and the topics' replication as
// Kafka's own tools report them, exactly the landed users in Cassandra, a Kafka broker (in KRaft
// mode the active controller) and a Cassandra node killed mid-stream without losing a user, the
// UI in a browser; then `npm run down -- --target kubernetes --cluster` and nothing left on the host.
//
// Parameters (environment):
//   RTDS_K8S_PROFILE     replica profile, test/k8s/profiles/<name>.json: 'small' (default; 3 brokers
//                        with replication 3 and min ISR 2, 1 Cassandra, 1 ZooKeeper in ZooKeeper
//                        mode) or 'default' (the config's 3/3/3)
//   RTDS_K8S_KAFKA_MODE  'kraft' (default: the mode a Kubernetes user starts with; the Docker deploy
//                        tier runs both) or 'zookeeper' for a manual run
//   RTDS_K8S_USERS       users per ingest run of the stream checks (default 5000)
import { execFileSync, spawnSync } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { KAFKA_MODES, KafkaMode, loadConfig, PipelineConfig } from '../../config';
import { PORTS, USERS_TOPIC } from '../../config/facts';
import { clusterStatus } from '../../scripts/cluster';
import { down } from '../../scripts/deploy/down';
import { Kube, kubectl } from '../../scripts/deploy/kubectl';
import { KubernetesUpResult } from '../../scripts/deploy/kubernetes';
import { up } from '../../scripts/deploy/up';
import { AirflowApi } from './airflow';
import { withPage } from './browser';
import { Forward, freePortRange, portForward } from './forward';
import { hostSnapshot } from './host';
import { BrokerTools } from './kafka';
import { cassandraIds, landedIds, missing, secretValue } from './stores';

const MINUTE = 60_000;
const repoRoot = path.resolve(__dirname, '../..');
const PROFILE = process.env.RTDS_K8S_PROFILE ?? 'small';
const USERS = Number(process.env.RTDS_K8S_USERS ?? 5000);
const DAG = 'user_pipeline';
const MODE = (process.env.RTDS_K8S_KAFKA_MODE ?? 'kraft') as KafkaMode;
if (!KAFKA_MODES.includes(MODE)) throw new Error(`RTDS_K8S_KAFKA_MODE: expected one of ${KAFKA_MODES.join(', ')}, got ${JSON.stringify(MODE)}`);

/** Seconds of each step, printed at the end (cold and warm figures come from here). */
const times: Array<[string, number]> = [];
async function timed<T>(what: string, work: () => Promise<T> | T): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    times.push([what, Math.round((Date.now() - start) / 100) / 10]);
  }
}

let before: Record<string, string[]>;
let deployed: KubernetesUpResult;
let kube: Kube;
let ns: string;
let config: PipelineConfig;
let tools: BrokerTools;
let downDone = false;

const stateful = (name: string) => Number(kubectl(kube, ['get', 'statefulset', '-n', ns, name, '-o', 'jsonpath={.spec.replicas}']));
const pipelinePassword = () => secretValue(kube, ns, 'cassandra', 'pipeline-password');

/** Polls until the landing table and Cassandra hold the same users; returns both. */
async function untilStoresAgree(timeoutMs: number): Promise<{ landed: string[]; stored: string[] }> {
  const deadline = Date.now() + timeoutMs;
  const password = pipelinePassword();
  let landed: string[] = [];
  let stored: string[] = [];
  for (;;) {
    landed = landedIds(kube, ns, config.postgres.landingDatabase);
    try {
      stored = cassandraIds(kube, ns, 'cassandra-0', config.cassandra.pipelineUser, password);
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (landed.length > 0 && landed.length === stored.length && missing(landed, stored).length === 0) return { landed, stored };
    if (Date.now() > deadline) return { landed, stored };
    await sleep(5000);
  }
}

function waitPodReady(pod: string, oldUid: string): void {
  for (let i = 0; i < 300; i++) {
    const r = spawnSync(kube.kubectl, ['--kubeconfig', kube.kubeconfig, 'get', 'pod', '-n', ns, pod, '-o', 'jsonpath={.metadata.uid}'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout && r.stdout !== oldUid) break;
    spawnSync('sleep', ['1']);
  }
  kubectl(kube, ['wait', '-n', ns, '--for=condition=Ready', `pod/${pod}`, '--timeout=600s']);
}

interface IngestRun { id: string; state: string; inserted: number; quarantined: number }

/** Posts a run of USERS users to ingest's control API; calls `midStream` once its first users have landed. */
async function ingestRun(midStream: () => Promise<void> | void): Promise<{ seed: string; run: IngestRun; seconds: number }> {
  const ingest = await portForward(kube, ns, 'svc/ingest', PORTS.ingest);
  try {
    const base = `http://127.0.0.1:${ingest.port}`;
    const seed = `k8s-tier-${randomUUID()}`;
    const started = Date.now();
    const res = await fetch(`${base}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ users: USERS, seed }) });
    expect(res.status).toBeLessThan(300);
    const { id } = (await res.json()) as { id: string };
    let killed = false;
    for (;;) {
      const run = (await (await fetch(`${base}/runs/${id}`)).json()) as IngestRun;
      if (!killed && run.inserted > 0) {
        await midStream();
        killed = true;
      }
      if (run.state !== 'running') {
        if (!killed) await midStream();
        return { seed, run, seconds: (Date.now() - started) / 1000 };
      }
      await sleep(200);
    }
  } finally {
    ingest.close();
  }
}

describe(`npm run up -- --target kubernetes on the project's cluster (profile '${PROFILE}', Kafka in ${MODE} mode)`, () => {
  beforeAll(async () => {
    if ((await clusterStatus()).components.some((c) => c.pid !== undefined)) {
      throw new Error('a cluster already runs from this state directory: `npm run down -- --target kubernetes --cluster` first (this tier proves that up -> down leaves the host as it was)');
    }
    // The project's own cluster, whatever the shell points at; the profile's replicas.
    delete process.env.KUBECONFIG;
    delete process.env.RTDS_KUBERNETES_CONFIG_PATH;
    process.env.RTDS_CONFIG = path.join(__dirname, 'profiles', `${PROFILE}.json`);
    if (!fs.existsSync(process.env.RTDS_CONFIG)) throw new Error(`RTDS_K8S_PROFILE '${PROFILE}': no ${process.env.RTDS_CONFIG}`);
    process.env.RTDS_KAFKA_MODE = MODE;
    const replicas = loadConfig({ cwd: repoRoot }).kafka.replicas;
    // Brokers are advertised at consecutive host ports; a Docker stack may hold 9092 meanwhile.
    process.env.RTDS_KAFKA_HOST_PORT = String(await freePortRange(39092, replicas));
    config = loadConfig({ cwd: repoRoot });
    before = hostSnapshot();
    deployed = await timed('npm run up -- --target kubernetes', () => up({ target: 'kubernetes', imageMode: 'local', timeoutMinutes: 20 }));
    for (const [step, s] of Object.entries(deployed.seconds)) times.push([`  up: ${step}`, s]);
    kube = deployed.kube;
    ns = deployed.namespace;
    tools = new BrokerTools(kube, ns, MODE, config.kafka.replicas);
    // A cold cache builds the cluster, Terraform, the providers and every image first.
  }, 150 * MINUTE);

  // A failed test must not leave the stack or the cluster running; the last test checks this path itself.
  afterAll(async () => {
    try {
      // Also when up itself failed: the cluster it started must not outlive the tier.
      if (!downDone && before) await down({ target: 'kubernetes', cluster: true });
    } finally {
      process.stderr.write(`[k8s test] profile ${PROFILE}, kafka.mode ${config?.kafka.mode}; seconds per step:\n${times.map(([s, t]) => `  ${s.padEnd(72)} ${t}`).join('\n')}\n`);
    }
  }, 10 * MINUTE);

  // The tier runs for minutes: say where it is.
  let testStart = 0;
  beforeEach(() => { testStart = Date.now(); });
  afterEach(() => { process.stderr.write(`[k8s test] ${expect.getState().currentTestName}: ${Math.round((Date.now() - testStart) / 1000)} s\n`); });

  describe('the cluster', () => {
    test('runs Kubernetes v1.34.4 on containerd 1.6 and every Deployment and StatefulSet of the stack is ready, every Job complete', () => {
      const node = JSON.parse(kubectl(kube, ['get', 'node', 'localhost', '-o', 'json'])) as {
        status: { conditions: Array<{ type: string; status: string }>; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } };
      };
      expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(node.status.nodeInfo.kubeletVersion).toBe('v1.34.4');
      expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/1\.6\./);
      expect(deployed.workloads.filter((w) => !w.ready)).toEqual([]);
      expect(deployed.workloads.map((w) => w.name)).toEqual(expect.arrayContaining([
        'deployment/airflow-api-server', 'deployment/ingest', 'deployment/relay', 'deployment/source', 'deployment/spark-master',
        'job/airflow-init', 'job/cassandra-auth', 'job/cassandra-migrate', 'job/kafka-topics', 'job/postgres-migrate', 'job/register-schema',
        'statefulset/airflow-scheduler', 'statefulset/cassandra', 'statefulset/kafka', 'statefulset/postgres', 'statefulset/users-stream',
      ]));
      const memory = spawnSync('bash', ['-c', 'free -m | awk \'/^Mem:/ {print $3}\''], { encoding: 'utf8' }).stdout.trim();
      process.stderr.write(`[k8s test] host memory in use with the stack deployed: ${memory} MiB\n`);
    });

    test('Docker containers still reach each other over a Docker network while the cluster runs', () => {
      const image = 'rtdatastream/debian:bookworm-slim';
      const name = `k8s-tier-${process.pid}`;
      const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      docker('network', 'create', name);
      try {
        // The server reads the whole request before it answers: closing with unread bytes sends a
        // reset, which can reach the client before it has read the answer.
        docker('run', '-d', '--name', `${name}-web`, '--network', name, image, 'perl', '-e',
          'use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 8080, Listen => 4, ReuseAddr => 1) or die; while (my $c = $s->accept) { while (my $l = <$c>) { last if $l =~ /^\\r?$/ } print $c "HTTP/1.0 200 OK\\r\\n\\r\\nhello\\n"; close $c }');
        const answer = docker('run', '--rm', '--network', name, image, 'bash', '-c',
          `for i in $(seq 50); do exec 3<>/dev/tcp/${name}-web/8080 && break; sleep 0.2; done; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3`);
        expect(answer).toContain('HTTP/1.0 200 OK');
      } finally {
        spawnSync('docker', ['rm', '-f', `${name}-web`], { stdio: 'ignore' });
        spawnSync('docker', ['network', 'rm', name], { stdio: 'ignore' });
      }
    }, 3 * MINUTE);
  });

  describe('Kafka', () => {
    const ordinals = () => Array.from({ length: config.kafka.replicas }, (_, i) => i);

    test(MODE === 'kraft'
      ? 'the brokers of the StatefulSet are also its controllers: no ZooKeeper, one quorum of every replica with the stack\'s cluster id, each pod\'s storage formatted with it'
      : 'the brokers of the StatefulSet all register with the ZooKeeper ensemble', () => {
      expect(stateful('kafka')).toBe(config.kafka.replicas);
      const zookeeper = kubectl(kube, ['get', 'statefulsets,services', '-n', ns, '-o', 'name']).split('\n').filter((n) => n.includes('zookeeper'));
      expect(zookeeper.length > 0).toBe(MODE === 'zookeeper');
      expect(tools.registered('kafka-0')).toEqual(ordinals());
      if (MODE !== 'kraft') return;
      const clusterId = secretValue(kube, ns, 'kafka-cluster', 'id');
      const q = tools.quorum('kafka-0');
      expect({ clusterId: q.clusterId, voters: q.voters }).toEqual({ clusterId, voters: ordinals() });
      expect(ordinals()).toContain(q.leader);
      for (const i of ordinals()) {
        const meta = kubectl(kube, ['exec', '-n', ns, `kafka-${i}`, '-c', 'kafka', '--', 'cat', '/var/lib/kafka/data/meta.properties']);
        expect({ pod: i, meta: meta.split('\n').filter((l) => /^(cluster|node)\.id=/.test(l)).sort() }).toEqual({ pod: i, meta: [`cluster.id=${clusterId}`, `node.id=${i}`] });
      }
    }, 5 * MINUTE);

    test('the topics job made both topics with the configured partitions and replication, min ISR 2, every replica in sync', () => {
      const { partitions, replicationFactor, name, deadLetterName } = config.kafka.topic;
      expect(replicationFactor).toBe(3);
      for (const topic of [name, deadLetterName]) {
        expect(tools.describeTopic('kafka-0', topic)).toMatch(new RegExp(`PartitionCount: ${partitions}\\s+ReplicationFactor: ${replicationFactor}\\s+Configs: min\\.insync\\.replicas=2`));
        expect(tools.isrs('kafka-0', topic)).toEqual(Array.from({ length: partitions }, () => ordinals()));
      }
    }, 5 * MINUTE);

    test('through one port-forward per broker, a client on the host reaches every broker at the address it advertises', async () => {
      const brokers = stateful('kafka');
      const base = config.kafka.hostPort;
      const forwards: Forward[] = [];
      try {
        for (let i = 0; i < brokers; i++) forwards.push(await portForward(kube, ns, `pod/kafka-${i}`, PORTS.kafka, base + i));
        const admin = new Kafka({ brokers: [`localhost:${base}`], logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
        await admin.connect();
        try {
          const cluster = await timed('kafka through port-forwards', () => admin.describeCluster());
          expect(cluster.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual(Array.from({ length: brokers }, (_, i) => `localhost:${base + i}`));
          // Offsets come from each partition's leader: every broker answers.
          const offsets = await admin.fetchTopicOffsets(USERS_TOPIC);
          expect(offsets).toHaveLength(config.kafka.topic.partitions);
        } finally {
          await admin.disconnect();
        }
      } finally {
        for (const f of forwards) f.close();
      }
    }, 3 * MINUTE);
  });

  describe('Airflow through kubectl port-forward', () => {
    let forward: Forward;
    let api: AirflowApi;
    beforeAll(async () => {
      forward = await portForward(kube, ns, `svc/${'airflow-api-server'}`, PORTS.airflow);
    });
    afterAll(() => forward?.close());

    test('its API accepts the generated admin password', async () => {
      const password = secretValue(kube, ns, 'airflow', 'admin-password');
      api = await AirflowApi.login(`http://127.0.0.1:${forward.port}`, config.airflow.adminUser, password);
      await expect(AirflowApi.login(`http://127.0.0.1:${forward.port}`, config.airflow.adminUser, `${password}x`)).rejects.toThrow(/HTTP 40[13]/);
    });

    test('the run the schedule starts at once succeeds: the scheduler started only when everything the DAG checks was ready', async () => {
      let scheduled = (await api.runs(DAG)).dag_runs.filter((r) => r.run_type === 'scheduled');
      for (let i = 0; i < 24 && scheduled.length === 0; i++) {
        await sleep(5000);
        scheduled = (await api.runs(DAG)).dag_runs.filter((r) => r.run_type === 'scheduled');
      }
      const first = scheduled[scheduled.length - 1];
      expect(first).toBeDefined();
      expect(await timed('scheduled DAG run', () => api.waitRun(DAG, first.dag_run_id, 10 * MINUTE))).toBe('success');
    }, 12 * MINUTE);

    test(`a run of ${DAG} triggered through the API succeeds, and its task logs are readable through the API server`, async () => {
      const run = await api.trigger(DAG);
      expect(await timed('triggered DAG run', () => api.waitRun(DAG, run.dag_run_id, 10 * MINUTE))).toBe('success');
      const tasks = await api.tasks(DAG, run.dag_run_id);
      expect(tasks.map((t) => t.state)).toEqual(tasks.map(() => 'success'));
      // The API server fetches the log from the host the task recorded: the scheduler's stable DNS name.
      for (const t of tasks) expect(t.hostname).toBe(`airflow-scheduler-0.airflow-scheduler-headless.${ns}.svc.cluster.local`);
      const log = await api.taskLog(DAG, run.dag_run_id, 'start_ingest_run', tasks.find((t) => t.task_id === 'start_ingest_run')!.try_number);
      expect(log).toMatch(/ingest run \S+ started for \d+ users/);
      expect(log).not.toMatch(/Failed to resolve|Could not read served logs/);
    }, 12 * MINUTE);
  });

  describe('users through the whole pipeline', () => {
    test('Cassandra holds exactly the users landed in PostgreSQL', async () => {
      const { landed, stored } = await timed('stores agree after the DAG runs', () => untilStoresAgree(5 * MINUTE));
      expect(landed.length).toBeGreaterThanOrEqual(config.airflow.usersPerRun);
      expect(missing(landed, stored)).toEqual([]);
      expect(stored.length).toBe(landed.length);
    }, 6 * MINUTE);

    test(`${USERS} users posted to ingest all reach Cassandra`, async () => {
      const start = Date.now();
      const { seed, run } = await ingestRun(() => undefined);
      expect(run).toMatchObject({ state: 'succeeded', inserted: USERS, quarantined: 0 });
      const { landed, stored } = await untilStoresAgree(5 * MINUTE);
      const seconds = (Date.now() - start) / 1000;
      times.push([`${USERS} users ingest -> Cassandra (${Math.round(USERS / seconds)} users/s end to end)`, Math.round(seconds * 10) / 10]);
      expect(landedIds(kube, ns, config.postgres.landingDatabase, `WHERE source_seed = '${seed}'`)).toHaveLength(USERS);
      expect(missing(landed, stored)).toEqual([]);
      expect(stored.length).toBe(landed.length);
    }, 8 * MINUTE);

    test(`a Kafka broker killed mid-stream (${MODE === 'kraft' ? 'the active controller' : 'the last'}) comes back on its storage, every replica back in sync, and no user is lost or doubled`, async () => {
      const brokers = stateful('kafka');
      // The harder case in KRaft mode: the quorum loses its leader as well as a partition leader.
      const victim = `kafka-${MODE === 'kraft' ? tools.quorum('kafka-0').leader : brokers - 1}`;
      const survivor = victim === 'kafka-0' ? 'kafka-1' : 'kafka-0';
      const uid = kubectl(kube, ['get', 'pod', '-n', ns, victim, '-o', 'jsonpath={.metadata.uid}']);
      const { seed, run } = await ingestRun(() => {
        kubectl(kube, ['delete', 'pod', '-n', ns, victim, '--grace-period=1', '--wait=false']);
      });
      expect(run).toMatchObject({ state: 'succeeded', inserted: USERS, quarantined: 0 });
      await timed(`${victim} back and ready`, () => waitPodReady(victim, uid));
      const { landed, stored } = await timed('stores agree after the broker kill', () => untilStoresAgree(8 * MINUTE));
      expect(landedIds(kube, ns, config.postgres.landingDatabase, `WHERE source_seed = '${seed}'`)).toHaveLength(USERS);
      expect(missing(landed, stored)).toEqual([]);
      expect(stored.length).toBe(landed.length);
      const all = Array.from({ length: brokers }, (_, i) => i);
      let isrs = tools.isrs(survivor, config.kafka.topic.name);
      for (let i = 0; i < 60 && !isrs.every((isr) => isr.length === brokers); i++) {
        await sleep(5000);
        isrs = tools.isrs(survivor, config.kafka.topic.name);
      }
      expect(isrs).toEqual(Array.from({ length: config.kafka.topic.partitions }, () => all));
      expect(tools.registered(survivor)).toEqual(all);
      if (MODE === 'kraft') {
        expect(kubectl(kube, ['logs', '-n', ns, victim, '-c', 'kafka'])).toContain('Storage already formatted for this cluster: kept as it is');
        expect(tools.quorum(survivor).voters).toEqual(all);
      }
    }, 15 * MINUTE);

    test('a Cassandra node killed mid-stream, its volume made root-owned 0750 meanwhile, starts again (the init container gives the volume back) and no user is lost', async () => {
      const victim = `cassandra-${stateful('cassandra') - 1}`;
      const uid = kubectl(kube, ['get', 'pod', '-n', ns, victim, '-o', 'jsonpath={.metadata.uid}']);
      const volume = kubectl(kube, ['get', 'pvc', '-n', ns, `data-${victim}`, '-o', 'jsonpath={.spec.volumeName}']);
      const dir = kubectl(kube, ['get', 'pv', volume, '-o', 'jsonpath={.spec.hostPath.path}']);
      const { seed, run } = await ingestRun(() => {
        // What storage that ignores fsGroup hands out (the built-in hostPath provisioner, unpatched).
        fs.chownSync(dir, 0, 0);
        fs.chmodSync(dir, 0o750);
        kubectl(kube, ['delete', 'pod', '-n', ns, victim, '--grace-period=1', '--wait=false']);
      });
      expect(run).toMatchObject({ state: 'succeeded', inserted: USERS, quarantined: 0 });
      await timed(`${victim} back and ready`, () => waitPodReady(victim, uid));
      const st = fs.statSync(dir);
      expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o777).toString(8) }).toEqual({ uid: 999, gid: 999, mode: '750' });
      const { landed, stored } = await timed('stores agree after the Cassandra node kill', () => untilStoresAgree(10 * MINUTE));
      expect(landedIds(kube, ns, config.postgres.landingDatabase, `WHERE source_seed = '${seed}'`)).toHaveLength(USERS);
      expect(missing(landed, stored)).toEqual([]);
      expect(stored.length).toBe(landed.length);
    }, 15 * MINUTE);
  });

  describe('what a person sees', () => {
    test('the Airflow UI through the port-forward logs the admin in and lists user_pipeline', async () => {
      const forward = await portForward(kube, ns, 'svc/airflow-api-server', PORTS.airflow);
      try {
        const password = secretValue(kube, ns, 'airflow', 'admin-password');
        const text = await timed('Airflow UI login in chromium', () => withPage(async (page) => {
          await page.goto(`http://127.0.0.1:${forward.port}/`);
          await page.locator('input[name="username"]').fill(config.airflow.adminUser);
          await page.locator('input[name="password"]').fill(password);
          await page.locator('input[type="submit"], button[type="submit"]').first().click();
          await page.goto(`http://127.0.0.1:${forward.port}/dags`);
          await page.getByText(DAG).first().waitFor({ timeout: 60_000 });
          return page.locator('body').innerText();
        }));
        expect(text).toContain(DAG);
        expect(text).not.toMatch(/Sign In|Invalid login/i);
      } finally {
        forward.close();
      }
    }, 4 * MINUTE);
  });

  describe('down', () => {
    test('npm run down -- --target kubernetes --cluster leaves nothing: no namespace or volume, no process, mount, iptables chain, link, network namespace, cgroup or sysctl change', async () => {
      const memory = (await clusterStatus()).totalRssMiB;
      times.push([`(memory of every cluster process, pods included: ${memory} MiB)`, 0]);
      const result = await timed('npm run down -- --target kubernetes --cluster', () => down({ target: 'kubernetes', cluster: true }));
      downDone = true;
      for (const [step, s] of Object.entries(result.seconds)) times.push([`  down: ${step}`, s]);
      expect(result.left).toEqual([]);
      expect(result.clusterLeft).toEqual([]);
      expect(hostSnapshot()).toEqual(before);
    }, 10 * MINUTE);
  });
});

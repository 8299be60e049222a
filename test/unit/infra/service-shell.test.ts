// The shell the components hand to bash inside their containers, run here with bash against
// stand-ins: what each Kafka broker advertises, and whether the readiness checks tell a working
// broker or ZooKeeper member from one that only has its port open.
import { spawn } from 'child_process';
import * as net from 'net';
import { byName, podContainer, synthBoth } from './synth';

/** Runs a bash script with these variables; resolves with its exit code and output. */
function bash(script: string, env: Record<string, string> = {}, timeoutSeconds = 5): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // stdin from /dev/null: on a socket bash would take itself for a remote shell and read ~/.bashrc.
    const child = spawn('timeout', [String(timeoutSeconds), 'bash', '-c', script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('close', (code) => resolve({ code: code ?? 1, out: out.trim() }));
  });
}

/** A TCP server on a free loopback port answering each connection with `answer(request bytes)`. */
async function standIn(answer: (request: Buffer) => Buffer | undefined, requestBytes: number): Promise<{ port: number; requests: Buffer[]; close: () => void }> {
  const requests: Buffer[] = [];
  const server = net.createServer((socket) => {
    let got = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length < requestBytes) return;
      requests.push(got);
      const reply = answer(got);
      if (reply) socket.end(reply);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, requests, close: () => server.close() };
}

const k8s = synthBoth();
/** A string as Terraform hands it to the container: `$${` and `%%{` are its escapes for a literal `${` and `%{`. */
const applied = (s: string): string => s.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
const kafkaScript = (): string => applied(podContainer(byName(k8s.kubernetes, 'kubernetes_stateful_set_v1').kafka).command[2]);

describe('Kafka brokers', () => {
  it('each advertise the host listener at an address of their own (localhost:<hostPort + ordinal>), the internal one at their pod name', async () => {
    const advertised: string[] = [];
    for (const ordinal of [0, 1, 2]) {
      const host = `kafka-${ordinal}.kafka-headless.rtdatastream.svc.cluster.local`;
      const script = kafkaScript().replace('exec /etc/confluent/docker/run', 'echo "$KAFKA_BROKER_ID $KAFKA_ADVERTISED_LISTENERS"');
      const r = await bash(script, { HOSTNAME: `kafka-${ordinal}`, RTDS_SELF_HOST: host });
      expect(r.code).toBe(0);
      advertised.push(r.out);
    }
    expect(advertised).toEqual([0, 1, 2].map((i) => `${i} PLAINTEXT://kafka-${i}.kafka-headless.rtdatastream.svc.cluster.local:29092,PLAINTEXT_HOST://localhost:${9092 + i}`));
  });

  it('on Docker (one broker, host name kafka) still advertises localhost:9092, the port Docker publishes', async () => {
    const container = Object.values(k8s.docker.resource.docker_container).find((c: any) => c.name === 'rtds-kafka') as any;
    const script = applied(container.entrypoint[2]).replace('exec /etc/confluent/docker/run', 'echo "$KAFKA_ADVERTISED_LISTENERS"');
    expect((await bash(script, { HOSTNAME: 'kafka', RTDS_SELF_HOST: 'kafka' })).out).toBe('PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092');
  });

  describe('readiness check', () => {
    const probe = (port: number) => applied(podContainer(byName(k8s.kubernetes, 'kubernetes_stateful_set_v1').kafka).readiness_probe.exec.command[2]).replace('/29092', `/${port}`);
    // ApiVersions v0 response: size, correlation id, error code (and the versions, left out).
    const response = (correlation: number, error: number) => Buffer.from([0, 0, 0, 6, 0, 0, 0, correlation, 0, error]);

    it('passes when the broker answers an ApiVersions request without error, and sends a well-formed request', async () => {
      const broker = await standIn(() => response(1, 0), 19);
      try {
        expect((await bash(probe(broker.port))).code).toBe(0);
        const req = broker.requests[0];
        expect({ size: req.readInt32BE(0), apiKey: req.readInt16BE(4), version: req.readInt16BE(6), correlation: req.readInt32BE(8), client: req.subarray(14).toString() })
          .toEqual({ size: 15, apiKey: 18, version: 0, correlation: 1, client: 'probe' });
      } finally {
        broker.close();
      }
    });

    it('fails when the port is open but the broker answers with an error, or not at all (still loading its logs)', async () => {
      const erring = await standIn(() => response(1, 35), 19);
      const silent = await standIn(() => undefined, 19);
      try {
        expect((await bash(probe(erring.port))).code).not.toBe(0);
        expect((await bash(probe(silent.port), {}, 2)).code).not.toBe(0);
      } finally {
        erring.close();
        silent.close();
      }
    });
  });
});

describe('ZooKeeper readiness check', () => {
  const probe = (port: number) => applied(podContainer(byName(k8s.kubernetes, 'kubernetes_stateful_set_v1').zookeeper).readiness_probe.exec.command[2]).replace('/2181', `/${port}`);

  it('passes for a member serving in a quorum (or standalone) and fails for one that is not serving yet', async () => {
    const follower = await standIn(() => Buffer.from('Zookeeper version: 3.8.4\nLatency min/avg/max: 0/0/0\nMode: follower\nNode count: 5\n'), 4);
    const waiting = await standIn(() => Buffer.from('This ZooKeeper instance is not currently serving requests\n'), 4);
    try {
      expect((await bash(probe(follower.port))).code).toBe(0);
      expect(follower.requests[0].toString()).toBe('srvr');
      expect((await bash(probe(waiting.port))).code).not.toBe(0);
    } finally {
      follower.close();
      waiting.close();
    }
  });
});

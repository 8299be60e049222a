// Kafka on loopback: 3.9 with ZooKeeper (the seed's mode, default) or 4.x with KRaft
// (`--kafka-mode kraft` / RTDS_KAFKA_MODE=kraft). Topics are created here, never automatically.
import { LOCAL_PORTS, localPort, pipelineTopics, TopicToCreate } from '../../config/facts';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Kafka as KafkaClient, logLevel } from 'kafkajs';
import { KafkaMode, LocalEndpoints, localPipelineConfig } from './endpoints';
import { jvmOptions, kafkaLibDir, kafkaReleases } from './kafka-release';
import { javaBin } from './maven';
import { DaemonService, ServiceContext, ServicePort, servicePort } from './service';
import { assertPortFree, isAlive, readPid, sleep, spawnDaemon, waitFor } from './process';
import { log4jConsole } from './zookeeper';
import { execFileSync } from 'child_process';

/**
 * The topics the pipeline needs, as the stacks create them (config/facts pipelineTopics): names
 * and partitions from the config (kafka.topic, RTDS_KAFKA_TOPIC_PARTITIONS), the dead-letter
 * topic with the users topic's partitions.
 */
export function localTopics(env: NodeJS.ProcessEnv = process.env): TopicToCreate[] {
  // The variable this used to read: refuse it rather than silently ignore what it asked for.
  if (env.RTDS_KAFKA_PARTITIONS !== undefined)
    throw new Error(`RTDS_KAFKA_PARTITIONS=${env.RTDS_KAFKA_PARTITIONS} is no longer read: set RTDS_KAFKA_TOPIC_PARTITIONS (kafka.topic.partitions, the stacks' setting too)`);
  return pipelineTopics(localPipelineConfig(env).kafka.topic);
}

export class Kafka extends DaemonService {
  readonly name = 'kafka';

  dependsOn(ctx: ServiceContext): readonly string[] {
    return ctx.kafkaMode === 'zookeeper' ? ['zookeeper'] : [];
  }

  version(ctx: ServiceContext): string {
    return kafkaReleases[this.runningMode(ctx) ?? ctx.kafkaMode].version;
  }

  ports(): readonly ServicePort[] {
    return [
      servicePort('broker', LOCAL_PORTS.kafka),
      servicePort('controller', LOCAL_PORTS.kafkaController),
    ];
  }

  private modeFile(ctx: ServiceContext): string {
    return path.join(this.dataDir(ctx), 'mode');
  }

  /** The mode of the broker that is running now, if any. */
  runningMode(ctx: ServiceContext): KafkaMode | undefined {
    const pid = readPid(this.pidFile(ctx));
    if (pid === undefined || !isAlive(pid) || !fs.existsSync(this.modeFile(ctx))) return undefined;
    return fs.readFileSync(this.modeFile(ctx), 'utf8').trim() as KafkaMode;
  }

  async provision(ctx: ServiceContext): Promise<void> {
    kafkaLibDir(ctx);
  }

  async start(ctx: ServiceContext): Promise<void> {
    const [broker, controller] = this.ports();
    await assertPortFree(this.name, broker.name, broker.port, broker.env);
    const dir = this.dataDir(ctx);
    // One log directory per mode: a ZooKeeper-mode log dir is not a KRaft one.
    const logDir = path.join(dir, `data-${ctx.kafkaMode}`);
    fs.mkdirSync(logDir, { recursive: true });
    const lib = kafkaLibDir(ctx);
    const common = [
      `listeners=PLAINTEXT://127.0.0.1:${broker.port}` +
        (ctx.kafkaMode === 'kraft' ? `,CONTROLLER://127.0.0.1:${controller.port}` : ''),
      `advertised.listeners=PLAINTEXT://127.0.0.1:${broker.port}`,
      `log.dirs=${logDir}`,
      'num.partitions=3',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'log.retention.hours=168',
    ];
    let modeSpecific: string[];
    if (ctx.kafkaMode === 'zookeeper') {
      const zkPort = localPort(LOCAL_PORTS.zookeeper);
      modeSpecific = ['broker.id=0', `zookeeper.connect=127.0.0.1:${zkPort}`, 'zookeeper.connection.timeout.ms=18000'];
    } else {
      await assertPortFree(this.name, controller.name, controller.port, controller.env);
      modeSpecific = [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controller.port}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name=PLAINTEXT',
      ];
    }
    const config = path.join(dir, `server-${ctx.kafkaMode}.properties`);
    fs.writeFileSync(config, [...common, ...modeSpecific, ''].join('\n'));
    const logging =
      ctx.kafkaMode === 'zookeeper'
        ? this.log4j1(dir)
        : this.log4j2(dir);
    if (ctx.kafkaMode === 'kraft' && !fs.existsSync(path.join(logDir, 'meta.properties'))) {
      this.formatStorage(ctx, lib, config, logging);
    }
    fs.writeFileSync(this.modeFile(ctx), ctx.kafkaMode + '\n');
    // A broker that crashed leaves its ZooKeeper registration until its session expires (18 s):
    // a broker started before that exits with NodeExists, and is started again a little later.
    for (let attempt = 1; ; attempt++) {
      const logStart = fs.existsSync(this.logFile(ctx)) ? fs.statSync(this.logFile(ctx)).size : 0;
      const pid = spawnDaemon({
        command: javaBin(),
        args: [...jvmOptions('512m'), logging, '-cp', `${lib}/*`, 'kafka.Kafka', config],
        logFile: this.logFile(ctx),
        pidFile: this.pidFile(ctx),
      });
      try {
        await waitFor(`kafka (${ctx.kafkaMode}) on 127.0.0.1:${broker.port}`, () => this.healthy(ctx), {
          timeoutMs: 120_000,
          intervalMs: 1000,
          alive: () => isAlive(pid),
          hint: () => this.logTail(ctx),
        });
        return;
      } catch (err) {
        const registered = ctx.kafkaMode === 'zookeeper' && !isAlive(pid)
          && fs.readFileSync(this.logFile(ctx), 'utf8').slice(logStart).includes('NodeExistsException');
        if (!registered || attempt >= 4) throw err;
        ctx.log('kafka: the crashed broker is still registered in ZooKeeper; starting again once its session expires');
        await sleep(10_000);
      }
    }
  }

  private log4j1(dir: string): string {
    const file = path.join(dir, 'log4j.properties');
    fs.writeFileSync(file, log4jConsole());
    return `-Dlog4j.configuration=file:${file}`;
  }

  private log4j2(dir: string): string {
    const file = path.join(dir, 'log4j2.properties');
    fs.writeFileSync(
      file,
      [
        'appender.stdout.type=Console',
        'appender.stdout.name=STDOUT',
        'appender.stdout.layout.type=PatternLayout',
        'appender.stdout.layout.pattern=[%d] %p %m (%c)%n',
        'rootLogger.level=INFO',
        'rootLogger.appenderRef.stdout.ref=STDOUT',
        '',
      ].join('\n'),
    );
    return `-Dlog4j2.configurationFile=${file}`;
  }

  /** KRaft needs its log directory formatted with a cluster id once. */
  private formatStorage(ctx: ServiceContext, lib: string, config: string, logging: string): void {
    // A Kafka cluster id is 16 random bytes in URL-safe base64 without padding.
    const clusterId = randomBytes(16).toString('base64url');
    ctx.log(`kafka: formatting KRaft storage (cluster ${clusterId})`);
    try {
      execFileSync(
        javaBin(),
        [...jvmOptions('256m'), logging, '-cp', `${lib}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(`kafka: formatting KRaft storage failed: ${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? e.message}`);
    }
  }

  private client(ctx: ServiceContext): KafkaClient {
    return new KafkaClient({
      clientId: 'rtds-services',
      brokers: [`127.0.0.1:${this.mainPort(ctx)}`],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      retry: { retries: 0 },
    });
  }

  async healthy(ctx: ServiceContext): Promise<boolean> {
    if (readPid(this.pidFile(ctx)) === undefined) return false;
    const admin = this.client(ctx).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async prepare(ctx: ServiceContext): Promise<void> {
    const running = this.runningMode(ctx);
    if (running && running !== ctx.kafkaMode) {
      throw new Error(
        `kafka is running in ${running} mode but ${ctx.kafkaMode} was asked for: run \`npm run services:down\` first`,
      );
    }
    // Right after a start the broker may not know every partition leader yet: retry a while.
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        return await this.createTopics(ctx);
      } catch (err) {
        lastError = err as Error;
        await sleep(1000);
      }
    }
    throw new Error(`kafka: could not create the pipeline topics: ${lastError?.message}`);
  }

  private async createTopics(ctx: ServiceContext): Promise<void> {
    const admin = this.client(ctx).admin();
    await admin.connect();
    try {
      const topics = localTopics();
      // Resolves false when every topic already exists (its metadata may lag right after a start).
      const created = await admin.createTopics({
        topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })),
        waitForLeaders: true,
      });
      let metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      const have = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
      // A topic made before with fewer partitions (the dead-letter topic used to get 1) grows to the config's.
      const grow = topics.filter((t) => (have.get(t.topic) ?? t.partitions) < t.partitions);
      const shrink = topics.filter((t) => (have.get(t.topic) ?? t.partitions) > t.partitions);
      if (shrink.length) {
        throw new Error(`kafka: ${shrink.map((t) => `${t.topic} has ${have.get(t.topic)} partitions, more than kafka.topic.partitions (${t.partitions})`).join('; ')}: Kafka cannot remove partitions; delete ${this.dataDir(ctx)} after \`npm run services:down\`, or set RTDS_KAFKA_TOPIC_PARTITIONS`);
      }
      if (grow.length) {
        await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.topic, count: t.partitions })) });
        ctx.log(`kafka: grew ${grow.map((t) => `${t.topic} from ${have.get(t.topic)}`).join(', ')} to the configured partitions`);
        metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      }
      const summary = metadata.topics.map((t) => `${t.name} (${t.partitions.length} partitions)`).join(', ');
      ctx.log(`kafka: ${created ? 'created topics' : 'topics present:'} ${summary}`);
    } finally {
      await admin.disconnect();
    }
  }

  async endpoints(ctx: ServiceContext): Promise<Partial<LocalEndpoints>> {
    const mode = this.runningMode(ctx) ?? ctx.kafkaMode;
    return {
      kafka: { bootstrapServers: `127.0.0.1:${this.mainPort(ctx)}`, mode, version: kafkaReleases[mode].version },
    };
  }
}

export const kafka = new Kafka();

// ZooKeeper for Kafka 3.9 in ZooKeeper mode, from the broker's own jars (QuorumPeerMain).
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { LOCAL_PORTS } from '../../config/facts';
import { LocalEndpoints } from './endpoints';
import { jarVersion, jvmOptions, kafkaLibDir, kafkaReleases } from './kafka-release';
import { javaBin } from './maven';
import { DaemonService, ServiceContext, ServicePort, servicePort } from './service';
import { assertPortFree, isAlive, readPid, spawnDaemon, waitFor } from './process';

export class ZooKeeper extends DaemonService {
  readonly name = 'zookeeper';

  enabled(ctx: ServiceContext): boolean {
    return ctx.kafkaMode === 'zookeeper';
  }

  version(ctx: ServiceContext): string {
    const lib = path.join(ctx.cacheDir, `kafka-${kafkaReleases.zookeeper.version}`, 'lib');
    return jarVersion(lib, 'zookeeper') ?? 'unprovisioned';
  }

  ports(): readonly ServicePort[] {
    return [servicePort('client', LOCAL_PORTS.zookeeper)];
  }

  async provision(ctx: ServiceContext): Promise<void> {
    kafkaLibDir({ ...ctx, kafkaMode: 'zookeeper' });
  }

  async start(ctx: ServiceContext): Promise<void> {
    const port = this.mainPort(ctx);
    await assertPortFree(this.name, 'client', port, 'RTDS_ZOOKEEPER_PORT');
    const dir = this.dataDir(ctx);
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    const config = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(
      config,
      [
        `dataDir=${path.join(dir, 'data')}`,
        `clientPort=${port}`,
        'clientPortAddress=127.0.0.1',
        'tickTime=2000',
        'maxClientCnxns=0',
        // The admin server would take port 8080; the four-letter words are our health check.
        'admin.enableServer=false',
        '4lw.commands.whitelist=ruok,srvr',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'log4j.properties'), log4jConsole());
    const lib = kafkaLibDir({ ...ctx, kafkaMode: 'zookeeper' });
    const pid = spawnDaemon({
      command: javaBin(),
      args: [
        ...jvmOptions('256m'),
        `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
        '-cp',
        `${lib}/*`,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        config,
      ],
      logFile: this.logFile(ctx),
      pidFile: this.pidFile(ctx),
    });
    await waitFor(`zookeeper on 127.0.0.1:${port}`, () => this.healthy(ctx), {
      timeoutMs: 60_000,
      alive: () => isAlive(pid),
      hint: () => this.logTail(ctx),
    });
  }

  async healthy(ctx: ServiceContext): Promise<boolean> {
    if (readPid(this.pidFile(ctx)) === undefined) return false;
    return (await fourLetterWord(this.mainPort(ctx), 'ruok')) === 'imok';
  }

  async endpoints(): Promise<Partial<LocalEndpoints>> {
    return {};
  }
}

/** Sends a ZooKeeper four-letter command and returns the answer. */
export function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let answer = '';
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('connect', () => socket.write(word));
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () => resolve(answer.trim()));
    socket.on('error', () => resolve(''));
  });
}

/** log4j 1.x config that writes to stdout, which the daemon appends to its log file. */
export function log4jConsole(): string {
  return [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.org.apache.zookeeper=INFO',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    '',
  ].join('\n');
}

export const zookeeper = new ZooKeeper();

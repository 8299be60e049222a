// Which Kafka runs in each mode, and its classpath from Maven Central (shared by ZooKeeper,
// which runs from the same jars as the broker that talks to it).
import * as fs from 'fs';
import * as path from 'path';
import { KafkaMode } from './endpoints';
import { MavenDependency, mavenLibDir } from './maven';
import { ServiceContext } from './service';

export interface KafkaRelease {
  readonly version: string;
  readonly dependencies: readonly MavenDependency[];
}

/** Kafka 3.9 is the last line with ZooKeeper; 4.x is KRaft only. */
export const kafkaReleases: Readonly<Record<KafkaMode, KafkaRelease>> = {
  zookeeper: {
    version: '3.9.1',
    dependencies: [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: '3.9.1' },
      // Kafka 3.9 logs through slf4j 1.7 to reload4j, as its distribution does.
      { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
    ],
  },
  kraft: {
    version: '4.1.1',
    dependencies: [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: '4.1.1' },
      // Kafka 4 logs through slf4j 1.7 to log4j 2, as its distribution does.
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: '2.24.3' },
    ],
  },
};

/** The lib directory of the Kafka release for `ctx.kafkaMode` (resolved on first use). */
export function kafkaLibDir(ctx: ServiceContext): string {
  const release = kafkaReleases[ctx.kafkaMode];
  return mavenLibDir(ctx, `kafka-${release.version}`, release.dependencies);
}

/** Version of the jar whose file name starts with `prefix-` in `lib`, e.g. zookeeper → 3.8.4. */
export function jarVersion(lib: string, prefix: string): string | undefined {
  if (!fs.existsSync(lib)) return undefined;
  const re = new RegExp(`^${prefix}-(\\d[^-]*)\\.jar$`);
  for (const file of fs.readdirSync(lib)) {
    const m = re.exec(path.basename(file));
    if (m) return m[1];
  }
  return undefined;
}

/** JVM options shared by our small Java services: bounded heap, no GC logs, headless. */
export function jvmOptions(heap: string): string[] {
  return [`-Xms${heap}`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true'];
}

// Which Kafka runs in each mode, and its classpath from Maven Central (shared by ZooKeeper,
// which runs from the same jars as the broker that talks to it).
import * as fs from 'fs';
import * as path from 'path';
import { KAFKA_RELEASES } from '../../config/facts';
import { mavenLibDir } from './maven';
import { ServiceContext } from './service';

/** Kafka 3.9 is the last line with ZooKeeper; 4.x is KRaft only (config/facts/versions.ts). */
export const kafkaReleases = KAFKA_RELEASES;

/** The lib directory of the Kafka release for `ctx.kafkaMode` (resolved on first use). */
export function kafkaLibDir(ctx: ServiceContext): string {
  const release = kafkaReleases[ctx.kafkaMode];
  return mavenLibDir(ctx, `kafka-${release.version}`, release.jars);
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

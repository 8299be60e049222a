// Submitting spark-apps/users_stream.py to the local Spark master: the local pipeline's stream,
// the bench's, and the e2e tests' own instances (each with its pid, log and checkpoint).
import * as path from 'path';
import { ENV, usersStreamEnv } from '../../config/facts';
import { LocalEndpoints, localPipelineConfig } from '../services/endpoints';
import { isAlive, processFiles, readPid, spawnDaemon, stopPid } from '../services/process';
import { ServiceContext } from '../services/service';
import { provisionConnectorJars, SPARK_APPS, sparkHome, sparkPython } from '../services/spark-dist';

export interface UsersStreamOptions {
  /** Name of its directory under `<home>` (pid, log), so tests can run their own next to the pipeline's. @default `users-stream` */
  readonly instance?: string;
  /** Checkpoint directory. @default `<home>/users-stream/checkpoint` */
  readonly checkpointDir?: string;
  /** Kafka topic to read. @default the config's kafka.topic.name */
  readonly topic?: string;
  /** Dead-letter topic. @default the config's kafka.topic.deadLetterName */
  readonly deadLetterTopic?: string;
  /** Executor memory. @default `1g` */
  readonly executorMemory?: string;
  /** Cores the job takes from the worker. @default 2 */
  readonly cores?: number;
  /** Extra environment for the job (e.g. TRIGGER_SECONDS, MAX_OFFSETS_PER_TRIGGER). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SubmitCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
}

/** The spark-submit command (client mode on the local master) and environment for users_stream.py. */
export function usersStreamSubmit(
  ctx: ServiceContext,
  endpoints: LocalEndpoints,
  opts: UsersStreamOptions = {},
): SubmitCommand {
  if (!endpoints.spark) throw new Error('endpoints.json has no "spark" entry: run `npm run services:up -- --only spark` first');
  const home = sparkHome(ctx);
  const jars = provisionConnectorJars(ctx);
  const python = sparkPython(ctx);
  const c = endpoints.cassandra;
  const topics = localPipelineConfig().kafka.topic;
  return {
    command: path.join(home, 'bin', 'spark-submit'),
    args: [
      '--master', endpoints.spark.masterUrl,
      '--deploy-mode', 'client',
      '--name', 'users_stream',
      '--jars', jars.join(','),
      '--conf', `spark.executor.memory=${opts.executorMemory ?? '1g'}`,
      '--conf', `spark.cores.max=${opts.cores ?? 2}`,
      '--conf', 'spark.driver.host=127.0.0.1',
      '--conf', 'spark.ui.enabled=false',
      path.join(SPARK_APPS, 'users_stream.py'),
    ],
    env: {
      SPARK_HOME: home,
      SPARK_LOCAL_IP: '127.0.0.1',
      PYSPARK_PYTHON: python,
      PYSPARK_DRIVER_PYTHON: python,
      ...usersStreamEnv({
        kafka: { bootstrapServers: endpoints.kafka.bootstrapServers, schemaRegistryUrl: endpoints.schemaRegistry.url, topic: opts.topic ?? topics.name },
        deadLetterTopic: opts.deadLetterTopic ?? topics.deadLetterName,
        cassandra: {
          contactPoints: c.contactPoints.map((p) => p.split(':')[0]).join(','),
          port: c.port,
          username: c.username,
          localDataCenter: c.localDataCenter,
        },
        checkpointDir: opts.checkpointDir ?? usersStreamCheckpoint(ctx, opts.instance),
      }),
      [ENV.cassandraPassword]: c.password,
      ...opts.env,
    },
  };
}

/** The directory name of the pipeline's own stream under `<home>`. */
export const USERS_STREAM = 'users-stream';

/** The default checkpoint directory of an instance of the users stream. */
export function usersStreamCheckpoint(ctx: Pick<ServiceContext, 'home'>, instance = USERS_STREAM): string {
  return path.join(ctx.home, instance, 'checkpoint');
}

/** pid and log files of the submitted users stream. */
export function usersStreamFiles(ctx: Pick<ServiceContext, 'home'>, instance = USERS_STREAM): { pidFile: string; logFile: string } {
  return processFiles(ctx.home, instance);
}

/** Submits users_stream.py detached; returns the driver's pid. */
export function startUsersStream(ctx: ServiceContext, endpoints: LocalEndpoints, opts: UsersStreamOptions = {}): number {
  const submit = usersStreamSubmit(ctx, endpoints, opts);
  const files = usersStreamFiles(ctx, opts.instance);
  const running = readPid(files.pidFile);
  if (running !== undefined && isAlive(running)) {
    throw new Error(`the users stream is already running (pid ${running}, ${files.pidFile}): stop it first`);
  }
  return spawnDaemon({ command: submit.command, args: submit.args, env: submit.env, ...files });
}

/** Stops the users stream driver (and with it its executors). */
export async function stopUsersStream(ctx: Pick<ServiceContext, 'home'>, instance = USERS_STREAM, graceMs = 20_000): Promise<void> {
  await stopPid(usersStreamFiles(ctx, instance).pidFile, graceMs);
}

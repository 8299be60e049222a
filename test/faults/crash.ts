// Crashes on the local runtime: SIGKILL of the process group the runtime started for a service or
// a workload (what a container's crash does to its processes), then a start the way the runtime
// starts it (`services:up --only`, or the local pipeline's own starters).
import * as path from 'path';
import { LocalEndpoints } from '../../scripts/services/endpoints';
import { airflow } from '../../scripts/services/airflow';
import { createContext, up } from '../../scripts/services/lifecycle';
import { isAlive, processFiles, readPid, sleep } from '../../scripts/services/process';
import { spark } from '../../scripts/services/spark';
import { ensureIngest, ensureRelay } from '../../scripts/local/pipeline';
import { localTopics } from '../../scripts/local/measure';
import { startUsersStream, usersStreamFiles } from '../../scripts/local/users-stream';

export const TARGETS = [
  'postgres', 'zookeeper', 'kafka', 'schema-registry', 'cassandra',
  'ingest', 'relay', 'spark-driver', 'spark-worker', 'airflow-scheduler',
] as const;
export type Target = (typeof TARGETS)[number];

const SERVICES: Partial<Record<Target, string>> = {
  postgres: 'postgres', zookeeper: 'zookeeper', kafka: 'kafka', 'schema-registry': 'schema-registry', cassandra: 'cassandra',
  'spark-worker': 'spark', 'airflow-scheduler': 'airflow',
};

/** The pid file the local runtime wrote for the target's process. */
export function pidFileOf(target: Target): string {
  const ctx = createContext({ log: () => undefined });
  switch (target) {
    case 'spark-worker': return spark.workerPidFile(ctx);
    case 'airflow-scheduler': return airflow.componentPidFile(ctx, 'scheduler');
    case 'spark-driver': return usersStreamFiles(ctx).pidFile;
    case 'ingest': case 'relay': return processFiles(ctx.home, target).pidFile;
    default: return path.join(ctx.home, SERVICES[target]!, 'pid');
  }
}

/** SIGKILLs the target's process group and waits until its process is gone; returns its pid. */
export async function crash(target: Target): Promise<number> {
  const pid = readPid(pidFileOf(target));
  if (pid === undefined || !isAlive(pid)) throw new Error(`${target} is not running (no live pid in ${pidFileOf(target)}): nothing to crash`);
  process.kill(-pid, 'SIGKILL');
  for (let i = 0; isAlive(pid); i++) {
    if (i > 300) throw new Error(`${target} (pid ${pid}) still alive 30 s after SIGKILL`);
    await sleep(100);
  }
  // A dead leader turns zombie before its other threads have closed the files (a listening port
  // too): wait until the process is gone altogether, so its port is free for the restart.
  for (let i = 0; i < 100 && gone(pid) === false; i++) await sleep(100);
  return pid;
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Starts the target again as the local runtime does. */
export async function restart(target: Target, e: LocalEndpoints, log: (m: string) => void): Promise<void> {
  const service = SERVICES[target];
  if (service) {
    await up({ only: [service], log });
    return;
  }
  if (target === 'ingest') await ensureIngest(e);
  else if (target === 'relay') await ensureRelay(e);
  else startUsersStream(createContext({ log }), e, { topic: localTopics().users, deadLetterTopic: localTopics().deadLetter });
}

/** The pipeline's processes running, whatever an earlier scenario left behind: each scenario starts whole. */
export async function ensureWorkloads(e: LocalEndpoints, log: (m: string) => void): Promise<void> {
  await ensureIngest(e);
  await ensureRelay(e);
  const driver = readPid(pidFileOf('spark-driver'));
  if (driver === undefined || !isAlive(driver)) await restart('spark-driver', e, log);
}

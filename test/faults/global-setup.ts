// Jest global setup of the fault tier: every local service, started once for all scenarios.
// Kafka's mode is the runtime's (RTDS_KAFKA_MODE, else the running broker's, else ZooKeeper);
// the ZooKeeper scenario runs in ZooKeeper mode. Remembers what it started, so that the teardown
// leaves the machine as it found it.
import * as fs from 'fs';
import * as path from 'path';
import { createContext, status, up } from '../../scripts/services/lifecycle';

/** Files under RTDS_HOME naming what the tier started: the services, and which pipeline processes. */
export function startedMarkers(): { services: string; processes: string } {
  const home = createContext({ log: () => undefined }).home;
  return { services: path.join(home, 'faults-started-services'), processes: path.join(home, 'faults-started-processes') };
}

export default async function globalSetup(): Promise<void> {
  // The scheduler scenario triggers the DAG itself; a schedule would add runs of its own.
  process.env.PIPELINE_SCHEDULE = 'none';
  const running = (await status({ log: () => undefined })).some((r) => r.state === 'running');
  const started = Date.now();
  await up();
  if (!running) fs.writeFileSync(startedMarkers().services, `${process.pid}\n`);
  process.stderr.write(`[services] ready for the fault tier in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

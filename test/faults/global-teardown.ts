// Stops what the fault tier started: every service and process when it started the services,
// else only the pipeline processes (ingest, source, relay, the Spark job) it started itself.
import * as fs from 'fs';
import { createContext, down } from '../../scripts/services/lifecycle';
import { processFiles, stopPid } from '../../scripts/services/process';
import { startedMarkers } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const markers = startedMarkers();
  const ours = fs.existsSync(markers.processes) ? fs.readFileSync(markers.processes, 'utf8').split('\n').filter(Boolean) : [];
  fs.rmSync(markers.processes, { force: true });
  if (process.env.RTDS_KEEP_SERVICES === '1') return;
  if (fs.existsSync(markers.services)) {
    await down({ log: () => undefined });
    fs.rmSync(markers.services, { force: true });
    return;
  }
  const home = createContext({ log: () => undefined }).home;
  for (const name of ours) await stopPid(processFiles(home, name).pidFile, 30_000);
}

// Jest global setup for the integration and e2e tiers: provisions and starts (or reuses) the
// real local services and leaves them running, so a second run starts in seconds.
// RTDS_SERVICES_EXTERNAL=1 skips it when the services are managed elsewhere (endpoints.json
// must then exist).
import { up } from '../../scripts/services/lifecycle';

/** What the integration tier talks to; e2e takes every service (Spark and Airflow too). */
export const INTEGRATION_SERVICES = ['postgres', 'kafka', 'schema-registry', 'cassandra'];

export default async function globalSetup(_global: unknown, project?: { displayName?: { name?: string } | string }): Promise<void> {
  if (process.env.RTDS_SERVICES_EXTERNAL === '1') return;
  const name = typeof project?.displayName === 'string' ? project.displayName : project?.displayName?.name;
  const started = Date.now();
  await up({ only: name === 'e2e' ? undefined : INTEGRATION_SERVICES });
  process.stderr.write(`[services] ready for ${name ?? 'tests'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

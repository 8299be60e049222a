// The lease of a running ingest run: its process touches the row's heartbeat; when that stops (the
// process was killed, its machine lost), any ingest marks the run failed, so that `ingest_runs` and
// the DAG never wait on a run nobody runs. A rerun with the same seed lands the rest exactly once.
import { Pool } from 'pg';
import { log } from '../shared/log';

/** Seconds between heartbeats of a running run. */
export const HEARTBEAT_SECONDS = 5;
/** Seconds without a heartbeat after which a `running` run is taken as abandoned. */
export const LEASE_SECONDS = 30;

/** Touches the run's heartbeat until the returned function is called; `onError` hears each failed touch. */
export function keepRunAlive(pool: Pool, runId: string, onError: (e: Error) => void = () => undefined): () => void {
  const beat = () =>
    pool.query(`UPDATE ingest_runs SET heartbeat_at = now() WHERE id = $1 AND state = 'running'`, [runId])
      .catch((e: Error) => {
        onError(e);
        log('warn', 'ingest', 'could not touch the run heartbeat', { run: runId, error: e.message });
      });
  const timer = setInterval(beat, HEARTBEAT_SECONDS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Marks failed, naming why, every `running` run whose heartbeat stopped; returns their ids. `ours`
 * are the caller's own live runs: after a PostgreSQL outage their heartbeat is old too.
 */
export async function failAbandonedRuns(pool: Pool, ours: readonly string[] = []): Promise<string[]> {
  // The counts come from what landed: the dead process may have committed a page it never recorded.
  const r = await pool.query<{ id: string }>(
    `WITH dead AS (
       SELECT id, heartbeat_at,
              (SELECT count(*) FROM landing_users l WHERE l.run_id = r.id) AS inserted,
              (SELECT count(DISTINCT source_page) FROM landing_users l WHERE l.run_id = r.id) AS pages_done
         FROM ingest_runs r
        WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1::int) AND NOT (id = ANY($2::text[]))
          FOR UPDATE)
     UPDATE ingest_runs r
        SET state = 'failed', finished_at = now(),
            counts = r.counts || jsonb_build_object('inserted', dead.inserted, 'pagesDone', dead.pages_done),
            error = format('the ingest process running it stopped (no heartbeat since %s, lease %s s) after landing %s users; '
                           'rerun it with seed %s to land the rest exactly once',
                           dead.heartbeat_at, $1::int, dead.inserted, r.seed)
       FROM dead WHERE r.id = dead.id
     RETURNING r.id`,
    [LEASE_SECONDS, ours],
  );
  for (const { id } of r.rows) log('warn', 'ingest', 'run abandoned by a process that stopped: marked failed', { run: id });
  return r.rows.map((x) => x.id);
}

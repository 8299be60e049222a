-- A running run's process touches heartbeat_at every few seconds; a `running` row whose heartbeat
-- stopped belongs to a process that died, and any ingest marks it failed (workloads/ingest/lease.ts).
ALTER TABLE ingest_runs ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();

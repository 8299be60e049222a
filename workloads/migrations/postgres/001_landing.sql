-- The landing table is the pipeline's source of truth; seq orders rows for the relay.
CREATE TABLE landing_users (
  id              text PRIMARY KEY,
  seq             bigserial NOT NULL UNIQUE,
  first_name      text NOT NULL,
  last_name       text NOT NULL,
  gender          text NOT NULL,
  address         text NOT NULL,
  post_code       text NOT NULL,
  email           text NOT NULL,
  username        text NOT NULL,
  dob             timestamptz NOT NULL,
  registered_date timestamptz NOT NULL,
  phone           text NOT NULL,
  picture         text NOT NULL,
  nat             text NOT NULL,
  ingested_at     timestamptz NOT NULL,
  run_id          text,
  source_seed     text,
  source_page     integer
);

-- Records that failed validation, and pages given up after retries (source_index = -1).
CREATE TABLE landing_quarantine (
  id             bigserial PRIMARY KEY,
  reason         text NOT NULL,
  payload        jsonb,
  source_seed    text NOT NULL,
  source_page    integer NOT NULL,
  page_size      integer NOT NULL,
  source_index   integer NOT NULL,
  run_id         text,
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_seed, source_page, page_size, source_index)
);

-- Where the relay is: every row with seq <= last_seq is acknowledged by Kafka.
CREATE TABLE relay_cursor (
  name       text PRIMARY KEY,
  last_seq   bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per ingest run, so status survives a restart of the ingest service.
CREATE TABLE ingest_runs (
  id          text PRIMARY KEY,
  seed        text NOT NULL,
  users       integer NOT NULL,
  state       text NOT NULL,
  counts      jsonb NOT NULL DEFAULT '{}'::jsonb,
  error       text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

"""user_pipeline: ask ingest for a run of N users, wait for it, then check every stage caught up.

Thin orchestration: ingest, relay and the Spark job do the work; this DAG only starts a run
over ingest's control API and compares stage counts (landing rows in PostgreSQL, the Kafka
topic's end offsets, Cassandra rows), failing with a readable table when the pipeline lags.

Environment (docs/DEVELOPERS.md): INGEST_URL, PIPELINE_USERS_PER_RUN (default 1000),
(a trigger's conf {"users": N} overrides it for that run), PIPELINE_SCHEDULE (cron or preset; "none" for manual runs only; default @hourly),
PIPELINE_MAX_LAG_ROWS (default 0), PIPELINE_SETTLE_SECONDS (how long the downstream stages get
to catch up, default 300), PIPELINE_RUN_TIMEOUT_SECONDS (default 3600), and for the counts
PGHOST PGPORT PGDATABASE PGUSER PGPASSWORD, KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC,
CASSANDRA_CONTACT_POINTS CASSANDRA_PORT CASSANDRA_USERNAME CASSANDRA_PASSWORD CASSANDRA_LOCAL_DC
(CASSANDRA_KEYSPACE / CASSANDRA_TABLE default to spark_streams.created_users).
"""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise AirflowFailException(f"environment variable {name} is not set (see docs/DEVELOPERS.md)")
    return value


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise AirflowFailException(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise AirflowFailException(f"{name}={raw!r} must be at least {minimum}")
    return value


def _schedule() -> str | None:
    raw = os.environ.get("PIPELINE_SCHEDULE", "@hourly").strip()
    return None if raw.lower() in ("", "none", "manual") else raw


def _http_json(method: str, url: str, body: dict | None = None, timeout: float = 30) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read().decode() or "{}")
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")[:500]
        raise AirflowFailException(f"{method} {url} answered HTTP {err.code}: {detail}") from None
    except urllib.error.URLError as err:
        raise RuntimeError(f"{method} {url} failed: {err.reason} (is the ingest service running?)") from None


# ---- stage counts: one question per stage, no transformation --------------------------------

def count_landing_rows() -> int:
    import psycopg2

    with psycopg2.connect(connect_timeout=10) as conn, conn.cursor() as cur:  # libpq reads PG* variables
        cur.execute("SELECT count(*) FROM landing_users")
        return int(cur.fetchone()[0])


def kafka_end_offsets() -> int:
    from confluent_kafka import Consumer, TopicPartition

    # The stacks and the local services always set it (config/facts/contract.ts): no second default here.
    topic = _env("KAFKA_TOPIC")
    consumer = Consumer({"bootstrap.servers": _env("KAFKA_BOOTSTRAP_SERVERS"), "group.id": "user_pipeline_dag",
                         "enable.auto.commit": False})
    try:
        meta = consumer.list_topics(topic, timeout=15)
        found = meta.topics.get(topic)
        if found is None or found.error is not None:
            return 0  # no topic yet: nothing was relayed
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)[1] for p in found.partitions)
    finally:
        consumer.close()


def count_cassandra_rows() -> int:
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster
    from cassandra.policies import DCAwareRoundRobinPolicy

    cluster = Cluster(
        [h.split(":")[0] for h in _env("CASSANDRA_CONTACT_POINTS").split(",")],
        port=int(_env("CASSANDRA_PORT", "9042")),
        auth_provider=PlainTextAuthProvider(_env("CASSANDRA_USERNAME"), _env("CASSANDRA_PASSWORD")),
        load_balancing_policy=DCAwareRoundRobinPolicy(local_dc=os.environ.get("CASSANDRA_LOCAL_DC") or None),
    )
    try:
        session = cluster.connect()
        table = f"{os.environ.get('CASSANDRA_KEYSPACE') or 'spark_streams'}.{os.environ.get('CASSANDRA_TABLE') or 'created_users'}"
        row = session.execute(f"SELECT count(*) FROM {table}", timeout=120).one()
        return int(row[0])
    finally:
        cluster.shutdown()


def stage_table(counts: dict) -> str:
    return "\n".join(f"  {stage:<10} {value:>10}" for stage, value in counts.items())


@dag(
    dag_id="user_pipeline",
    schedule=_schedule(),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    tags=["rtdatastream"],
    doc_md=__doc__,
)
def user_pipeline():
    @task
    def start_ingest_run() -> str:
        conf = (get_current_context()["dag_run"].conf or {})  # a manual trigger may ask for another size
        users = int(conf["users"]) if "users" in conf else _env_int("PIPELINE_USERS_PER_RUN", 1000, minimum=1)
        url = _env("INGEST_URL").rstrip("/") + "/runs"
        answer = _http_json("POST", url, {"users": users})
        if "id" not in answer:
            raise AirflowFailException(f"POST {url} answered without a run id: {answer}")
        print(f"ingest run {answer['id']} started for {users} users")
        return answer["id"]

    @task
    def wait_for_ingest_run(ingest_run_id: str) -> dict:
        url = f"{_env('INGEST_URL').rstrip('/')}/runs/{ingest_run_id}"
        deadline = time.monotonic() + _env_int("PIPELINE_RUN_TIMEOUT_SECONDS", 3600, minimum=1)
        while True:
            try:
                status = _http_json("GET", url)
            except RuntimeError as err:  # ingest restarting: it answers for the run again once it is back
                if time.monotonic() > deadline:
                    raise AirflowFailException(f"ingest run {ingest_run_id}: {err}") from None
                print(f"ingest run {ingest_run_id}: {err}; asking again")
                time.sleep(2)
                continue
            if status.get("state") == "succeeded":
                print(f"ingest run {ingest_run_id} succeeded: {json.dumps(status)}")
                return status
            if status.get("state") == "failed":  # its process died too: ingest marks the run failed, saying why
                raise AirflowFailException(f"ingest run {ingest_run_id} failed: {status.get('error', 'no error given')}")
            if time.monotonic() > deadline:
                raise AirflowFailException(f"ingest run {ingest_run_id} still {status.get('state')} after the timeout: {status}")
            time.sleep(2)

    @task(retries=0)
    def check_stage_counts(run: dict) -> dict:
        max_lag = _env_int("PIPELINE_MAX_LAG_ROWS", 0)
        deadline = time.monotonic() + _env_int("PIPELINE_SETTLE_SECONDS", 300)
        while True:
            try:
                counts = {"postgres": count_landing_rows(), "kafka": kafka_end_offsets(), "cassandra": count_cassandra_rows()}
            except Exception as err:  # a stage restarting, or Cassandra's whole-table count timing out under load
                if time.monotonic() > deadline:
                    raise AirflowFailException(f"the stage counts could not be read within PIPELINE_SETTLE_SECONDS: {err}") from None
                print(f"could not count the stages yet ({type(err).__name__}: {err}); asking again")
                time.sleep(5)
                continue
            lag = {"kafka": counts["postgres"] - counts["kafka"], "cassandra": counts["postgres"] - counts["cassandra"]}
            if max(lag.values()) <= max_lag:
                print(f"stages caught up (run {run.get('id')}, max lag {max_lag} rows):\n{stage_table(counts)}")
                return counts
            if time.monotonic() > deadline:
                behind = ", ".join(f"{stage} is {rows} rows behind PostgreSQL" for stage, rows in lag.items() if rows > max_lag)
                raise AirflowFailException(
                    f"the pipeline lags beyond PIPELINE_MAX_LAG_ROWS={max_lag}: {behind}\n{stage_table(counts)}"
                )
            time.sleep(5)

    check_stage_counts(wait_for_ingest_run(start_ingest_run()))


user_pipeline()

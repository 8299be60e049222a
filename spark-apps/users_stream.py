"""Spark Structured Streaming: the relay's Kafka topic (Confluent-framed Avro) -> Cassandra.

Reads the relay's topic (KAFKA_TOPIC), decodes each record with the writer schema fetched from the Schema
Registry by the id in its 5-byte frame, types the fields and upserts them into
spark_streams.created_users keyed by id (replays overwrite, never duplicate). Records that do
not decode go to the dead-letter topic with the reason, and the stream goes on. A failed batch
(Cassandra or the registry away) stops the query, which restarts from its checkpoint.

Settings come from arguments (--kafka-bootstrap-servers ...) or the environment
(KAFKA_BOOTSTRAP_SERVERS ...), names as in docs/DEVELOPERS.md. The Kafka and Cassandra
connector jars must be on the classpath (--jars), provisioned ahead.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from users_decode import decoder_for  # noqa: E402  (the path line above makes it importable)
from users_transform import (  # noqa: E402
    CREATED_USER_COLUMNS,
    StreamSettings,
    dead_letter_value,
    load_settings,
)

LOG = logging.getLogger("users_stream")


# Longest Avro string the JVM decoder allocates; a longer one (no Kafka record of the default size
# limit holds one) fails there and is decoded by decode_user instead, so a poison length cannot
# take an executor's heap.
AVRO_MAX_STRING_BYTES = 16 * 1024 * 1024


def build_session(settings: StreamSettings):
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    executor_options = SparkConf().get("spark.executor.extraJavaOptions", "")
    builder = (
        SparkSession.builder.appName("users_stream")
        .config("spark.cassandra.connection.host", settings.cassandra_host)
        .config("spark.cassandra.connection.port", str(settings.cassandra_port))
        .config("spark.cassandra.auth.username", settings.cassandra_username)
        .config("spark.cassandra.auth.password", settings.cassandra_password)
        # Timestamps are UTC end to end; the JVM decoder derives age in this zone.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.executor.extraJavaOptions",
                f"{executor_options} -Dorg.apache.avro.limits.string.maxLength={AVRO_MAX_STRING_BYTES}".strip())
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.cassandra.output.concurrent.writes", str(settings.cassandra_concurrent_writes))
        .config("spark.cassandra.output.batch.grouping.key", settings.cassandra_batch_grouping)
        .config("spark.cassandra.output.batch.size.bytes", str(settings.cassandra_batch_bytes))
    )
    if settings.cassandra_batch_rows:
        builder = builder.config("spark.cassandra.output.batch.size.rows", str(settings.cassandra_batch_rows))
    if settings.cassandra_local_dc:
        builder = builder.config("spark.cassandra.connection.localDC", settings.cassandra_local_dc)
    spark = builder.getOrCreate()
    # PySpark asks Py4J for `functions`, `PythonUtils`... by their bare names on every column and
    # select; Py4J tries a bare name as a top-level class, then each package PySpark imported, and
    # every miss walks the zip index of each jar on the driver's classpath (a third of the driver JVM's
    # CPU samples in small micro-batches). Imported by full name, a lookup misses once.
    from py4j.java_gateway import java_import

    for name in ("org.apache.spark.sql.functions", "org.apache.spark.api.python.PythonUtils",
                 "org.apache.spark.sql.api.python.PythonSQLUtils"):
        java_import(spark._jvm, name)
    # Executors import the core and the decoders from these files, so the schema cache outlives a task.
    for module in ("users_transform.py", "users_decode.py"):
        spark.sparkContext.addPyFile(os.path.join(os.path.dirname(os.path.abspath(__file__)), module))
    return spark


def start_query(spark, settings: StreamSettings):
    from pyspark.sql import functions as F

    decoder = decoder_for(settings.decoder, spark, settings.schema_registry_url, settings.kafka_topic)
    source = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", settings.kafka_topic)
        .option("startingOffsets", settings.starting_offsets)
        .option("maxOffsetsPerTrigger", str(settings.max_offsets_per_trigger))
    )
    if settings.kafka_min_partitions:
        source = source.option("minPartitions", str(settings.kafka_min_partitions))
    source = source.load()

    written = [*[name for name, _ in CREATED_USER_COLUMNS],
               F.col("partition").alias("kafka_partition"), F.col("offset").alias("kafka_offset")]

    def write_batch(batch, batch_id: int) -> None:
        dead = 0
        # Where the batch's time goes on the driver: building the first pass's plan, the Cassandra
        # writes, waiting for the count that decides a second pass (and building it), the dead letters.
        spent = {"plan": 0.0, "save": 0.0, "count": 0.0, "dead": 0.0}
        mark = [time.monotonic()]

        def lap(kind: str) -> None:
            now = time.monotonic()
            spent[kind] += now - mark[0]
            mark[0] = now

        tasks = batch_tasks(settings, batch.sparkSession)
        if tasks:
            batch = batch.coalesce(tasks)
        for step in decoder.passes(batch):
            lap("count" if spent["plan"] else "plan")
            if step.cache is not None:
                step.cache.persist()
            try:
                if step.users is not None:
                    # Where each row came from and when this batch wrote it: replays overwrite both.
                    (step.users.select(*written, F.lit(processed_at_text()).alias("processed_at"))
                     .write.format("org.apache.spark.sql.cassandra")
                     .options(keyspace=settings.keyspace, table=settings.table)
                     .mode("append").save())
                lap("save")
                if step.rejected is not None:
                    dead += _dead_letter(step.rejected, settings)
                    lap("dead")
            finally:
                if step.cache is not None:
                    step.cache.unpersist()
                lap("dead")
        lap("count")
        decoder.after_batch()
        # Every batch at debug level; one that took longer than two triggers at info, to say why.
        level = logging.INFO if sum(spent.values()) > 2 * settings.trigger_seconds else logging.DEBUG
        LOG.log(level, "batch %d on the driver: plan %.2f s, Cassandra writes %.2f s, count %.2f s, dead letters %.2f s",
                batch_id, spent["plan"], spent["save"], spent["count"], spent["dead"])
        if dead:
            LOG.warning("batch %d: %d records dead-lettered to %s", batch_id, dead, settings.dead_letter_topic)

    return (
        source.writeStream.queryName("users_stream")
        .option("checkpointLocation", settings.checkpoint_dir)
        .trigger(processingTime=f"{settings.trigger_seconds} seconds")
        .foreachBatch(write_batch)
        .start()
    )


def batch_tasks(settings: StreamSettings, spark) -> int:
    """Spark tasks to merge a micro-batch into (0: leave one per Kafka partition)."""
    if settings.batch_tasks is not None:
        return settings.batch_tasks
    if settings.kafka_min_partitions:
        return 0
    return spark.sparkContext.defaultParallelism


def processed_at_text() -> str:
    """Now, as ISO-8601 text in UTC, which the Cassandra connector writes to a timestamp column.

    Text rather than current_timestamp(): Spark folds that into a timestamp literal, and a timestamp
    literal is written into the generated Java code, so every micro-batch's code was new and was
    compiled (Janino on the driver and the executor, then the JIT) for its few hundred rows. A text
    literal is passed to the code by reference: one compiled class serves every batch.
    """
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _dead_letter(rejected, settings: StreamSettings) -> int:
    """Sends the rejected records to the dead-letter topic; returns how many."""
    from pyspark.sql import functions as F

    dead = rejected.count()
    if dead:
        to_dlq = F.udf(dead_letter_value)
        (rejected.select(
            F.col("key"),
            to_dlq(F.col("error"), F.col("topic"), F.col("partition"), F.col("offset"),
                   F.col("key"), F.col("value")).alias("value"))
         .write.format("kafka")
         .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
         .option("topic", settings.dead_letter_topic)
         .save())
    return dead


class BatchWatch:
    """When the running query last finished a micro-batch or found nothing to do (its listener's
    events), so that a micro-batch that never ends can be told apart from a long one."""

    def __init__(self):
        self._since = time.monotonic()

    def moved(self) -> None:
        self._since = time.monotonic()

    def stalled_for(self) -> float:
        return time.monotonic() - self._since


def progress_logger(watch: BatchWatch):
    """Logs every micro-batch that read records: how many, how fast, and where the time went."""
    from pyspark.sql.streaming import StreamingQueryListener

    class ProgressLogger(StreamingQueryListener):
        def onQueryStarted(self, event):
            watch.moved()

        def onQueryProgress(self, event):
            watch.moved()
            p = event.progress
            if p.numInputRows:
                d = p.durationMs
                LOG.info("batch %d: %d records in %.2f s (%.0f/s; write %.2f s, plan %.2f s, offsets %.2f s)",
                         p.batchId, p.numInputRows, d.get("triggerExecution", 0) / 1000, p.processedRowsPerSecond,
                         d.get("addBatch", 0) / 1000, d.get("queryPlanning", 0) / 1000,
                         (d.get("latestOffset", 0) + d.get("walCommit", 0) + d.get("commitOffsets", 0)) / 1000)

        def onQueryIdle(self, event):
            watch.moved()

        def onQueryTerminated(self, event):
            pass

    return ProgressLogger()


# The driver's exit code when a micro-batch hung (STREAM_STALL_SECONDS).
EXIT_STALLED = 3


def await_query(query, settings: StreamSettings, watch: BatchWatch) -> bool:
    """Waits for the query to end (True) or, when a micro-batch has run STREAM_STALL_SECONDS, gives
    up on it (False): a hung batch cannot be stopped (the Cassandra driver waits uninterruptibly)."""
    while not query.awaitTermination(10):
        if settings.stall_seconds and watch.stalled_for() > settings.stall_seconds:
            return False
    return True


def run(settings: StreamSettings) -> int:
    """Runs the query; on failure (Cassandra or Kafka away) restarts it from the checkpoint."""
    spark = build_session(settings)
    spark.sparkContext.setLogLevel("WARN")
    watch = BatchWatch()
    spark.streams.addListener(progress_logger(watch))
    failures = 0
    while True:
        started = time.monotonic()
        watch.moved()
        query = start_query(spark, settings)
        LOG.info("users_stream started: %s -> %s.%s (checkpoint %s)", settings.kafka_topic, settings.keyspace,
                 settings.table, settings.checkpoint_dir)
        try:
            if not await_query(query, settings, watch):
                LOG.error("users_stream: no micro-batch ended for %d s (STREAM_STALL_SECONDS=%d); exiting with %d "
                          "so that it is started again from the checkpoint", watch.stalled_for(), settings.stall_seconds,
                          EXIT_STALLED)
                return EXIT_STALLED
            return 0
        except Exception as err:  # a StreamingQueryException: the batch is retried from the checkpoint
            # Only failures in a row count towards MAX_RESTARTS: a query that ran 10 minutes had recovered.
            failures = 1 if time.monotonic() - started > 600 else failures + 1
            if settings.max_restarts and failures > settings.max_restarts:
                LOG.error("users_stream failed %d times, giving up: %s", failures, err)
                return 1
            # A session cached across a Cassandra restart can hang schema refreshes forever: start afresh.
            spark._jvm.com.datastax.spark.connector.cql.CassandraConnector.evictCache()
            wait = min(30, 2 ** min(failures, 5))
            LOG.warning("users_stream stopped (%s); restart %d from the checkpoint in %d s",
                        str(err).splitlines()[0][:300], failures, wait)
            time.sleep(wait)


def main(argv: Sequence[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings(argv, os.environ)
    return run(settings)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    if code == EXIT_STALLED:
        # Not sys.exit: the hung batch's thread would keep the JVM's shutdown waiting on it.
        logging.shutdown()
        os._exit(code)
    sys.exit(code)

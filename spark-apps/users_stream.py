"""Spark Structured Streaming: Kafka topic users_created (Confluent-framed Avro) -> Cassandra.

Reads the relay's topic, decodes each record with the writer schema fetched from the Schema
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
from typing import Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from users_transform import (  # noqa: E402  (the path line above makes it importable)
    CREATED_USER_COLUMNS,
    DecodeError,
    StreamSettings,
    dead_letter_value,
    decode_user,
    load_settings,
    schemas_for,
)

LOG = logging.getLogger("users_stream")


def _spark_types():
    from pyspark.sql import types as T

    kinds = {"string": T.StringType(), "timestamp": T.TimestampType(), "int": T.IntegerType(), "long": T.LongType()}
    user = T.StructType([T.StructField(name, kinds[kind], True) for name, kind in CREATED_USER_COLUMNS])
    return T.StructType([T.StructField("user", user, True), T.StructField("error", T.StringType(), True)])


def build_session(settings: StreamSettings):
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("users_stream")
        .config("spark.cassandra.connection.host", settings.cassandra_host)
        .config("spark.cassandra.connection.port", str(settings.cassandra_port))
        .config("spark.cassandra.auth.username", settings.cassandra_username)
        .config("spark.cassandra.auth.password", settings.cassandra_password)
        # Timestamps are UTC end to end; the session zone only affects display.
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.cassandra.output.concurrent.writes", str(settings.cassandra_concurrent_writes))
    )
    if settings.cassandra_local_dc:
        builder = builder.config("spark.cassandra.connection.localDC", settings.cassandra_local_dc)
    spark = builder.getOrCreate()
    # Executors import the core from this file, so its schema cache outlives a task.
    spark.sparkContext.addPyFile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "users_transform.py"))
    return spark


def start_query(spark, settings: StreamSettings):
    from pyspark.sql import functions as F

    registry_url = settings.schema_registry_url

    def decode(value):
        try:
            return (decode_user(value, schemas_for(registry_url)), None)
        except DecodeError as err:
            return (None, str(err))

    decode_udf = F.udf(decode, _spark_types())

    source = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", settings.kafka_topic)
        .option("startingOffsets", settings.starting_offsets)
        .option("maxOffsetsPerTrigger", str(settings.max_offsets_per_trigger))
        .load()
    )

    def write_batch(batch, batch_id: int) -> None:
        decoded = batch.select("key", "value", "topic", "partition", "offset", decode_udf(F.col("value")).alias("d"))
        decoded.persist()
        try:
            # Where each row came from and when this batch wrote it: replays overwrite both.
            users = decoded.where(F.col("d.error").isNull()).select(
                "d.user.*",
                F.col("partition").alias("kafka_partition"),
                F.col("offset").alias("kafka_offset"),
                F.current_timestamp().alias("processed_at"),
            )
            (users.write.format("org.apache.spark.sql.cassandra")
             .options(keyspace=settings.keyspace, table=settings.table)
             .mode("append").save())
            rejected = decoded.where(F.col("d.error").isNotNull())
            dead = rejected.count()
            if dead:
                to_dlq = F.udf(dead_letter_value)
                (rejected.select(
                    F.col("key"),
                    to_dlq(F.col("d.error"), F.col("topic"), F.col("partition"), F.col("offset"),
                           F.col("key"), F.col("value")).alias("value"))
                 .write.format("kafka")
                 .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
                 .option("topic", settings.dead_letter_topic)
                 .save())
                LOG.warning("batch %d: %d records dead-lettered to %s", batch_id, dead, settings.dead_letter_topic)
        finally:
            decoded.unpersist()

    return (
        source.writeStream.queryName("users_stream")
        .option("checkpointLocation", settings.checkpoint_dir)
        .trigger(processingTime=f"{settings.trigger_seconds} seconds")
        .foreachBatch(write_batch)
        .start()
    )


def progress_logger():
    """Logs every micro-batch that read records: how many, how fast, and where the time went."""
    from pyspark.sql.streaming import StreamingQueryListener

    class ProgressLogger(StreamingQueryListener):
        def onQueryStarted(self, event):
            pass

        def onQueryProgress(self, event):
            p = event.progress
            if p.numInputRows:
                d = p.durationMs
                LOG.info("batch %d: %d records in %.2f s (%.0f/s; write %.2f s, plan %.2f s, offsets %.2f s)",
                         p.batchId, p.numInputRows, d.get("triggerExecution", 0) / 1000, p.processedRowsPerSecond,
                         d.get("addBatch", 0) / 1000, d.get("queryPlanning", 0) / 1000,
                         (d.get("latestOffset", 0) + d.get("walCommit", 0) + d.get("commitOffsets", 0)) / 1000)

        def onQueryIdle(self, event):
            pass

        def onQueryTerminated(self, event):
            pass

    return ProgressLogger()


def run(settings: StreamSettings) -> int:
    """Runs the query; on failure (Cassandra or Kafka away) restarts it from the checkpoint."""
    spark = build_session(settings)
    spark.sparkContext.setLogLevel("WARN")
    spark.streams.addListener(progress_logger())
    failures = 0
    while True:
        started = time.monotonic()
        query = start_query(spark, settings)
        LOG.info("users_stream started: %s -> %s.%s (checkpoint %s)", settings.kafka_topic, settings.keyspace,
                 settings.table, settings.checkpoint_dir)
        try:
            query.awaitTermination()
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
    sys.exit(main(sys.argv[1:]))

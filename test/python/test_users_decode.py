"""The micro-batch decoders (spark-apps/users_decode.py): each gives decode_user's rows and
dead-letter reasons, record for record, including every malformed case.

The batched decoder is checked without Spark; the three decoders then run in a real local Spark
session (with the job's connector jars, RTDS_SPARK_JARS, for spark-avro's from_avro) against a
registry on loopback, and are consumed the way users_stream.py consumes them.
"""
import json
import os
import sys
from datetime import datetime, timezone

import fastavro
import pyarrow as pa
import pytest

from records import REPO, USER_SCHEMA_TEXT, Registry, a_user, cache_of, framed, ms, ut

import users_decode as ud  # noqa: E402  (records puts spark-apps on sys.path)

PLAIN_SCHEMA = json.loads(USER_SCHEMA_TEXT)
for _field in PLAIN_SCHEMA["fields"]:
    if isinstance(_field["type"], dict):
        _field["type"] = "long"
PLAIN_SCHEMA_TEXT = json.dumps(PLAIN_SCHEMA)
OTHER_SCHEMA = {"type": "record", "name": "Other", "fields": [{"name": "id", "type": "string"}]}


def cases():
    """(name, value): good records of three schemas and every way a record can be refused."""
    good = [(f"good {n}", framed(a_user(id=f"8f1c6c3e-1b2a-4d8e-9a57-{n:012d}", landing_seq=n))) for n in range(40)]
    return good + [
        ("non-ASCII names", framed(a_user(first_name="Zoë", last_name="Ñúñez-Ørsted"))),
        ("birthday on the day of ingestion", framed(a_user(ingested_at=ms("2026-06-15T00:00:00")))),
        ("born on 29 February", framed(a_user(dob=ms("2000-02-29T12:00:00"), ingested_at=ms("2026-02-28T12:00:00")))),
        ("old timestamp outside the JVM's window", framed(a_user(dob=ms("1700-01-01T00:00:00")))),
        ("negative landing_seq", framed(a_user(landing_seq=-5))),
        ("id of only Unicode spaces", framed(a_user(id="\u2003\u00a0"))),
        ("id of non-ASCII letters", framed(a_user(id="ид-пользователя"))),
        ("schema without logical types", framed(a_user(), schema_id=5, schema=fastavro.parse_schema(PLAIN_SCHEMA))),
        ("tombstone", None),
        ("shorter than the frame", b"\x00\x00"),
        ("not Confluent framed", b'{"id": "x"}'),
        ("schema id 0", b"\x00\x00\x00\x00\x00abc"),
        ("unknown schema id", framed(a_user(), schema_id=9)),
        ("truncated payload", framed(a_user())[:30]),
        ("trailing bytes", framed(a_user()) + b"\x00\x01"),
        ("blank id", framed(a_user(id=" "))),
        ("dob after ingestion", framed(a_user(dob=ms("2030-01-01T00:00:00")))),
        ("invalid UTF-8", framed(a_user(first_name="@@@@")).replace(b"@@@@", b"\xff\xfe\xfd\xfc")),
        ("timestamp past Python's datetime", framed(a_user(registered_date=300_000_000_000_000))),
        ("another shape", framed({"id": "x"}, schema_id=3, schema=fastavro.parse_schema(OTHER_SCHEMA))),
        ("invalid schema in the registry", framed(a_user(), schema_id=4)),
        # landing_seq (the last field) 0 written in two bytes: Python reads it; the JVM's re-encoding differs.
        ("non-canonical varint", framed(a_user(landing_seq=0))[:-1] + b"\x80\x00"),
    ]


SCHEMAS = {7: USER_SCHEMA_TEXT, 5: PLAIN_SCHEMA_TEXT, 3: json.dumps(OTHER_SCHEMA), 4: '{"type": "nonsense"}'}


def expected(values, registry=None):
    """What decode_user says of each value, ("row", row) or ("error", reason), asking the registry
    given (the reasons name its address) or a stand-in with the same schemas."""
    cache = ut.SchemaCache(ut.registry_fetch(registry.url)) if registry else cache_of(SCHEMAS)[0]
    out = []
    for value in values:
        try:
            out.append(("row", ut.decode_user(value, cache)))
        except ut.DecodeError as err:
            out.append(("error", str(err)))
    return out


def source_batch(values):
    return pa.RecordBatch.from_arrays(
        [pa.array([f"k{i}".encode() for i in range(len(values))], pa.binary()), pa.array(values, pa.binary()),
         pa.array(["users_created"] * len(values)), pa.array([i % 3 for i in range(len(values))], pa.int32()),
         pa.array(list(range(len(values))), pa.int64())],
        names=[name for name, _ in ut.SOURCE_COLUMNS])


def outcome(row):
    """("row", created_users row) or ("error", reason) from a decoded row (dict) of any decoder."""
    if row.get("error") is not None:
        return ("error", row["error"])
    user = {name: row[name] for name, _ in ut.CREATED_USER_COLUMNS}
    for name in ut.REQUIRED_TIMESTAMP_FIELDS:
        if user[name] is not None and user[name].tzinfo is None:  # Spark gives naive UTC datetimes
            user[name] = user[name].replace(tzinfo=timezone.utc)
    return ("row", user)


def test_the_cases_cover_every_dead_letter_reason():
    reasons = [r for kind, r in expected([v for _, v in cases()]) if kind == "error"]
    for fragment in ("tombstone", "shorter than the 5-byte", "magic byte", "not a registry id", "is unknown",
                     "does not match its writer schema", "trailing bytes", "field id is empty", "is after ingested_at",
                     "UnicodeDecodeError", "field first_name is missing", "not a valid Avro schema"):
        assert any(fragment in r for r in reasons), fragment


class TestArrowBatch:
    def test_gives_decode_users_row_or_reason_for_every_record(self):
        names, values = zip(*cases())
        out = ut.decode_arrow_batch(source_batch(list(values)), cache_of(SCHEMAS)[0]).to_pylist()
        assert [outcome(row) for row in out] == expected(values), names

    def test_passes_the_source_columns_through(self):
        batch = source_batch([framed(a_user()), None])
        out = ut.decode_arrow_batch(batch, cache_of(SCHEMAS)[0])
        assert out.schema.names == [name for name, _ in ut.DECODED_COLUMNS]
        for name, _ in ut.SOURCE_COLUMNS:
            assert out.column(name).to_pylist() == batch.column(name).to_pylist()

    def test_asks_the_registry_once_for_a_batch_of_one_unknown_id(self):
        cache, asked = cache_of(SCHEMAS)
        ut.decode_arrow_batch(source_batch([framed(a_user(), schema_id=9)] * 500), cache)
        assert asked == [9]


class TestJvmDecodable:
    def test_the_relays_schema_fits(self):
        assert ut.jvm_decodable(USER_SCHEMA_TEXT)

    @pytest.mark.parametrize("change", [
        lambda s: s["fields"].pop(),  # a field missing
        lambda s: s["fields"].append({"name": "extra", "type": "string"}),
        lambda s: s["fields"][0].update(type=["null", "string"]),
        lambda s: s["fields"][8].update(type="long"),  # dob without its logical type
        lambda s: s["fields"][14].update(type={"type": "long", "logicalType": "timestamp-millis"}),
        lambda s: s["fields"][0].update(type={"type": "string", "avro.java.string": "String"}),
        lambda s: s.update(type="error"),
    ])
    def test_anything_else_stays_in_python(self, change):
        schema = json.loads(USER_SCHEMA_TEXT)
        change(schema)
        assert not ut.jvm_decodable(json.dumps(schema))

    def test_a_schema_that_is_not_json_stays_in_python(self):
        assert not ut.jvm_decodable("{not json")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    jars = [j for j in os.environ.get("RTDS_SPARK_JARS", "").split(",") if "spark-avro" in j]
    if not jars:
        pytest.fail("RTDS_SPARK_JARS names no spark-avro jar: run these tests with `npm run test:python`")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("test_users_decode")
               .config("spark.jars", ",".join(jars)).config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    for module in ("users_transform.py", "users_decode.py"):
        session.sparkContext.addPyFile(os.path.join(REPO, "spark-apps", module))
    yield session
    session.stop()


@pytest.fixture()
def registry():
    server = Registry(SCHEMAS, subjects={"users_created-value": 7})
    yield server
    server.close()


def frame_of(spark, values):
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField(name, ud.spark_type(kind), True) for name, kind in ut.SOURCE_COLUMNS])
    rows = [(f"k{i}".encode(), v, "users_created", i % 3, i) for i, v in enumerate(values)]
    return spark.createDataFrame(rows, schema).repartition(3)


def run(decoder, batch):
    """Consumes the passes as users_stream.write_batch does; returns (outcome by offset, passes)."""
    by_offset, passes = {}, 0
    for step in decoder.passes(batch):
        passes += 1
        if step.cache is not None:
            step.cache.persist()
        if step.users is not None:
            for row in step.users.collect():
                by_offset[row["offset"]] = outcome({**row.asDict(), "error": None})
        if step.rejected is not None:
            for row in step.rejected.collect():
                by_offset[row["offset"]] = outcome(row.asDict())
        if step.cache is not None:
            step.cache.unpersist()
    decoder.after_batch()
    return by_offset, passes


@pytest.mark.parametrize("name", ut.DECODERS)
def test_every_decoder_gives_decode_users_rows_and_reasons(spark, registry, name):
    labels, values = zip(*cases())
    decoder = ud.decoder_for(name, spark, registry.url, "users_created")
    got, _ = run(decoder, frame_of(spark, list(values)))
    want = expected(values, registry)
    assert [got[i] for i in range(len(values))] == want, [labels[i] for i in range(len(values)) if got[i] != want[i]]


def test_the_jvm_decoder_writes_good_records_in_one_pass_without_python(spark, registry):
    decoder = ud.JvmDecoder(spark, registry.url, "users_created")
    assert set(decoder.fast) == {7}
    good = [framed(a_user(id=f"8f1c6c3e-1b2a-4d8e-9a57-{n:012d}", landing_seq=n)) for n in range(200)]
    got, passes = run(decoder, frame_of(spark, good))
    assert passes == 1
    assert len(got) == 200 and all(kind == "row" for kind, _ in got.values())
    assert registry.asked_for("/schemas/ids/") == 0


def test_batches_of_one_stream_share_one_count_listener(spark, registry):
    """foreachBatch hands each batch a new Python session around the stream's one JVM session; a
    listener per Python session made every later batch wait for one more callback."""
    from pyspark.sql import SparkSession

    decoder = ud.JvmDecoder(spark, registry.url, "users_created")
    good = [framed(a_user(id=f"7e2d5b1a-3c4f-4a6b-8d9e-{n:012d}", landing_seq=n)) for n in range(20)]
    listeners = spark._jsparkSession.listenerManager()

    def batch():
        run(decoder, frame_of(SparkSession(spark.sparkContext, spark._jsparkSession), good))
        return len(listeners.listListeners())

    first = batch()
    assert [batch() for _ in range(3)] == [first] * 3


def test_the_jvm_decoder_learns_a_schema_id_from_the_records(spark, registry):
    decoder = ud.JvmDecoder(spark, registry.url, "a_topic_without_subject")
    assert decoder.fast == {}
    batch = frame_of(spark, [framed(a_user(landing_seq=n)) for n in range(50)])
    first, passes = run(decoder, batch)
    assert passes == 2 and all(kind == "row" for kind, _ in first.values())
    assert set(decoder.fast) == {7}
    second, passes = run(decoder, batch)
    assert passes == 1 and second == first


def test_the_jvm_decoder_leaves_a_schema_that_does_not_fit_to_python(spark, registry):
    decoder = ud.JvmDecoder(spark, registry.url, "a_topic_without_subject")
    values = [framed(a_user(landing_seq=n), schema_id=5, schema=fastavro.parse_schema(PLAIN_SCHEMA)) for n in range(20)]
    for _ in range(2):
        got, passes = run(decoder, frame_of(spark, values))
        assert passes == 2
        assert [got[i] for i in range(20)] == expected(values, registry)
    assert decoder.fast == {} and registry.asked_for("/schemas/ids/5") >= 1


@pytest.mark.parametrize("name", ["jvm", "arrow"])
def test_a_batch_of_unknown_ids_asks_the_registry_once_per_python_worker(spark, registry, name):
    decoder = ud.decoder_for(name, spark, registry.url, "users_created")
    values = [framed(a_user(), schema_id=11)] * 300
    got, _ = run(decoder, frame_of(spark, values))
    assert all(kind == "error" and "schema id 11 is unknown" in reason for kind, reason in got.values())
    # Once per Python worker, each with its own schema cache (local[2], 3 partitions: 3 at most),
    # not once per record; a second decode for the dead letters finds the id remembered.
    assert 1 <= registry.asked_for("/schemas/ids/11") <= 3


def test_the_jvm_decoders_age_matches_python_on_every_day_of_a_leap_cycle(spark, registry):
    # dob and ingested_at on each day of four years: birthdays before, on and after the day,
    # 29 February included.
    start = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp() * 1000
    values = [framed(a_user(landing_seq=d, dob=int(start + d * 86_400_000) - 3_600_000 * 24 * 365 * 30,
                            ingested_at=ms("2026-06-14T23:00:00"))) for d in range(4 * 366)]
    decoder = ud.JvmDecoder(spark, registry.url, "users_created")
    got, passes = run(decoder, frame_of(spark, values))
    assert passes == 1
    assert [got[i] for i in range(len(values))] == expected(values, registry)


def test_a_micro_batch_is_merged_into_the_jobs_cores_unless_told_otherwise(spark):
    """3 Kafka partitions on 2 cores ran as two waves, the second on one core (BATCH_TASKS)."""
    import dataclasses

    import users_stream

    s = ut.load_settings([], {
        "KAFKA_BOOTSTRAP_SERVERS": "broker:9092", "SCHEMA_REGISTRY_URL": "http://registry:8081",
        "CASSANDRA_HOST": "cassandra", "CASSANDRA_USERNAME": "pipeline", "CASSANDRA_PASSWORD": "from-env",
        "CHECKPOINT_DIR": "/tmp/ck", "KAFKA_TOPIC": "users_created", "DEAD_LETTER_TOPIC": "users_created_dlq",
    })
    assert users_stream.batch_tasks(s, spark) == 2  # local[2]: the session's cores
    assert users_stream.batch_tasks(dataclasses.replace(s, batch_tasks=0), spark) == 0
    assert users_stream.batch_tasks(dataclasses.replace(s, batch_tasks=5), spark) == 5
    # Asked for more tasks than partitions: not merged back.
    assert users_stream.batch_tasks(dataclasses.replace(s, kafka_min_partitions=8), spark) == 0
    batch = frame_of(spark, [framed(a_user(landing_seq=n)) for n in range(30)])
    assert batch.rdd.getNumPartitions() == 3
    merged = batch.coalesce(users_stream.batch_tasks(s, spark))
    assert merged.rdd.getNumPartitions() == 2
    assert sorted(r["offset"] for r in merged.collect()) == list(range(30))

"""How a micro-batch of Kafka records becomes created_users rows and dead letters, three ways.

Every decoder gives decode_user's rows and dead-letter reasons (users_transform.py), record for
record; they differ in where the work runs and what crosses between the JVM and Python:

- `jvm` (the default): from_avro in the JVM for records of a writer schema that fits created_users
  and that the JVM can vouch for; decode_user in Python, through Arrow, for every other record.
- `arrow`: decode_user for every record, fed whole Arrow record batches (mapInArrow).
- `rowwise`: decode_user for every record in a row-at-a-time Python UDF (a pickle per record each
  way); the job's first design, kept as the benchmark's baseline.

A decoder yields passes: each pass has the rows to write to Cassandra and, when it can have any,
the dead letters. users_stream.py writes them in order; this file ships to the executors with it.
"""
from __future__ import annotations

import json
import logging
import threading
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, Optional, Tuple

from users_transform import (
    CREATED_USER_COLUMNS,
    DECODED_COLUMNS,
    DECODERS,
    MAGIC_BYTE,
    REQUIRED_STRING_FIELDS,
    REQUIRED_TIMESTAMP_FIELDS,
    SOURCE_COLUMNS,
    DecodeError,
    RegistryUnavailable,
    decode_arrow_batch,
    decode_user,
    jvm_decodable,
    registry_fetch,
    schemas_for,
)

LOG = logging.getLogger("users_stream")

SOURCE = [name for name, _ in SOURCE_COLUMNS]
USER = [name for name, _ in CREATED_USER_COLUMNS]


@dataclass
class Pass:
    """Rows to upsert (created_users columns plus partition and offset) and, if any can be, the
    dead letters (the source columns plus error). `cache` is persisted for the pass when set, so
    that the users and the dead letters come from one decode."""

    users: Any
    rejected: Any = None
    cache: Any = None


def spark_type(kind: str):
    from pyspark.sql import types as T

    return {"string": T.StringType(), "binary": T.BinaryType(), "timestamp": T.TimestampType(),
            "int": T.IntegerType(), "long": T.LongType()}[kind]


def decoded_schema():
    from pyspark.sql import types as T

    return T.StructType([T.StructField(name, spark_type(kind), True) for name, kind in DECODED_COLUMNS])


def _split(decoded):
    """(users, rejected) of a frame with DECODED_COLUMNS."""
    from pyspark.sql import functions as F

    return (decoded.where(F.col("error").isNull()).select(*USER, "partition", "offset"),
            decoded.where(F.col("error").isNotNull()).select(*SOURCE, "error"))


class RowwiseDecoder:
    """decode_user in a row-at-a-time Python UDF: every record pickled to a worker and back."""

    def __init__(self, spark, registry_url: str):
        self._registry_url = registry_url

    def passes(self, batch) -> Iterator[Pass]:
        from pyspark.sql import functions as F
        from pyspark.sql import types as T

        registry_url = self._registry_url

        def decode(value):
            try:
                return (decode_user(value, schemas_for(registry_url)), None)
            except DecodeError as err:
                return (None, str(err))

        user = T.StructType([T.StructField(name, spark_type(kind), True) for name, kind in CREATED_USER_COLUMNS])
        result = T.StructType([T.StructField("user", user, True), T.StructField("error", T.StringType(), True)])
        decoded = batch.select(*SOURCE, F.udf(decode, result)(F.col("value")).alias("d")).select(*SOURCE, "d.user.*", "d.error")
        users, rejected = _split(decoded)
        yield Pass(users, rejected, cache=decoded)

    def after_batch(self) -> None:
        pass


class _SuccessfulCounts:
    """The counts `observe` collects, taken from queries that succeeded and from no other: a
    QueryExecutionListener reached through Py4J's callback server (as foreachBatch and the progress
    listener are), one per Spark session.

    Spark's own Observation also reads them after a failed query, and reading them makes Spark plan
    that query again on the listener thread. When the failure was the Cassandra connector's table
    lookup (Cassandra away), the second lookup waited forever in the driver's schema refresh while
    holding the connector's session, so the restarted query got that session and waited too.
    """

    def __init__(self):
        self._changed = threading.Condition()
        self._expected: set = set()
        self._counts: Dict[str, int] = {}

    def expect(self, name: str) -> None:
        with self._changed:
            self._expected.add(name)

    def take(self, name: str, timeout_s: float) -> Optional[int]:
        with self._changed:
            self._changed.wait_for(lambda: name in self._counts, timeout_s)
            self._expected.discard(name)
            return self._counts.pop(name, None)

    def onSuccess(self, funcName, qe, durationNs):  # noqa: N802,N803 (QueryExecutionListener's names)
        with self._changed:
            expected = set(self._expected)
        if not expected:
            return
        try:
            found = {}
            entries = qe.observedMetrics().iterator()
            while entries.hasNext():
                entry = entries.next()
                if entry._1() in expected:
                    found[entry._1()] = int(entry._2().getLong(0))
        except Exception as err:  # never into the listener bus; the pass then runs as "maybe some"
            LOG.warning("could not read a query's observed counts: %s", err)
            return
        if found:
            with self._changed:
                self._counts.update(found)
                self._changed.notify_all()

    def onFailure(self, funcName, qe, exception):  # noqa: N802,N803
        """Nothing: a failed query's metrics would be read by planning it again (see the class)."""

    class Java:
        implements = ["org.apache.spark.sql.util.QueryExecutionListener"]


# (JVM session, its listener) for the sessions this driver has counted in: foreachBatch hands every
# batch a new Python SparkSession wrapping the stream's one JVM session, so the listener is keyed by
# the JVM session. Keyed by the Python object, a new listener was registered every batch and each
# successful query called back every one of them: a batch's fixed cost grew with the driver's age.
_LISTENERS: list = []
# Sessions remembered at most (a restarted query clones a new one); older ones are unregistered.
_MAX_LISTENERS = 4


def successful_counts(spark) -> _SuccessfulCounts:
    """The JVM session's listener of successful counts, registered on first use."""
    jsession = spark._jsparkSession
    for known, counts in _LISTENERS:
        if known.equals(jsession):
            return counts
    from pyspark.java_gateway import ensure_callback_server_started

    ensure_callback_server_started(spark.sparkContext._gateway)
    counts = _SuccessfulCounts()
    jsession.listenerManager().register(counts)
    _LISTENERS.append((jsession, counts))
    while len(_LISTENERS) > _MAX_LISTENERS:
        old_session, old = _LISTENERS.pop(0)
        try:
            old_session.listenerManager().unregister(old)
        except Exception as err:  # a session already gone has no listeners left to call
            LOG.debug("could not unregister an old session's count listener: %s", err)
    return counts


def count_of(condition):
    """The observed metric `_observed` counts: rows where `condition` holds."""
    from pyspark.sql import functions as F

    return F.count(F.when(condition, 1)).alias("n")


def _observed(frame, metric):
    """(frame observed with `metric` (count_of) under a name of its own, that name). The observe
    node also keeps the optimizer from pushing a later filter below it: pushed through the JVM
    decode's projections, a filter would copy from_avro into every reference to its result."""
    name = f"rtds_count_{uuid.uuid4().hex}"
    return frame.observe(name, metric), name


class _Count:
    """Counts what a successful query saw on its way through `frame` (metric: count_of)."""

    def __init__(self, frame, metric):
        self._counts = successful_counts(frame.sparkSession)
        self.frame, self._name = _observed(frame, metric)
        self._counts.expect(self._name)

    def value(self, timeout_s: float = 60.0) -> Optional[int]:
        """The count once the query that read the frame has succeeded; None if it never came."""
        return self._counts.take(self._name, timeout_s)


class ArrowDecoder:
    """decode_user for every record, fed Arrow record batches by mapInArrow: no pickle per record."""

    def __init__(self, spark, registry_url: str):
        self._registry_url = registry_url

    def decoded(self, batch):
        registry_url = self._registry_url

        def decode(batches):
            schemas = schemas_for(registry_url)
            for b in batches:
                yield decode_arrow_batch(b, schemas)

        return batch.select(*SOURCE).mapInArrow(decode, decoded_schema())

    def passes(self, batch) -> Iterator[Pass]:
        from pyspark.sql import functions as F

        # One decode when nothing is rejected (the usual batch). Otherwise a second decode gives the
        # dead letters and writes its good rows again (an idempotent upsert), so that a record whose
        # fate changed between the two (its schema registered meanwhile) is written or dead-lettered.
        counted = _Count(self.decoded(batch), count_of(F.col("error").isNotNull()))
        users, _ = _split(counted.frame)
        yield Pass(users)
        if counted.value() != 0:  # None (the count never came) is taken as "maybe some"
            decoded = self.decoded(batch)
            users, rejected = _split(decoded)
            yield Pass(users, rejected, cache=decoded)

    def after_batch(self) -> None:
        pass


class _IdSet:
    """Accumulator of schema ids (a set): the ids the Python fallback decoded."""

    def zero(self, value):
        return set()

    def addInPlace(self, a, b):  # noqa: N802 (AccumulatorParam's name)
        a |= b
        return a


# Timestamps the JVM path vouches for; any other goes to decode_user, whose datetime range (years
# 1-9999) and messages are the contract.
_VOUCHED_MICROS = (int(datetime(1800, 1, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000,
                   int(datetime(9000, 1, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000)


class JvmDecoder:
    """from_avro in the JVM for the records it can vouch for; decode_user (through Arrow) for the rest.

    A record takes the JVM path only when its frame names a schema id that fits created_users
    (jvm_decodable, and Avro's Java parser reads it) and the decoded record is beyond doubt:
    re-encoding it gives back exactly the payload (so no trailing bytes, and nothing the two Avro
    readers could read differently), every string is valid UTF-8, the timestamps are well inside
    Python's range, the id has a letter or digit and the age is not negative. The first pass writes
    those rows and counts the others; when there are any (a poison record, a schema id seen for the
    first time), a second pass sends just them through decode_user, for their row or their reason.
    Ids are learnt from the registry (the topic's value subject, at start) and from the records the
    Python pass decoded, so a new schema id is decoded in the JVM from the next batch on.
    """

    def __init__(self, spark, registry_url: str, topic: str):
        self._spark = spark
        self._registry_url = registry_url
        self._fetch = registry_fetch(registry_url)
        self.fast: Dict[int, str] = {}
        self._built: Optional[tuple] = None
        self._pass_columns: Optional[tuple] = None
        self._refused: set = set()
        self._seen = spark.sparkContext.accumulator(set(), _IdSet())
        # Proleptic Gregorian both ways, as Python's datetime: the re-encoding check must not rebase.
        spark.conf.set("spark.sql.avro.datetimeRebaseModeInWrite", "CORRECTED")
        latest = subject_latest(registry_url, f"{topic}-value")
        if latest:
            self._consider(*latest)

    def _consider(self, schema_id: int, text: str) -> None:
        if jvm_decodable(text) and self._java_parses(text):
            self.fast[schema_id] = text
            LOG.info("schema id %d: decoded in the JVM (from_avro)", schema_id)
        else:
            self._refused.add(schema_id)
            LOG.info("schema id %d: does not fit created_users as is; decoded in Python", schema_id)

    def _java_parses(self, text: str) -> bool:
        try:
            self._spark._jvm.org.apache.avro.Schema.Parser().parse(text)
            return True
        except Exception:  # a schema fastavro reads but Avro's Java parser refuses (a name, say)
            return False

    def after_batch(self) -> None:
        """Ids the Python pass decoded: fetched once, then decoded in the JVM when they fit."""
        for schema_id in sorted(self._seen.value - set(self.fast) - self._refused):
            try:
                self._consider(schema_id, self._fetch(schema_id))
            except (DecodeError, RegistryUnavailable) as err:
                LOG.warning("schema id %d: %s; asked again after the next batch", schema_id, err)

    def vouched(self, batch):
        """The batch's source columns, created_users' columns where the JVM vouches for the record
        (null elsewhere) and `_vouched`."""
        frame = batch
        for columns in self._steps():
            frame = frame.select(*columns)
        return frame

    def _steps(self) -> Tuple[list, ...]:
        """vouched's selects, built once per set of JVM-decoded schema ids: a few hundred calls into
        the JVM to build, which every small micro-batch paid before (Columns belong to no frame)."""
        key = tuple(sorted(self.fast.items()))
        if self._built is None or self._built[0] != key:
            self._built = (key, self._build_steps())
        return self._built[1]

    def _build_steps(self) -> Tuple[list, ...]:
        from pyspark.sql import functions as F
        from pyspark.sql.avro.functions import from_avro, to_avro

        if not self.fast:
            return ([*SOURCE, *[F.lit(None).cast(spark_type(k)).alias(n) for n, k in CREATED_USER_COLUMNS],
                     F.lit(False).alias("_vouched")],)
        value = F.col("value")
        header = F.substring(value, 1, 5)
        payload = F.expr("substring(value, 6)")
        options = {"mode": "PERMISSIVE", "datetimeRebaseMode": "CORRECTED"}
        lo, hi = _VOUCHED_MICROS
        ids = sorted(self.fast)
        # Step by step, so that from_avro runs once per record: later steps reference its column.
        raw = [*SOURCE, *[
            F.when(value.isNotNull() & (F.length(value) >= 5)
                   & (header == F.lit(bytes([MAGIC_BYTE]) + i.to_bytes(4, "big"))),
                   from_avro(payload, self.fast[i], options)).alias(f"_raw{i}") for i in ids]]
        checked = []
        for i in ids:
            r = F.col(f"_raw{i}")
            checks = [to_avro(r, self.fast[i]) == payload, r["id"].rlike("[0-9A-Za-z]")]
            checks += [F.encode(r[name], "UTF-8") == r[name].cast("binary") for name in REQUIRED_STRING_FIELDS]
            checks += [F.unix_micros(r[name]).between(lo, hi) for name in REQUIRED_TIMESTAMP_FIELDS]
            # PERMISSIVE gives a record of nulls for a payload it cannot read; id is never null otherwise.
            checked.append(F.when(r["id"].isNotNull(), _all(checks)))
        decoded = [*SOURCE, F.coalesce(*[F.col(f"_raw{i}") for i in ids]).alias("_d"),
                   F.coalesce(*checked, F.lit(False)).alias("_checked")]
        dob, at = F.col("_d.dob"), F.col("_d.ingested_at")
        # Whole years from dob to ingested_at, in UTC (the session's zone), as users_transform.age_on.
        age = (F.year(at) - F.year(dob) - ((F.month(at) < F.month(dob)) | (
            (F.month(at) == F.month(dob)) & (F.dayofmonth(at) < F.dayofmonth(dob)))).cast("int"))
        aged = [*SOURCE, "_d", age.alias("_age"), F.coalesce(F.col("_checked") & (age >= 0), F.lit(False)).alias("_vouched")]
        typed = [*SOURCE, *[
            F.when(F.col("_vouched"), F.col("_age") if n == "age" else F.col("_d")[n]).cast(spark_type(k)).alias(n)
            for n, k in CREATED_USER_COLUMNS], "_vouched"]
        return raw, decoded, aged, typed

    def passes(self, batch) -> Iterator[Pass]:
        if self._pass_columns is None:
            from pyspark.sql import functions as F

            # Built once, as vouched's selects: (vouched, not vouched, how many are not, nothing counted).
            vouched = F.col("_vouched")
            self._pass_columns = (vouched, ~vouched, count_of(~vouched), count_of(F.lit(False)))
        vouched, not_vouched, count_rest, count_nothing = self._pass_columns
        counted = _Count(self.vouched(batch), count_rest)
        yield Pass(counted.frame.where(vouched).select(*USER, "partition", "offset"))
        if counted.value() != 0:  # None (the count never came) is taken as "maybe some"
            rest = _observed(self.vouched(batch), count_nothing)[0].where(not_vouched)
            decoded = rest.select(*SOURCE).mapInArrow(_python_pass(self._registry_url, self._seen), decoded_schema())
            users, rejected = _split(decoded)
            yield Pass(users, rejected, cache=decoded)


def _all(checks):
    from pyspark.sql import functions as F

    out = checks[0]
    for check in checks[1:]:
        out = out & check
    return F.coalesce(out, F.lit(False))


def _python_pass(registry_url: str, seen):
    """The mapInArrow function of the JVM decoder's second pass: decode_user, and the ids it decoded."""

    def decode(batches):
        schemas = schemas_for(registry_url)
        for b in batches:
            out = decode_arrow_batch(b, schemas)
            errors = out.column(out.schema.get_field_index("error")).to_pylist()
            values = b.column(b.schema.get_field_index("value")).to_pylist()
            ids = {int.from_bytes(v[1:5], "big", signed=True) for v, e in zip(values, errors) if e is None}
            if ids:
                seen.add(ids)
            yield out

    return decode


def subject_latest(registry_url: str, subject: str) -> Optional[Tuple[int, str]]:
    """(id, schema) of a subject's latest version, or None when the registry does not say."""
    url = f"{registry_url.rstrip('/')}/subjects/{subject}/versions/latest"
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.loads(resp.read().decode("utf-8"))
        return int(body["id"]), str(body["schema"])
    except Exception as err:  # no such subject yet, or the registry away: the records teach the ids
        LOG.info("no latest schema for subject %s (%s); schema ids are learnt from the records", subject, err)
        return None


def decoder_for(name: str, spark, registry_url: str, topic: str):
    if name == "jvm":
        return JvmDecoder(spark, registry_url, topic)
    if name == "arrow":
        return ArrowDecoder(spark, registry_url)
    if name == "rowwise":
        return RowwiseDecoder(spark, registry_url)
    raise ValueError(f"decoder {name!r} is not one of {', '.join(DECODERS)}")

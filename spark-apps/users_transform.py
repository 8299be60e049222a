"""The users stream's pure core: Confluent frame, Avro decode, typing, settings.

No Spark here, so pytest runs it without a cluster; users_stream.py ships this file to the
executors (addPyFile) so that its schema cache lives once per Python worker process.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

MAGIC_BYTE = 0
FRAME_HEADER_BYTES = 5

# The Cassandra columns of spark_streams.created_users, in order (see
# workloads/migrations/cassandra). Timestamps are timezone-aware UTC datetimes.
CREATED_USER_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("id", "string"),
    ("first_name", "string"),
    ("last_name", "string"),
    ("gender", "string"),
    ("address", "string"),
    ("post_code", "string"),
    ("email", "string"),
    ("username", "string"),
    ("dob", "timestamp"),
    ("age", "int"),
    ("registered_date", "timestamp"),
    ("phone", "string"),
    ("picture", "string"),
    ("nat", "string"),
    ("ingested_at", "timestamp"),
    ("landing_seq", "long"),
)

REQUIRED_STRING_FIELDS = ("id", "first_name", "last_name", "gender", "address", "post_code", "email",
                          "username", "phone", "picture", "nat")
REQUIRED_TIMESTAMP_FIELDS = ("dob", "registered_date", "ingested_at")


class DecodeError(ValueError):
    """A record that cannot become a created_users row; its message is the dead-letter reason."""


# ---------------------------------------------------------------------------------------------
# Pure core: frame, decode, type.
# ---------------------------------------------------------------------------------------------

def parse_frame(value: Optional[bytes]) -> Tuple[int, bytes]:
    """Splits a Confluent wire-format value into (schema id, Avro payload)."""
    if value is None:
        raise DecodeError("value is null (tombstone)")
    value = bytes(value)
    if len(value) < FRAME_HEADER_BYTES:
        raise DecodeError(f"value is {len(value)} bytes, shorter than the 5-byte Confluent frame header")
    if value[0] != MAGIC_BYTE:
        raise DecodeError(f"magic byte is {value[0]}, expected 0 (not Confluent wire format)")
    schema_id = int.from_bytes(value[1:FRAME_HEADER_BYTES], "big", signed=True)
    if schema_id <= 0:
        raise DecodeError(f"schema id {schema_id} in the frame is not a registry id")
    return schema_id, value[FRAME_HEADER_BYTES:]


def decode_avro(payload: bytes, parsed_schema: Any) -> Dict[str, Any]:
    """Decodes one schemaless Avro datum; the whole payload must be consumed."""
    import fastavro  # imported here so the module loads where only the driver runs

    buf = io.BytesIO(payload)
    try:
        record = fastavro.schemaless_reader(buf, parsed_schema)
    except Exception as err:  # fastavro raises EOFError, ValueError, UnicodeDecodeError...
        raise DecodeError(f"Avro payload does not match its writer schema: {type(err).__name__}: {err}") from err
    left = len(payload) - buf.tell()
    if left:
        raise DecodeError(f"Avro payload has {left} trailing bytes after the record")
    if not isinstance(record, dict):
        raise DecodeError(f"Avro datum is a {type(record).__name__}, expected a record")
    return record


def _as_utc(name: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    # A writer schema without the logicalType still carries epoch milliseconds.
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as err:
            raise DecodeError(f"field {name} is not a timestamp: {value!r}") from err
        return _as_utc(name, parsed)
    raise DecodeError(f"field {name} is not a timestamp: {value!r}")


def age_on(dob: datetime, on: datetime) -> int:
    """Whole years between dob and `on` (birthday not yet reached this year counts one less)."""
    born: date = dob.astimezone(timezone.utc).date()
    day: date = on.astimezone(timezone.utc).date()
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return years


def to_created_user(record: Mapping[str, Any]) -> Dict[str, Any]:
    """Types a decoded User record into a created_users row.

    Age is derived from dob at ingested_at (not at processing time) so a replay writes the same row.
    """
    row: Dict[str, Any] = {}
    for name in REQUIRED_STRING_FIELDS:
        value = record.get(name)
        if value is None:
            raise DecodeError(f"field {name} is missing")
        if not isinstance(value, str):
            raise DecodeError(f"field {name} is a {type(value).__name__}, expected a string")
        row[name] = value
    if not row["id"].strip():
        raise DecodeError("field id is empty")
    for name in REQUIRED_TIMESTAMP_FIELDS:
        if record.get(name) is None:
            raise DecodeError(f"field {name} is missing")
        row[name] = _as_utc(name, record[name])
    seq = record.get("landing_seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise DecodeError(f"field landing_seq is {seq!r}, expected a long")
    row["landing_seq"] = seq
    age = age_on(row["dob"], row["ingested_at"])
    if age < 0:
        raise DecodeError(f"field dob {row['dob'].isoformat()} is after ingested_at {row['ingested_at'].isoformat()}")
    row["age"] = age
    return {name: row[name] for name, _ in CREATED_USER_COLUMNS}


class SchemaCache:
    """Writer schemas by registry id, fetched once per process (ids are immutable in a registry)."""

    def __init__(self, fetch: Callable[[int], str], unknown_ttl_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._parsed: Dict[int, Any] = {}
        # Ids the registry did not know, with when they were asked: a topic full of records with a
        # foreign id must not cost a registry request per record. Asked again after the TTL, in
        # case the schema has been registered (a restored registry) since.
        self._unknown: Dict[int, Tuple[float, str]] = {}
        self._unknown_ttl_s = unknown_ttl_s
        self._clock = clock

    def get(self, schema_id: int) -> Any:
        if schema_id not in self._parsed:
            import fastavro

            known_unknown = self._unknown.get(schema_id)
            if known_unknown and self._clock() - known_unknown[0] < self._unknown_ttl_s:
                raise DecodeError(known_unknown[1])
            try:
                text = self._fetch(schema_id)
                parsed = fastavro.parse_schema(json.loads(text))
            except DecodeError as err:
                self._unknown[schema_id] = (self._clock(), str(err))
                raise
            except RegistryUnavailable:
                raise
            except Exception as err:
                failure = DecodeError(f"schema id {schema_id} from the registry is not a valid Avro schema: {err}")
                self._unknown[schema_id] = (self._clock(), str(failure))
                raise failure from err
            self._unknown.pop(schema_id, None)
            self._parsed[schema_id] = parsed
        return self._parsed[schema_id]

    def __len__(self) -> int:
        return len(self._parsed)


class RegistryUnavailable(RuntimeError):
    """The registry could not be asked: the batch must fail and be retried, not dead-lettered."""


def registry_fetch(base_url: str, timeout_s: float = 10.0) -> Callable[[int], str]:
    """GET {base}/schemas/ids/{id} (the Confluent API; Apicurio serves it under its ccompat base)."""
    base = base_url.rstrip("/")

    def fetch(schema_id: int) -> str:
        url = f"{base}/schemas/ids/{schema_id}"
        req = urllib.request.Request(url, headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                body = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise DecodeError(f"schema id {schema_id} is unknown to the registry at {base}") from err
            raise RegistryUnavailable(f"GET {url} answered HTTP {err.code}") from err
        except (urllib.error.URLError, OSError) as err:
            raise RegistryUnavailable(f"GET {url} failed: {err}") from err
        schema = body.get("schema") if isinstance(body, dict) else None
        if not isinstance(schema, str):
            raise RegistryUnavailable(f"GET {url} answered without a 'schema' string: {str(body)[:200]}")
        return schema

    return fetch


def decode_user(value: Optional[bytes], schemas: SchemaCache) -> Dict[str, Any]:
    """Confluent-framed Avro bytes -> typed created_users row; raises DecodeError with the reason."""
    schema_id, payload = parse_frame(value)
    return to_created_user(decode_avro(payload, schemas.get(schema_id)))


def jvm_decodable(schema_text: str) -> bool:
    """Whether records of this writer schema can be decoded in the JVM (from_avro) to exactly
    decode_user's rows: a record of created_users' fields and nothing else, strings as strings,
    timestamps as timestamp-millis longs, landing_seq a plain long. Any other schema stays in Python.
    """
    expected = {name: "string" for name in REQUIRED_STRING_FIELDS}
    expected.update({name: "timestamp-millis" for name in REQUIRED_TIMESTAMP_FIELDS})
    expected["landing_seq"] = "long"
    try:
        schema = json.loads(schema_text)
    except ValueError:
        return False
    if not isinstance(schema, dict) or schema.get("type") != "record" or not isinstance(schema.get("fields"), list):
        return False
    kinds = {}
    for field in schema["fields"]:
        if not isinstance(field, dict):
            return False
        kind = field.get("type")
        if isinstance(kind, dict) and set(kind) == {"type", "logicalType"} and kind["type"] == "long":
            kind = kind["logicalType"]
        elif isinstance(kind, dict) and set(kind) == {"type"}:
            kind = kind["type"]
        kinds[field.get("name")] = kind
    return kinds == expected


# The columns a decoded Kafka record carries: where it came from (for the dead-letter topic and the
# row's kafka_partition/kafka_offset), then the created_users row, then the dead-letter reason.
SOURCE_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("key", "binary"), ("value", "binary"), ("topic", "string"), ("partition", "int"), ("offset", "long"),
)
DECODED_COLUMNS: Tuple[Tuple[str, str], ...] = SOURCE_COLUMNS + CREATED_USER_COLUMNS + (("error", "string"),)


def decode_arrow_batch(batch: Any, schemas: SchemaCache) -> Any:
    """One Arrow record batch of Kafka records -> the same records with decode_user's row or reason.

    Each value goes through decode_user itself, so the rows and reasons are the row-wise decoder's;
    only the crossing between the JVM and Python is batched (columns, not a pickle per record).
    """
    import pyarrow as pa

    arrow_types = {"string": pa.string(), "binary": pa.binary(), "int": pa.int32(), "long": pa.int64(),
                   "timestamp": pa.timestamp("us", tz="UTC")}
    rows: list = []
    errors: list = []
    for value in batch.column(batch.schema.get_field_index("value")).to_pylist():
        try:
            rows.append(decode_user(value, schemas))
            errors.append(None)
        except DecodeError as err:
            rows.append(None)
            errors.append(str(err))
    arrays = [batch.column(batch.schema.get_field_index(name)).cast(arrow_types[kind]) for name, kind in SOURCE_COLUMNS]
    for name, kind in CREATED_USER_COLUMNS:
        arrays.append(pa.array([None if row is None else row[name] for row in rows], type=arrow_types[kind]))
    arrays.append(pa.array(errors, type=pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=[name for name, _ in DECODED_COLUMNS])


def dead_letter_value(reason: str, topic: str, partition: int, offset: int,
                      key: Optional[bytes], value: Optional[bytes]) -> str:
    """The dead-letter record: the reason, where it came from, and the original bytes."""
    def b64(raw: Optional[bytes]) -> Optional[str]:
        return None if raw is None else base64.b64encode(bytes(raw)).decode("ascii")

    return json.dumps({
        "reason": reason,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key_base64": b64(key),
        "value_base64": b64(value),
    }, sort_keys=True)


# ---------------------------------------------------------------------------------------------
# Settings.
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StreamSettings:
    kafka_bootstrap_servers: str
    schema_registry_url: str
    cassandra_host: str
    cassandra_username: str
    cassandra_password: str
    checkpoint_dir: str
    # The topics are the deployment's (kafka.topic in its config): the stacks and the local
    # submitter always set both, so a missing one is an error, not a guess.
    kafka_topic: str
    dead_letter_topic: str
    cassandra_port: int = 9042
    cassandra_local_dc: Optional[str] = None
    keyspace: str = "spark_streams"
    table: str = "created_users"
    starting_offsets: str = "earliest"
    # Records per micro-batch at most. Every batch costs one to two seconds of fixed work (Spark jobs,
    # the connector's table lookup, offset commits), so a backlog drains in large batches; a steady
    # stream still makes small ones each trigger.
    max_offsets_per_trigger: int = 100000
    trigger_seconds: float = 1.0
    max_restarts: int = 20
    # A micro-batch running longer than this is taken as hung (the Cassandra connector can wait
    # forever on a session that lost Cassandra): the driver exits non-zero so that what runs it
    # (Docker, Kubernetes, `npm run local`) starts it again from the checkpoint. 0: never.
    stall_seconds: int = 900
    # Inserts in flight per Spark task. The connector's default of 5 leaves Cassandra idle: every
    # user is its own partition, so nothing batches and each insert waits for its round trip.
    cassandra_concurrent_writes: int = 64
    # Where records are decoded (users_decode.py): jvm, arrow or rowwise; all give decode_user's rows.
    decoder: str = "jvm"
    # How the connector groups rows into unlogged batches. Every user is its own partition, so the
    # connector's default ("partition") sends one insert per user; "replica_set" batches users whose
    # partitions live on the same replicas (all of them on one node; no coordinator fan-out on
    # many), "none" whatever rows come next. A batch holds at most CASSANDRA_BATCH_BYTES of values
    # (the connector's own measure; Cassandra counts about 2.3 times as much, and warns above its
    # batch_size_warn_threshold of 5 KiB: 1,800 B is about 4.2 KiB there, 6 to 7 users) or, when
    # set, CASSANDRA_BATCH_ROWS rows, which wins.
    cassandra_batch_grouping: str = "replica_set"
    cassandra_batch_bytes: int = 1800
    cassandra_batch_rows: Optional[int] = None
    # Spark tasks per micro-batch at least (the Kafka source splits partitions' offset ranges); unset:
    # one task per Kafka partition.
    kafka_min_partitions: Optional[int] = None
    # Spark tasks a micro-batch's records are merged into, at most (coalesce: no shuffle). Unset: the
    # job's cores, unless KAFKA_MIN_PARTITIONS asks for more tasks; 0: one task per Kafka partition.
    # With fewer cores than partitions (the topic's 3 on 2 cores) a batch ran as two waves, the
    # second on one core.
    batch_tasks: Optional[int] = None

# (setting, env name, required, type)
_SETTINGS: Tuple[Tuple[str, str, bool, type], ...] = (
    ("kafka_bootstrap_servers", "KAFKA_BOOTSTRAP_SERVERS", True, str),
    ("schema_registry_url", "SCHEMA_REGISTRY_URL", True, str),
    ("cassandra_host", "CASSANDRA_HOST", True, str),
    ("cassandra_username", "CASSANDRA_USERNAME", True, str),
    ("cassandra_password", "CASSANDRA_PASSWORD", True, str),
    ("checkpoint_dir", "CHECKPOINT_DIR", True, str),
    ("kafka_topic", "KAFKA_TOPIC", True, str),
    ("dead_letter_topic", "DEAD_LETTER_TOPIC", True, str),
    ("cassandra_port", "CASSANDRA_PORT", False, int),
    ("cassandra_local_dc", "CASSANDRA_LOCAL_DC", False, str),
    ("keyspace", "CASSANDRA_KEYSPACE", False, str),
    ("table", "CASSANDRA_TABLE", False, str),
    ("starting_offsets", "STARTING_OFFSETS", False, str),
    ("max_offsets_per_trigger", "MAX_OFFSETS_PER_TRIGGER", False, int),
    ("trigger_seconds", "TRIGGER_SECONDS", False, float),
    ("max_restarts", "MAX_RESTARTS", False, int),
    ("stall_seconds", "STREAM_STALL_SECONDS", False, int),
    ("cassandra_concurrent_writes", "CASSANDRA_CONCURRENT_WRITES", False, int),
    ("decoder", "STREAM_DECODER", False, str),
    ("cassandra_batch_rows", "CASSANDRA_BATCH_ROWS", False, int),
    ("cassandra_batch_bytes", "CASSANDRA_BATCH_BYTES", False, int),
    ("cassandra_batch_grouping", "CASSANDRA_BATCH_GROUPING", False, str),
    ("kafka_min_partitions", "KAFKA_MIN_PARTITIONS", False, int),
    ("batch_tasks", "BATCH_TASKS", False, int),
)

# Settings where 0 means "no limit".
_ZERO_TURNS_OFF = ("max_restarts", "stall_seconds", "batch_tasks")

# The decoders of users_decode.py, fastest first (bench/stream measures them side by side).
DECODERS = ("jvm", "arrow", "rowwise")


def load_settings(argv: Sequence[str], env: Mapping[str, str]) -> StreamSettings:
    """Arguments win over the environment; a missing or malformed setting names its flag and variable."""
    parser = argparse.ArgumentParser(prog="users_stream.py", description=__doc__.splitlines()[0])
    for field, env_name, _, _ in _SETTINGS:
        parser.add_argument("--" + field.replace("_", "-"), dest=field, help=f"or {env_name}")
    args = vars(parser.parse_args(list(argv)))
    values: Dict[str, Any] = {}
    missing = []
    for field, env_name, required, kind in _SETTINGS:
        raw = args.get(field)
        if raw is None or raw == "":
            raw = env.get(env_name)
        if raw is None or raw == "":
            if required:
                missing.append(f"--{field.replace('_', '-')} / {env_name}")
            continue
        if kind is int or kind is float:
            try:
                number = kind(raw)
            except ValueError:
                raise SystemExit(f"users_stream: {env_name}={raw!r} is not {'an integer' if kind is int else 'a number'}")
            if field in _ZERO_TURNS_OFF:
                if number < 0:
                    raise SystemExit(f"users_stream: {env_name}={raw!r} must be 0 (off) or more")
            elif number <= 0:
                raise SystemExit(f"users_stream: {env_name}={raw!r} must be greater than 0")
            values[field] = number
        else:
            values[field] = raw
    if missing:
        raise SystemExit("users_stream: missing settings: " + ", ".join(missing))
    if not values["schema_registry_url"].startswith(("http://", "https://")):
        raise SystemExit(f"users_stream: SCHEMA_REGISTRY_URL={values['schema_registry_url']!r} is not an http(s) URL")
    if values.get("cassandra_batch_grouping", "replica_set") not in ("none", "partition", "replica_set"):
        raise SystemExit(f"users_stream: CASSANDRA_BATCH_GROUPING={values['cassandra_batch_grouping']!r} must be none, partition or replica_set")
    if values.get("decoder", "jvm") not in DECODERS:
        raise SystemExit(f"users_stream: STREAM_DECODER={values['decoder']!r} must be one of {', '.join(DECODERS)}")
    offsets = values.get("starting_offsets", "earliest")
    if offsets not in ("earliest", "latest") and not offsets.startswith("{"):
        raise SystemExit(f"users_stream: STARTING_OFFSETS={offsets!r} must be earliest, latest or a JSON offsets map")
    return StreamSettings(**values)


_WORKER_SCHEMAS: Dict[str, SchemaCache] = {}


def schemas_for(url: str) -> SchemaCache:
    """The process-wide schema cache for a registry (Spark reuses Python workers across tasks)."""
    if url not in _WORKER_SCHEMAS:
        _WORKER_SCHEMAS[url] = SchemaCache(registry_fetch(url))
    return _WORKER_SCHEMAS[url]

"""The users stream's decode/type core, without a Spark cluster.

Records are encoded with fastavro from the project's own schema (workloads/schema/user.avsc),
framed as the relay frames them, and the registry lookup goes to a real HTTP server on loopback.
"""
import json
from datetime import datetime, timezone

import fastavro
import pytest

from records import USER_SCHEMA_TEXT, Registry, a_user, cache_of, framed, ms, ut

class TestFrame:
    def test_splits_the_schema_id_from_the_payload(self):
        assert ut.parse_frame(b"\x00\x00\x00\x01\x02abc") == (258, b"abc")

    def test_rejects_a_value_shorter_than_the_header(self):
        with pytest.raises(ut.DecodeError, match="shorter than the 5-byte"):
            ut.parse_frame(b"\x00\x00")

    def test_rejects_a_wrong_magic_byte(self):
        with pytest.raises(ut.DecodeError, match="magic byte is 123"):
            ut.parse_frame(b'{"id": "x"}')

    def test_rejects_a_tombstone(self):
        with pytest.raises(ut.DecodeError, match="null"):
            ut.parse_frame(None)

    def test_rejects_a_non_positive_schema_id(self):
        with pytest.raises(ut.DecodeError, match="schema id 0"):
            ut.parse_frame(b"\x00\x00\x00\x00\x00abc")


class TestDecodeUser:
    def test_types_every_column_and_derives_age_at_ingestion(self):
        cache, _ = cache_of({7: USER_SCHEMA_TEXT})
        row = ut.decode_user(framed(a_user()), cache)
        assert list(row) == [name for name, _ in ut.CREATED_USER_COLUMNS]
        assert row["id"] == "8f1c6c3e-1b2a-4d8e-9a57-0d1b2c3d4e5f"
        assert row["dob"] == datetime(1990, 6, 15, 8, 0, tzinfo=timezone.utc)
        assert row["registered_date"] == datetime(2015, 3, 1, 12, 30, tzinfo=timezone.utc)
        assert row["ingested_at"] == datetime(2026, 6, 14, 23, 0, tzinfo=timezone.utc)
        # Born 15 June 1990, ingested 14 June 2026: the 36th birthday is tomorrow.
        assert row["age"] == 35
        assert row["landing_seq"] == 42
        assert row["post_code"] == "NW1 5LA"

    def test_age_counts_the_birthday_itself(self):
        cache, _ = cache_of({7: USER_SCHEMA_TEXT})
        row = ut.decode_user(framed(a_user(ingested_at=ms("2026-06-15T00:00:00"))), cache)
        assert row["age"] == 36

    def test_fetches_each_schema_id_once(self):
        cache, asked = cache_of({7: USER_SCHEMA_TEXT})
        for n in range(5):
            ut.decode_user(framed(a_user(landing_seq=n)), cache)
        assert asked == [7]
        assert len(cache) == 1

    def test_an_unknown_schema_id_is_a_decode_error(self):
        cache, _ = cache_of({7: USER_SCHEMA_TEXT})
        with pytest.raises(ut.DecodeError, match="schema id 9 is unknown"):
            ut.decode_user(framed(a_user(), schema_id=9), cache)

    def test_an_unknown_id_is_asked_again_only_after_the_ttl(self):
        now = [0.0]
        asked = []

        def fetch(schema_id):
            asked.append(schema_id)
            raise ut.DecodeError(f"schema id {schema_id} is unknown to the registry")

        cache = ut.SchemaCache(fetch, unknown_ttl_s=60, clock=lambda: now[0])
        for _ in range(1000):
            with pytest.raises(ut.DecodeError, match="schema id 9 is unknown"):
                ut.decode_user(framed(a_user(), schema_id=9), cache)
        assert asked == [9]
        now[0] = 61.0
        with pytest.raises(ut.DecodeError, match="schema id 9 is unknown"):
            ut.decode_user(framed(a_user(), schema_id=9), cache)
        assert asked == [9, 9]

    def test_an_id_registered_later_decodes_after_the_ttl(self):
        now = [0.0]
        registry = {}
        cache = ut.SchemaCache(lambda i: registry[i] if i in registry else (_ for _ in ()).throw(
            ut.DecodeError(f"schema id {i} is unknown to the registry")), unknown_ttl_s=60, clock=lambda: now[0])
        with pytest.raises(ut.DecodeError):
            ut.decode_user(framed(a_user()), cache)
        registry[7] = USER_SCHEMA_TEXT
        now[0] = 60.5
        assert ut.decode_user(framed(a_user()), cache)["id"] == a_user()["id"]

    def test_an_unavailable_registry_is_not_remembered(self):
        calls = []

        def fetch(schema_id):
            calls.append(schema_id)
            if len(calls) == 1:
                raise ut.RegistryUnavailable("GET failed")
            return USER_SCHEMA_TEXT

        cache = ut.SchemaCache(fetch)
        with pytest.raises(ut.RegistryUnavailable):
            ut.decode_user(framed(a_user()), cache)
        assert ut.decode_user(framed(a_user()), cache)["landing_seq"] == 42

    def test_a_truncated_payload_is_a_decode_error(self):
        cache, _ = cache_of({7: USER_SCHEMA_TEXT})
        with pytest.raises(ut.DecodeError, match="does not match its writer schema"):
            ut.decode_user(framed(a_user())[:30], cache)

    def test_trailing_bytes_are_a_decode_error(self):
        cache, _ = cache_of({7: USER_SCHEMA_TEXT})
        with pytest.raises(ut.DecodeError, match="trailing bytes"):
            ut.decode_user(framed(a_user()) + b"\x00\x01", cache)

    def test_a_record_of_another_shape_names_the_missing_field(self):
        other = {"type": "record", "name": "Other", "fields": [{"name": "id", "type": "string"}]}
        cache, _ = cache_of({3: json.dumps(other)})
        value = framed({"id": "x"}, schema_id=3, schema=fastavro.parse_schema(other))
        with pytest.raises(ut.DecodeError, match="field first_name is missing"):
            ut.decode_user(value, cache)

    def test_a_dob_after_ingestion_is_rejected(self):
        cache, _ = cache_of({7: USER_SCHEMA_TEXT})
        with pytest.raises(ut.DecodeError, match="dob .* is after ingested_at"):
            ut.decode_user(framed(a_user(dob=ms("2030-01-01T00:00:00"))), cache)

    def test_an_empty_id_is_rejected(self):
        cache, _ = cache_of({7: USER_SCHEMA_TEXT})
        with pytest.raises(ut.DecodeError, match="field id is empty"):
            ut.decode_user(framed(a_user(id=" ")), cache)

    def test_a_writer_schema_without_logical_types_still_gives_timestamps(self):
        plain = json.loads(USER_SCHEMA_TEXT)
        for field in plain["fields"]:
            if isinstance(field["type"], dict):
                field["type"] = "long"
        cache, _ = cache_of({5: json.dumps(plain)})
        row = ut.decode_user(framed(a_user(), schema_id=5, schema=fastavro.parse_schema(plain)), cache)
        assert row["dob"] == datetime(1990, 6, 15, 8, 0, tzinfo=timezone.utc)

    def test_an_invalid_schema_from_the_registry_is_a_decode_error(self):
        cache, _ = cache_of({4: '{"type": "nonsense"}'})
        with pytest.raises(ut.DecodeError, match="not a valid Avro schema"):
            ut.decode_user(framed(a_user(), schema_id=4), cache)


class TestDeadLetter:
    def test_carries_the_reason_origin_and_original_bytes(self):
        letter = json.loads(ut.dead_letter_value("magic byte is 123", "users_created", 2, 99, b"k", b"{bad"))
        assert letter == {
            "reason": "magic byte is 123",
            "topic": "users_created",
            "partition": 2,
            "offset": 99,
            "key_base64": "aw==",
            "value_base64": "e2JhZA==",
        }

    def test_a_missing_key_stays_null(self):
        assert json.loads(ut.dead_letter_value("r", "t", 0, 0, None, b""))["key_base64"] is None


@pytest.fixture()
def registry():
    server = Registry({7: USER_SCHEMA_TEXT})
    # The tests below name their own base paths; the server's root is what they start from.
    yield server.url[: -len(Registry.PREFIX)]
    server.close()


class TestRegistryFetch:
    def test_reads_the_schema_from_the_confluent_ids_endpoint_under_a_base_path(self, registry):
        fetch = ut.registry_fetch(registry + "/apis/ccompat/v7/")
        assert json.loads(fetch(7))["name"] == "User"

    def test_an_unknown_id_is_a_decode_error(self, registry):
        with pytest.raises(ut.DecodeError, match="schema id 8 is unknown"):
            ut.registry_fetch(registry + "/apis/ccompat/v7")(8)

    def test_a_server_error_is_unavailability_not_a_bad_record(self, registry):
        with pytest.raises(ut.RegistryUnavailable, match="HTTP 500"):
            ut.registry_fetch(registry + "/elsewhere")(7)

    def test_an_unreachable_registry_is_unavailability(self):
        with pytest.raises(ut.RegistryUnavailable, match="failed"):
            ut.registry_fetch("http://127.0.0.1:1", timeout_s=2)(7)


class TestSettings:
    ENV = {
        "KAFKA_BOOTSTRAP_SERVERS": "broker:9092",
        "SCHEMA_REGISTRY_URL": "http://registry:8081",
        "CASSANDRA_HOST": "cassandra",
        "CASSANDRA_USERNAME": "pipeline",
        "CASSANDRA_PASSWORD": "from-env",
        "CHECKPOINT_DIR": "/tmp/ck",
        "KAFKA_TOPIC": "users_created",
        "DEAD_LETTER_TOPIC": "users_created_dlq",
    }

    def test_reads_the_environment_with_documented_defaults(self):
        s = ut.load_settings([], self.ENV)
        assert s.kafka_topic == "users_created"
        assert s.dead_letter_topic == "users_created_dlq"
        assert s.cassandra_port == 9042
        assert (s.keyspace, s.table) == ("spark_streams", "created_users")
        assert (s.cassandra_batch_grouping, s.cassandra_batch_bytes, s.cassandra_batch_rows) == ("replica_set", 1800, None)
        assert s.batch_tasks is None  # the job's cores (users_stream.batch_tasks)

    def test_arguments_win_over_the_environment(self):
        s = ut.load_settings(["--cassandra-port", "19042", "--kafka-topic", "t2"], self.ENV)
        assert (s.cassandra_port, s.kafka_topic) == (19042, "t2")

    def test_missing_settings_are_all_named(self):
        env = dict(self.ENV)
        del env["CASSANDRA_PASSWORD"]
        del env["CHECKPOINT_DIR"]
        with pytest.raises(SystemExit, match="--cassandra-password / CASSANDRA_PASSWORD, --checkpoint-dir / CHECKPOINT_DIR"):
            ut.load_settings([], env)

    def test_the_topics_have_no_default_and_a_missing_one_is_named(self):
        env = {k: v for k, v in self.ENV.items() if k not in ("KAFKA_TOPIC", "DEAD_LETTER_TOPIC")}
        with pytest.raises(SystemExit, match="--kafka-topic / KAFKA_TOPIC, --dead-letter-topic / DEAD_LETTER_TOPIC"):
            ut.load_settings([], env)

    def test_a_port_that_is_not_a_number_is_named(self):
        with pytest.raises(SystemExit, match="CASSANDRA_PORT='nine' is not an integer"):
            ut.load_settings([], {**self.ENV, "CASSANDRA_PORT": "nine"})

    def test_batch_tasks_zero_turns_the_coalesce_off_and_a_negative_count_is_refused(self):
        assert ut.load_settings([], {**self.ENV, "BATCH_TASKS": "0"}).batch_tasks == 0
        assert ut.load_settings([], {**self.ENV, "BATCH_TASKS": "2"}).batch_tasks == 2
        with pytest.raises(SystemExit, match="BATCH_TASKS='-1' must be 0 \\(off\\) or more"):
            ut.load_settings([], {**self.ENV, "BATCH_TASKS": "-1"})

    def test_cassandra_batch_bytes_must_be_a_positive_number(self):
        assert ut.load_settings([], {**self.ENV, "CASSANDRA_BATCH_BYTES": "4096"}).cassandra_batch_bytes == 4096
        with pytest.raises(SystemExit, match="CASSANDRA_BATCH_BYTES='0' must be greater than 0"):
            ut.load_settings([], {**self.ENV, "CASSANDRA_BATCH_BYTES": "0"})

    def test_a_registry_url_without_scheme_is_refused(self):
        with pytest.raises(SystemExit, match="SCHEMA_REGISTRY_URL='registry:8081' is not an http"):
            ut.load_settings([], {**self.ENV, "SCHEMA_REGISTRY_URL": "registry:8081"})


def test_processed_at_is_utc_iso_text_to_the_millisecond():
    """What the job writes to processed_at: text the connector reads as a timestamp (not a literal
    that would make every micro-batch's generated code new)."""
    import re

    import users_stream

    text = users_stream.processed_at_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text), text
    at = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert abs((datetime.now(timezone.utc) - at).total_seconds()) < 60

"""What the Python tests share: users encoded as the relay encodes them, and a registry on loopback.

Records are encoded with fastavro from the project's own schema (workloads/schema/user.avsc) and
framed as the relay frames them (magic byte 0, big-endian schema id, Avro body).
"""
import http.server
import io
import json
import os
import struct
import sys
import threading
from datetime import datetime, timezone
from typing import Dict, List

import fastavro

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "spark-apps"))

import users_transform as ut  # noqa: E402  (the line above makes it importable)

with open(os.path.join(REPO, "workloads", "schema", "user.avsc"), encoding="utf-8") as f:
    USER_SCHEMA_TEXT = f.read()
USER_SCHEMA = fastavro.parse_schema(json.loads(USER_SCHEMA_TEXT))


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def a_user(**overrides):
    user = {
        "id": "8f1c6c3e-1b2a-4d8e-9a57-0d1b2c3d4e5f",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "gender": "female",
        "address": "12 Marylebone St, London, Greater London, United Kingdom",
        "post_code": "NW1 5LA",
        "email": "ada@example.org",
        "username": "adal",
        "dob": ms("1990-06-15T08:00:00"),
        "registered_date": ms("2015-03-01T12:30:00"),
        "phone": "020 7946 0000",
        "picture": "pictures/med/women/1.jpg",
        "nat": "GB",
        "ingested_at": ms("2026-06-14T23:00:00"),
        "landing_seq": 42,
    }
    user.update(overrides)
    return user


def avro(record, schema=USER_SCHEMA) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record)
    return buf.getvalue()


def framed(record, schema_id=7, schema=USER_SCHEMA) -> bytes:
    return b"\x00" + struct.pack(">i", schema_id) + avro(record, schema)


def cache_of(schemas):
    asked = []

    def fetch(schema_id):
        asked.append(schema_id)
        if schema_id not in schemas:
            raise ut.DecodeError(f"schema id {schema_id} is unknown to the registry")
        return schemas[schema_id]

    return ut.SchemaCache(fetch), asked


class Registry:
    """A Confluent-API registry on loopback (what Apicurio serves under /apis/ccompat/v7): schemas
    by id, each subject's latest version, and every path it was asked, to count requests."""

    PREFIX = "/apis/ccompat/v7"

    def __init__(self, schemas: Dict[int, str], subjects: Dict[str, int] = None):
        self.schemas = dict(schemas)
        self.subjects = dict(subjects or {})
        self.asked: List[str] = []
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                registry.asked.append(self.path)
                status, body = registry.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{self.PREFIX}"

    def answer(self, path: str):
        ids, subjects = f"{self.PREFIX}/schemas/ids/", f"{self.PREFIX}/subjects/"
        if path.startswith(ids):
            schema_id = int(path[len(ids):])
            if schema_id in self.schemas:
                return 200, {"schema": self.schemas[schema_id]}
            return 404, {"error_code": 40403, "message": "Schema not found"}
        if path.startswith(subjects) and path.endswith("/versions/latest"):
            subject = path[len(subjects):-len("/versions/latest")]
            if subject in self.subjects:
                schema_id = self.subjects[subject]
                return 200, {"subject": subject, "version": 1, "id": schema_id, "schema": self.schemas[schema_id]}
            return 404, {"error_code": 40401, "message": "Subject not found"}
        return 500, {}

    def asked_for(self, fragment: str) -> int:
        return sum(1 for p in self.asked if fragment in p)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

"""``timetracer.capture.mongo``: command, reply and failure documents as BSON on command spans.

Events are plain objects with the attributes pymongo's monitoring events have; spans come from
a local provider and are started inside a parent, as the pymongo instrumentor's are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import bson
import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from bson.raw_bson import RawBSONDocument
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer
from pymongo import monitoring

from timetracer import attributes as attr
from timetracer.capture.mongo import MongoCapture
from timetracer.config import TraceConfig
from timetracer.redaction import REDACTED

ADDRESS = ("db.example", 27017)
FIND = {"find": "items", "filter": {"sku": "A-1"}, "$db": "shop"}
REPLY = {"cursor": {"firstBatch": [{"_id": 1, "sku": "A-1"}], "id": Int64(0)}, "ok": 1.0}
FAILURE = {"ok": 0.0, "errmsg": "E11000 duplicate key", "code": 11000}

Hook = Callable[[Span, Any], None]


def started(command: Mapping[str, Any], connection_id: Any = ADDRESS) -> SimpleNamespace:
    return SimpleNamespace(
        command=command,
        command_name=next(iter(command)),
        database_name="shop",
        connection_id=connection_id,
    )


def succeeded(reply: Mapping[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(reply=reply, command_name="find", connection_id=ADDRESS)


def failed(failure: Mapping[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(failure=failure, command_name="find", connection_id=ADDRESS)


def run_command(
    tracer: Tracer,
    memory: InMemorySpanExporter,
    *hooks: tuple[Hook, Any],
    parent: bool = True,
) -> dict[str, Any]:
    """Run ``hooks`` on a command span (inside a server span unless ``parent`` is False);
    return the command span's finished attributes."""

    def command_span() -> None:
        span = tracer.start_span("find", kind=SpanKind.CLIENT)
        for hook, event in hooks:
            hook(span, event)
        span.end()

    if parent:
        with tracer.start_as_current_span("GET /items", kind=SpanKind.SERVER):
            command_span()
    else:
        command_span()
    (span,) = [s for s in memory.get_finished_spans() if s.name == "find"]
    return dict(span.attributes or {})


def payload(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k.startswith(attr.PREFIX)}


@pytest.fixture
def capture() -> MongoCapture:
    return MongoCapture(TraceConfig(mode="record"))


def test_command_and_reply_are_stored_as_bson_bytes(
    capture: MongoCapture, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    attributes = run_command(
        tracer,
        memory,
        (capture.request_hook, started(FIND)),
        (capture.response_hook, succeeded(REPLY)),
    )

    assert attributes[attr.MONGO_DATABASE] == "shop"
    assert attributes[attr.MONGO_COMMAND_NAME] == "find"
    assert attributes[attr.MONGO_COMMAND] == bson.encode(FIND)
    assert attributes[attr.MONGO_REPLY] == bson.encode(REPLY)
    assert attr.MONGO_FAILURE not in attributes


def test_a_failure_document_is_stored_as_bson_bytes(
    capture: MongoCapture, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    attributes = run_command(
        tracer,
        memory,
        (capture.request_hook, started(FIND)),
        (capture.failed_hook, failed(FAILURE)),
    )

    assert attributes[attr.MONGO_FAILURE] == bson.encode(FAILURE)
    assert attr.MONGO_REPLY not in attributes


def test_raw_bson_documents_are_stored_as_their_exact_bytes(
    capture: MongoCapture, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    raw = RawBSONDocument(bson.encode(FIND))

    attributes = run_command(tracer, memory, (capture.request_hook, started(raw)))

    assert attributes[attr.MONGO_COMMAND] == raw.raw


def test_secret_fields_in_documents_are_redacted_and_bson_types_kept(
    capture: MongoCapture, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    user = {
        "_id": ObjectId("65a1b2c3d4e5f60718293a4b"),
        "created": dt.datetime(2024, 1, 2, 3, 4, 5, 678000),
        "balance": Decimal128("10.25"),
        "visits": Int64(3),
        "avatar": Binary(b"\x00\x01", 0),
        "passwordHash": "x",
        "profile": {"apiKey": "k1", "name": "ann"},
    }
    command = {"insert": "users", "documents": [user], "$db": "shop"}

    attributes = run_command(tracer, memory, (capture.request_hook, started(command)))

    expected_user = {
        **user,
        "passwordHash": REDACTED,
        "profile": {"apiKey": REDACTED, "name": "ann"},
    }
    expected = {"insert": "users", "documents": [expected_user], "$db": "shop"}
    assert attributes[attr.MONGO_COMMAND] == bson.encode(expected)


def test_a_reply_over_the_cap_is_stored_only_as_its_size(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    capture = MongoCapture(TraceConfig(mode="record", max_reply_bytes=80))
    big_reply = {"cursor": {"firstBatch": [{"blob": "x" * 200}], "id": Int64(0)}, "ok": 1.0}

    attributes = run_command(
        tracer,
        memory,
        (capture.request_hook, started(FIND)),
        (capture.response_hook, succeeded(big_reply)),
    )

    assert attributes[attr.MONGO_COMMAND] == bson.encode(FIND)
    assert attr.MONGO_REPLY not in attributes
    assert attributes[attr.MONGO_REPLY_SIZE] == len(bson.encode(big_reply))


def test_a_command_over_the_cap_is_stored_only_as_its_size(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    capture = MongoCapture(TraceConfig(mode="record", max_reply_bytes=80))
    big_command = {"insert": "items", "documents": [{"blob": "x" * 200}]}

    attributes = run_command(tracer, memory, (capture.request_hook, started(big_command)))

    assert attr.MONGO_COMMAND not in attributes
    assert attributes[attr.MONGO_COMMAND_SIZE] == len(bson.encode(big_command))
    assert attributes[attr.MONGO_COMMAND_NAME] == "insert"


def test_a_command_outside_any_request_is_not_captured(
    capture: MongoCapture, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    attributes = run_command(
        tracer,
        memory,
        (capture.request_hook, started(FIND)),
        (capture.response_hook, succeeded(REPLY)),
        parent=False,
    )

    assert payload(attributes) == {}


@pytest.mark.parametrize(
    "make_capture",
    [
        lambda: MongoCapture(TraceConfig(mode="record", sample_rate=0)),
        lambda: _disabled(MongoCapture(TraceConfig(mode="record"))),
    ],
    ids=["not-sampled", "disabled"],
)
def test_an_unsampled_or_disabled_capture_records_nothing(
    make_capture: Callable[[], MongoCapture], tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    capture = make_capture()

    attributes = run_command(
        tracer,
        memory,
        (capture.request_hook, started(FIND)),
        (capture.failed_hook, failed(FAILURE)),
    )

    assert payload(attributes) == {}


def _disabled(capture: MongoCapture) -> MongoCapture:
    capture.enabled = False
    return capture


def test_a_remembered_server_hello_is_attached_to_commands_on_that_server(
    capture: MongoCapture, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    hello = {"isWritablePrimary": True, "setName": "rs0", "maxWireVersion": 21, "$clusterTime": 1}
    capture.remember_server(ADDRESS, hello)

    here = run_command(tracer, memory, (capture.request_hook, started(FIND)))
    memory.clear()
    elsewhere = run_command(tracer, memory, (capture.request_hook, started(FIND, ("other", 1))))

    assert bson.decode(here[attr.MONGO_SERVER]) == {
        "isWritablePrimary": True,
        "setName": "rs0",
        "maxWireVersion": 21,
    }
    assert attr.MONGO_SERVER not in elsewhere


def test_the_heartbeat_listener_is_registered_once_and_remembers_hello_replies(
    capture: MongoCapture,
    tracer: Tracer,
    memory: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(monitoring, "register", registered.append)

    capture.register_server_listener()
    capture.register_server_listener()
    (listener,) = registered
    hello = SimpleNamespace(document={"ismaster": True, "maxWireVersion": 17})
    listener.succeeded(SimpleNamespace(connection_id=ADDRESS, reply=hello))

    attributes = run_command(tracer, memory, (capture.request_hook, started(FIND)))
    assert bson.decode(attributes[attr.MONGO_SERVER]) == {"ismaster": True, "maxWireVersion": 17}


def test_a_broken_heartbeat_event_is_counted_and_never_raised(
    capture: MongoCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(monitoring, "register", registered.append)
    capture.register_server_listener()

    registered[0].succeeded(SimpleNamespace(connection_id=ADDRESS, reply=None))

    assert capture.failures.counts == {"mongo-heartbeat:AttributeError": 1}


@pytest.mark.parametrize(
    ("hook_name", "event", "cause"),
    [
        ("request_hook", started({"find": object()}), "mongo-command:InvalidDocument"),
        ("response_hook", SimpleNamespace(), "mongo-reply:AttributeError"),
        ("failed_hook", SimpleNamespace(), "mongo-failure:AttributeError"),
    ],
)
def test_a_hook_failure_is_counted_and_never_reaches_the_app(
    capture: MongoCapture,
    tracer: Tracer,
    memory: InMemorySpanExporter,
    hook_name: str,
    event: Any,
    cause: str,
) -> None:
    run_command(tracer, memory, (getattr(capture, hook_name), event))

    assert capture.failures.counts == {cause: 1}

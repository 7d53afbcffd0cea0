"""Fuzzed parsers: the cassette codec and loader, and the replay responder's wire parser.

Whatever bytes a cassette file holds, reading it either works or raises ``CassetteFormatError``
(one clear line in the CLI); whatever a client sends, the responder answers with a reply or an
error and keeps serving.
"""

from __future__ import annotations

import gzip
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bson
import pymongo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.unit.replay_support import PING, call_attributes, find_one_command, find_reply
from tests.unit.spans import local_provider, record_request
from timetracer.cassette.compression import compress
from timetracer.cassette.encoding import decode_cassette, encode_cassette, spans_to_traces_data
from timetracer.cassette.model import Cassette, attributes_of
from timetracer.cassette.otlp_json import traces_data_to_json
from timetracer.cassette.views import detail, summary
from timetracer.errors import CassetteFormatError
from timetracer_replay import wire
from timetracer_replay.answerer import Answerer
from timetracer_replay.scope import ScopeRouter
from timetracer_replay.wire_server import WireServer


def recorded_cassette_bytes() -> bytes:
    """Protobuf of a typical recorded request with two MongoDB calls."""
    memory = InMemorySpanExporter()
    provider = local_provider(memory)
    record_request(
        provider.get_tracer("fuzz"),
        calls=[
            call_attributes(PING),
            call_attributes(find_one_command("a"), reply=find_reply({"sku": "a", "n": 1})),
        ],
        query="page=2",
        request_body=b'{"sku": "a"}',
    )
    provider.shutdown()
    return spans_to_traces_data(memory.get_finished_spans()).SerializeToString()


PROTOBUF = recorded_cassette_bytes()
SEEDS = [
    PROTOBUF,
    compress(PROTOBUF, "gzip"),
    compress(PROTOBUF, "zstd"),
    traces_data_to_json(decode_cassette(PROTOBUF)).encode(),
]


def read_like_the_cli(raw: bytes) -> None:
    """What ``list`` and ``show`` do with a file: decode, build the view, render both views."""
    path = Path("fuzzed.cassette")
    cassette = Cassette.from_traces_data(decode_cassette(raw, source=path), path=path)
    summary(cassette)
    detail(cassette)


@st.composite
def mutated_cassettes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 16))]
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[position:]
        if not data:
            break
    return bytes(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated_cassettes(), st.binary(max_size=300)))
def test_reading_any_bytes_either_works_or_raises_cassette_format_error(raw: bytes) -> None:
    try:
        read_like_the_cli(raw)
    except CassetteFormatError as error:
        assert str(error).startswith("fuzzed.cassette: ")
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_under_a_gzip_header_are_refused_cleanly(noise: bytes) -> None:
    with pytest.raises(CassetteFormatError):
        read_like_the_cli(gzip.compress(noise)[:10] + noise)


# Attribute values the OpenTelemetry SDK accepts: scalars and homogeneous sequences.
SCALARS = [
    st.text(max_size=40),
    st.binary(max_size=40),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
]
ATTRIBUTE_VALUES = st.one_of(
    *SCALARS, *(st.lists(scalar, max_size=4).map(tuple) for scalar in SCALARS[:1] + SCALARS[2:])
)
ATTRIBUTES = st.dictionaries(
    st.text(min_size=1, max_size=20).map(lambda key: f"timetracer.payload.{key}"),
    ATTRIBUTE_VALUES,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    root=ATTRIBUTES,
    children=st.lists(ATTRIBUTES, max_size=3),
    codec=st.sampled_from(["gzip", "zstd", "none", "json"]),
)
def test_any_span_attribute_payload_round_trips_through_the_codec(
    root: dict[str, Any], children: list[dict[str, Any]], codec: str
) -> None:
    memory = InMemorySpanExporter()
    provider = local_provider(memory)
    tracer = provider.get_tracer("fuzz")
    with tracer.start_as_current_span("request", kind=SpanKind.SERVER, attributes=root):
        for attributes in children:
            tracer.start_span("call", kind=SpanKind.CLIENT, attributes=attributes).end()
    provider.shutdown()
    data = spans_to_traces_data(memory.get_finished_spans())

    raw = traces_data_to_json(data).encode() if codec == "json" else encode_cassette(data, codec)
    decoded = decode_cassette(raw)

    spans = [s for rs in decoded.resource_spans for ss in rs.scope_spans for s in ss.spans]
    by_name = {name: [attributes_of(s.attributes) for s in spans if s.name == name]
               for name in ("request", "call")}  # fmt: skip
    assert by_name == {"request": [root], "call": children}
    assert decoded == data


# --- the responder's parser, through a socket ---------------------------------------------


@pytest.fixture(scope="module")
def responder() -> Iterator[WireServer]:
    """The replay responder as ``timetracer replay`` runs it, with nothing recorded."""
    with WireServer(Answerer(ScopeRouter())) as server:
        yield server


def exchange(server: WireServer, message: bytes) -> tuple[wire.Header, dict[str, Any]]:
    """Send one message and read the one reply."""
    with socket.create_connection(server.address, timeout=5) as sock:
        sock.sendall(message)
        head = _recv(sock, 16)
        header = wire.parse_header(head)
        body = _recv(sock, header.body_length)
    if header.op_code == wire.OP_MSG:
        return header, bson.decode(body[5:])
    return header, bson.decode(body[20:])


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError(f"the responder closed the connection after {len(data)} bytes")
        data += chunk
    return data


COMMANDS = [
    {"ping": 1, "$db": "admin"},
    {"hello": 1, "$db": "admin"},
    {"find": "items", "filter": {"sku": "a"}, "$db": "shop"},
    {"insert": "items", "documents": [{"a": 1}], "$db": "shop"},
    {"getMore": bson.Int64(7), "collection": "items", "$db": "shop"},
]


@st.composite
def framed_op_msgs(draw: st.DrawFn) -> tuple[int, bytes]:
    """A correctly framed OP_MSG (no moreToCome: a reply is owed) with a damaged body."""
    body = bytearray(b"\x00" + bson.encode(draw(st.sampled_from(COMMANDS))))
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(body) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            body[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del body[position : position + draw(st.integers(1, 6))]
        else:
            body[position:position] = draw(st.binary(min_size=1, max_size=6))
        if not body:
            break
    flags = draw(st.sampled_from([0, wire.CHECKSUM_PRESENT, 1 << 20, wire.EXHAUST_ALLOWED]))
    request_id = draw(st.integers(1, 2**31 - 1))
    payload = struct.pack("<I", flags) + bytes(body)
    return request_id, struct.pack("<iiii", 16 + len(payload), request_id, 0, wire.OP_MSG) + payload


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(framed_op_msgs())
def test_a_malformed_message_always_gets_an_answer_to_its_own_request(
    responder: WireServer, message: tuple[int, bytes]
) -> None:
    request_id, raw = message

    header, reply = exchange(responder, raw)

    assert header.response_to == request_id
    assert reply["ok"] in (0, 1)
    if reply["ok"] == 0:
        assert isinstance(reply["errmsg"], str) and reply["errmsg"]
        assert isinstance(reply["code"], int)


def test_after_the_fuzzing_a_real_client_is_still_answered(responder: WireServer) -> None:
    host, port = responder.address
    uri = f"mongodb://{host}:{port}/?directConnection=true"
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=2000) as client:
        assert client.admin.command("ping")["ok"] == 1.0
        with pytest.raises(pymongo.errors.OperationFailure, match="timetracer replay miss"):
            client.shop.items.find_one({"sku": "nobody recorded this"})

"""``CollectReceiver`` over real loopback HTTP: OTLP/HTTP statuses, bodies and keep-alive."""

from __future__ import annotations

import gzip
import json
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request, spans_of
from timetracer.cassette.otlp_json import traces_data_to_json
from timetracer.cassette.reader import iter_cassette_paths, load_cassette
from timetracer.receiver import CollectReceiver, ReceiverError

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROTOBUF = {**AUTH, "Content-Type": "application/x-protobuf"}
JSON = {**AUTH, "Content-Type": "application/json"}
MAX_BODY = 256 * 1024
CALLS = [mongo_attributes({"find": "items"}, reply={"cursor": {"firstBatch": [], "id": 0}})]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[CollectReceiver]:
    receiver = CollectReceiver(
        tmp_path / "cassettes", port=0, token=TOKEN, max_body_bytes=MAX_BODY, settle_seconds=0
    )
    with receiver:
        yield receiver


@pytest.fixture
def client(receiver: CollectReceiver) -> Iterator[httpx.Client]:
    """One keep-alive connection for the whole test."""
    with httpx.Client(timeout=10) as client:
        yield client


def export_body(tracer: Tracer, memory: InMemorySpanExporter, path: str = "/items/7") -> bytes:
    """A protobuf ``ExportTraceServiceRequest`` holding one recorded request."""
    trace_id = record_request(tracer, calls=CALLS, path=path)
    return encode_spans(spans_of(memory.get_finished_spans(), trace_id)).SerializeToString()


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def cassettes(receiver: CollectReceiver) -> list[Path]:
    if not receiver.cassette_dir.exists():
        return []
    return list(iter_cassette_paths(receiver.cassette_dir))


def test_a_protobuf_export_is_answered_in_protobuf_and_written(
    receiver: CollectReceiver, client: httpx.Client, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    response = client.post(receiver.url, content=export_body(tracer, memory), headers=PROTOBUF)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert ExportTraceServiceResponse.FromString(response.content) == ExportTraceServiceResponse()
    wait_for(lambda: len(cassettes(receiver)) == 1)
    cassette = load_cassette(cassettes(receiver)[0])
    assert cassette.exchange is not None and cassette.exchange.path == "/items/7"
    assert [call.command_name for call in cassette.calls] == ["find"]


def test_an_otlp_json_export_with_hex_ids_is_answered_in_json(
    receiver: CollectReceiver, client: httpx.Client, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    trace_id = record_request(tracer, calls=CALLS)
    request = encode_spans(spans_of(memory.get_finished_spans(), trace_id))
    body = traces_data_to_json(request)  # same shape: one repeated resourceSpans field
    assert f'"{trace_id:032x}"' in body
    response = client.post(receiver.url, content=body, headers=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    wait_for(lambda: len(cassettes(receiver)) == 1)
    assert load_cassette(cassettes(receiver)[0]).trace_id == f"{trace_id:032x}"


@pytest.mark.parametrize(
    ("coding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)]
)
def test_compressed_exports_are_accepted(
    receiver: CollectReceiver,
    client: httpx.Client,
    tracer: Tracer,
    memory: InMemorySpanExporter,
    coding: str,
    compress: Callable[[bytes], bytes],
) -> None:
    body = compress(export_body(tracer, memory))
    headers = {**PROTOBUF, "Content-Encoding": coding}
    assert client.post(receiver.url, content=body, headers=headers).status_code == 200
    wait_for(lambda: len(cassettes(receiver)) == 1)


def test_the_sdk_otlp_exporter_with_a_bearer_header_succeeds(
    receiver: CollectReceiver, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    trace_id = record_request(tracer, calls=CALLS)
    exporter = OTLPSpanExporter(endpoint=receiver.url, headers=AUTH)
    try:
        result = exporter.export(spans_of(memory.get_finished_spans(), trace_id))
    finally:
        exporter.shutdown()
    assert result is SpanExportResult.SUCCESS
    wait_for(lambda: len(cassettes(receiver)) == 1)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_a_missing_or_wrong_token_is_401(
    receiver: CollectReceiver,
    client: httpx.Client,
    tracer: Tracer,
    memory: InMemorySpanExporter,
    authorization: str | None,
) -> None:
    headers = {"Content-Type": "application/x-protobuf"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.post(receiver.url, content=export_body(tracer, memory), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert Status.FromString(response.content).code == 16  # UNAUTHENTICATED
    assert receiver.stats.snapshot()["spans"] == 0


def test_the_bearer_scheme_is_case_insensitive(
    receiver: CollectReceiver, client: httpx.Client, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    headers = {"Content-Type": "application/x-protobuf", "Authorization": f"bearer {TOKEN}"}
    response = client.post(receiver.url, content=export_body(tracer, memory), headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["text/plain", "application/protobuf", "application/xml"])
def test_an_unsupported_content_type_is_415(
    receiver: CollectReceiver, client: httpx.Client, kind: str
) -> None:
    response = client.post(receiver.url, content=b"{}", headers={**AUTH, "Content-Type": kind})
    assert response.status_code == 415
    assert response.headers["content-type"] == "text/plain"
    assert "application/x-protobuf" in response.text


def test_an_unsupported_content_encoding_is_415_naming_the_accepted_ones(
    receiver: CollectReceiver, client: httpx.Client, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    headers = {**PROTOBUF, "Content-Encoding": "br"}
    response = client.post(receiver.url, content=export_body(tracer, memory), headers=headers)
    assert response.status_code == 415
    assert response.headers["accept-encoding"] == "gzip, deflate"


def test_a_body_over_the_limit_is_413(receiver: CollectReceiver, client: httpx.Client) -> None:
    response = client.post(receiver.url, content=b"\0" * (MAX_BODY + 1), headers=PROTOBUF)
    assert response.status_code == 413


def test_a_decompression_bomb_is_413(receiver: CollectReceiver, client: httpx.Client) -> None:
    bomb = gzip.compress(b"\0" * (64 * MAX_BODY))
    assert len(bomb) < MAX_BODY
    headers = {**PROTOBUF, "Content-Encoding": "gzip"}
    response = client.post(receiver.url, content=bomb, headers=headers)
    assert response.status_code == 413
    assert Status.FromString(response.content).message.startswith("body decompresses")


@pytest.mark.parametrize(
    ("headers", "body"),
    [(PROTOBUF, b"\xff\xff\xff"), (JSON, b'{"resourceSpans": [{"x": }'), (JSON, b"[1, 2]")],
)
def test_a_malformed_body_is_400_with_a_status_in_the_request_encoding(
    receiver: CollectReceiver, client: httpx.Client, headers: dict[str, str], body: bytes
) -> None:
    response = client.post(receiver.url, content=body, headers=headers)
    assert response.status_code == 400
    if headers is JSON:
        assert response.json()["code"] == 3
        assert "OTLP/JSON" in response.json()["message"]
    else:
        status = Status.FromString(response.content)
        assert (status.code, status.message[:20]) == (3, "invalid OTLP protobu")


def test_other_paths_are_404_and_other_methods_405(
    receiver: CollectReceiver, client: httpx.Client
) -> None:
    base = receiver.url.removesuffix("/v1/traces")
    assert client.post(f"{base}/v1/metrics", content=b"", headers=PROTOBUF).status_code == 404
    response = client.get(receiver.url)
    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_invalid_span_ids_are_reported_as_a_partial_success(
    receiver: CollectReceiver, client: httpx.Client, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    trace_id = record_request(tracer, calls=CALLS)
    request = encode_spans(spans_of(memory.get_finished_spans(), trace_id))
    request.resource_spans[0].scope_spans[0].spans[0].span_id = b"bad"
    response = client.post(receiver.url, content=request.SerializeToString(), headers=PROTOBUF)
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 1
    assert "invalid" in partial.error_message


def test_a_missing_content_length_is_411(receiver: CollectReceiver) -> None:
    host, port = receiver.address
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + TOKEN.encode()
            + b"\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 411")


def test_refused_requests_keep_the_connection_the_server_and_the_written_cassettes(
    receiver: CollectReceiver, client: httpx.Client, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    assert client.post(receiver.url, content=export_body(tracer, memory), headers=PROTOBUF)
    wait_for(lambda: len(cassettes(receiver)) == 1)
    [first] = cassettes(receiver)
    before = first.read_bytes()
    good = export_body(tracer, memory, path="/items/8")
    refusals = [
        client.post(receiver.url, content=good, headers={"Content-Type": "application/json"}),
        client.post(receiver.url, content=good, headers={**AUTH, "Content-Type": "text/csv"}),
        client.post(receiver.url, content=b"\xff" * 100, headers=PROTOBUF),
        client.post(receiver.url, content=b"\0" * (MAX_BODY + 1), headers=PROTOBUF),
        client.post(
            receiver.url,
            content=gzip.compress(b"\0" * (64 * MAX_BODY)),
            headers={**PROTOBUF, "Content-Encoding": "gzip"},
        ),
        client.post(receiver.url, content=b"{", headers=JSON),
    ]
    assert [r.status_code for r in refusals] == [401, 415, 400, 413, 413, 400]
    assert client.post(receiver.url, content=good, headers=PROTOBUF).status_code == 200
    wait_for(lambda: len(cassettes(receiver)) == 2)
    assert first.read_bytes() == before
    stats = receiver.stats.snapshot()
    assert (stats["requests"], stats["rejected_requests"], stats["written"]) == (2, 6, 2)


def test_close_writes_every_trace_whose_root_arrived_and_counts_the_rest(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    receiver = CollectReceiver(tmp_path, port=0, settle_seconds=3600).start()
    complete = export_body(tracer, memory)
    orphan_id = record_request(tracer, calls=CALLS)
    children = [s for s in spans_of(memory.get_finished_spans(), orphan_id) if s.parent]
    headers = {"Content-Type": "application/x-protobuf"}
    with httpx.Client(timeout=10) as client:
        assert client.post(receiver.url, content=complete, headers=headers).status_code == 200
        orphan = encode_spans(children).SerializeToString()
        assert client.post(receiver.url, content=orphan, headers=headers).status_code == 200
        assert list(tmp_path.iterdir()) == []  # still settling
        receiver.close()
        receiver.close()  # idempotent
    assert len(list(iter_cassette_paths(tmp_path))) == 1
    assert receiver.stats.snapshot()["dropped_at_shutdown"] == 1


def test_an_address_in_use_is_a_receiver_error(receiver: CollectReceiver, tmp_path: Path) -> None:
    host, port = receiver.address
    with pytest.raises(ReceiverError, match=f"{host}:{port}"):
        CollectReceiver(tmp_path, host=host, port=port).start()


def test_the_url_names_the_bound_port(receiver: CollectReceiver) -> None:
    host, port = receiver.address
    assert host == "127.0.0.1" and port > 0
    assert receiver.url == f"http://127.0.0.1:{port}/v1/traces"
    assert json.dumps(receiver.stats.snapshot())  # plain counters, ready to print

"""The receiver's defences: loopback unless told otherwise (with a warning when exposed without
a token), token auth, and size limits on bodies both as sent and once decompressed."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import record_request
from timetracer.cli.main import build_parser, main
from timetracer.receiver import CollectReceiver

TOKEN = "t0ken-for-the-hardening-tests"
MAX_BODY = 64 * 1024
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def non_loopback_address() -> str | None:
    """An address of this machine that other machines could reach, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routes, sends nothing (UDP connect)
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def test_the_receiver_listens_on_loopback_unless_told_otherwise() -> None:
    assert CollectReceiver("unused").address == ("127.0.0.1", 4318)
    args = build_parser().parse_args(["collect", "--dir", "unused"])
    assert args.listen == ("127.0.0.1", 4318)
    assert args.token is None


def test_a_started_receiver_cannot_be_reached_from_another_address(tmp_path: Path) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    with CollectReceiver(tmp_path, port=0) as receiver:
        host, port = receiver.address
        assert host == "127.0.0.1"
        with socket.socket() as outsider:
            outsider.settimeout(2)
            assert outsider.connect_ex((address, port)) != 0


def test_listening_beyond_loopback_without_a_token_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def stop_soon() -> None:
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_soon)
    stopper.start()
    code = main(["collect", "--dir", str(tmp_path), "--listen", "0.0.0.0:0"])
    stopper.join(5)

    assert code == 0
    assert "warning: listening on 0.0.0.0 without --token" in capsys.readouterr().err


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[CollectReceiver]:
    with CollectReceiver(
        tmp_path / "cassettes", port=0, token=TOKEN, max_body_bytes=MAX_BODY, settle_seconds=0
    ) as running:
        yield running


def export_body(tracer: Tracer, memory: InMemorySpanExporter) -> bytes:
    record_request(tracer)
    return encode_spans(memory.get_finished_spans()).SerializeToString()


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN],
)
def test_only_the_right_bearer_token_is_let_in_and_nothing_is_written_otherwise(
    receiver: CollectReceiver,
    tracer: Tracer,
    memory: InMemorySpanExporter,
    authorization: str | None,
) -> None:
    headers = dict(PROTOBUF)
    if authorization is not None:
        headers["Authorization"] = authorization

    response = httpx.post(receiver.url, content=export_body(tracer, memory), headers=headers)

    assert response.status_code == 401
    receiver.close()
    assert not receiver.cassette_dir.exists()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", lambda data: zlib.compress(data, wbits=31)), ("deflate", zlib.compress)],
)
def test_a_body_that_decompresses_past_the_limit_is_413_without_inflating_it(
    receiver: CollectReceiver, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(b"\0" * (1024 * MAX_BODY))
    assert len(bomb) < MAX_BODY
    headers = {**PROTOBUF, "Authorization": f"Bearer {TOKEN}", "Content-Encoding": encoding}

    response = httpx.post(receiver.url, content=bomb, headers=headers)

    assert response.status_code == 413


def test_a_body_over_the_limit_is_refused_before_it_is_read(receiver: CollectReceiver) -> None:
    headers = {**PROTOBUF, "Authorization": f"Bearer {TOKEN}"}

    response = httpx.post(receiver.url, content=b"\0" * (MAX_BODY + 1), headers=headers)

    assert response.status_code == 413
    assert receiver.stats.snapshot()["rejected_requests"] == 1

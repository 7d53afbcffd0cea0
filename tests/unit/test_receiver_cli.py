"""``timetracer collect``: arguments, the closing summary, and a run stopped by SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request, spans_of
from timetracer.cli.collect_cmd import is_loopback, parse_listen, summary
from timetracer.cli.main import main
from timetracer.receiver.stats import ReceiverStats


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:4318", ("127.0.0.1", 4318)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:4319", ("::1", 4319)),
        ("localhost:80", ("localhost", 80)),
        (":4318", ("127.0.0.1", 4318)),
    ],
)
def test_listen_addresses_parse(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["4318", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", ""])
def test_bad_listen_addresses_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="HOST:PORT"):
        parse_listen(text)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("collector.internal", False)],
)  # fmt: skip
def test_loopback_hosts_are_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_summary_names_what_was_written_and_only_the_losses_that_happened() -> None:
    stats = ReceiverStats()
    assert (
        summary(stats.snapshot(), Path("out")) == "timetracer collect: wrote 0 cassette(s) to out"
    )
    stats.add(written=3, requests=4, late_spans=2, expired=1)
    assert summary(stats.snapshot(), Path("out")) == (
        "timetracer collect: wrote 3 cassette(s) to out (4 request(s) accepted, "
        "2 late span(s), 1 trace(s) expired without a root)"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["collect"],
        ["collect", "--dir", "x", "--listen", "nowhere"],
        ["collect", "--dir", "x", "--max-body-bytes", "0"],
        ["collect", "--dir", "x", "--settle", "-1"],
        ["collect", "--dir", "x", "--compression", "brotli"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    assert "timetracer:" in capsys.readouterr().err


def test_an_address_in_use_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["collect", "--dir", str(tmp_path), "--listen", f"127.0.0.1:{port}"]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_sigterm_writes_what_is_held_and_prints_each_cassette_and_a_summary(
    tmp_path: Path,
    tracer: Tracer,
    memory: InMemorySpanExporter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    trace_id = record_request(tracer, calls=[mongo_attributes({"find": "items"}, reply={})])
    body = encode_spans(spans_of(memory.get_finished_spans(), trace_id)).SerializeToString()
    answers: list[int] = []

    def client() -> None:
        url = f"http://127.0.0.1:{port}/v1/traces"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                response = httpx.post(
                    url, content=body, headers={"Content-Type": "application/x-protobuf"}
                )
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            answers.append(response.status_code)
            break
        # The root is still settling: only the shutdown flush can write it.
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    sender = threading.Thread(target=client)
    sender.start()
    code = main(
        ["collect", "--dir", str(tmp_path), "--listen", f"127.0.0.1:{port}", "--settle", "3600"]
    )
    sender.join(10)
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert answers == [200]
    assert out[0] == (
        f"timetracer collect: listening on http://127.0.0.1:{port}/v1/traces, writing to {tmp_path}"
    )
    [cassette] = list(tmp_path.glob("*.cassette"))
    assert out[1] == f"timetracer collect: wrote {cassette} (2 spans)"
    assert out[2] == (
        f"timetracer collect: wrote 1 cassette(s) to {tmp_path} (1 request(s) accepted)"
    )
    assert signal.getsignal(signal.SIGTERM) is before  # put back as it was

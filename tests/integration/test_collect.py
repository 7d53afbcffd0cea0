"""``timetracer collect`` as users run it: the real CLI on loopback, fed by the SDK's own
OTLP/HTTP exporter inside an app started by ``opentelemetry-instrument uvicorn``."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.integration.launcher import BIN, launched_app
from tests.integration.recordings import SEEDED, drive_scenario, record_env
from tests.integration.test_record_launcher import batches, by_request
from tests.support.nx_server import MongoEndpoint
from tests.unit.spans import local_provider, mongo_attributes, record_request
from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette

APP = "tests.apps.shop:app"
TOKEN = "integration-token"
LISTENING = re.compile(r"^timetracer collect: listening on (http://\S+/v1/traces), writing to ")


@dataclass
class Collector:
    """A running ``timetracer collect``: where it listens and what it printed."""

    url: str
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def output(self) -> str:
        return self.out.read_text(errors="replace")


@contextmanager
def collect(workdir: Path, cassettes: Path, *options: str) -> Iterator[Collector]:
    """Run ``timetracer collect --dir CASSETTES --listen 127.0.0.1:0 OPTIONS``; stop it with
    SIGTERM (by its pid) when the block ends."""
    out, err = workdir / "collect.out", workdir / "collect.err"
    command = [str(BIN / "timetracer"), "collect", "--dir", str(cassettes)]
    command += ["--listen", "127.0.0.1:0", *options]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=workdir)
    try:
        deadline = time.monotonic() + 30
        while not (match := LISTENING.match(out.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"timetracer collect did not start:\n{err.read_text()}")
            time.sleep(0.05)
        yield Collector(match.group(1), process, out, err)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def load_all(directory: Path) -> dict[str, Cassette]:
    return {c.trace_id: c for c in map(load_cassette, iter_cassette_paths(directory))}


def spans(cassette: Cassette) -> list[bytes]:
    """Every span of a cassette, serialized, in a stable order."""
    return sorted(
        span.SerializeToString()
        for resource_spans in cassette.data.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    )


def calls(cassette: Cassette) -> list[tuple[object, ...]]:
    return [
        (c.command_name, c.database, c.collection, c.command_bson, c.reply_bson, c.failure_bson)
        for c in cassette.calls
    ]


@pytest.mark.parametrize(
    ("framework", "driver", "compression"),
    [("starlette", "pymongo", "none"), ("fastapi", "motor", "gzip")],
)
def test_cassettes_from_the_sdk_otlp_exporter_match_the_in_process_ones(
    framework: str, driver: str, compression: str, mongo: MongoEndpoint, tmp_path: Path
) -> None:
    in_process, received = tmp_path / "in-process", tmp_path / "received"
    with collect(tmp_path, received, "--token", TOKEN, "--settle", "0.5") as collector:
        env = record_env(framework, driver, mongo, in_process)
        env.update(
            {
                "TT_APP_DB": f"collect_{framework}_{driver}",
                "OTEL_TRACES_EXPORTER": "timetracer,otlp_proto_http",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": collector.url,
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"Authorization=Bearer%20{TOKEN}",
                "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": compression,
            }
        )
        with launched_app(APP, env, tmp_path) as app:
            sent = drive_scenario(app.base_url)
    assert collector.process.returncode == 0, collector.err.read_text()

    expected, got = load_all(in_process), load_all(received)
    assert len(expected) == sent, app.output()
    assert got.keys() == expected.keys(), collector.output()
    # Same names: both sides name a cassette from its root span the same way.
    assert {p.name for p in iter_cassette_paths(received)} == {
        p.name for p in iter_cassette_paths(in_process)
    }
    for trace_id, cassette in expected.items():
        other = got[trace_id]
        assert other.exchange == cassette.exchange, trace_id
        assert calls(other) == calls(cassette), trace_id
        assert spans(other) == spans(cassette), trace_id
        assert other.resource == cassette.resource
    summary = collector.output().splitlines()[-1]
    assert summary.startswith(f"timetracer collect: wrote {sent} cassette(s) to {received}")
    assert "late span" not in summary and "dropped" not in summary


def test_record_mode_with_only_the_otlp_exporter_carries_the_full_payloads(
    mongo: MongoEndpoint, tmp_path: Path
) -> None:
    in_process, received = tmp_path / "in-process", tmp_path / "received"
    with collect(tmp_path, received) as collector:
        env = record_env("litestar", "async", mongo, in_process)
        env.update(
            {
                "TT_APP_DB": "collect_otlp_only",
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url.removesuffix("/v1/traces"),
            }
        )
        with launched_app(APP, env, tmp_path) as app:
            sent = drive_scenario(app.base_url)
    assert not in_process.exists()  # no cassette exporter in this process
    cassettes = list(load_all(received).values())
    assert len(cassettes) == sent, collector.output() + app.output()
    recorded = by_request(cassettes)
    listing = recorded[("GET", "/items")]
    assert sum(batches(listing)) == SEEDED
    assert "getMore" in [c.command_name for c in listing.calls]
    created = recorded[("POST", "/items")]
    assert b'"new-1"' in (created.exchange.request_body or b"")
    assert created.calls[0].command["documents"][0]["sku"] == "new-1"
    one = recorded[("GET", "/items/sku-0001")]
    assert dict(one.exchange.request_headers)["authorization"] == "[REDACTED]"
    assert recorded[("GET", "/boom")].is_error


def test_refused_requests_leave_the_receiver_serving_and_its_cassettes_intact(
    tmp_path: Path,
) -> None:
    memory = InMemorySpanExporter()
    provider = local_provider(memory)
    tracer = provider.get_tracer("tests.integration")
    ids = [
        record_request(tracer, calls=[mongo_attributes({"find": "items"}, reply={"ok": 1})])
        for _ in range(2)
    ]
    provider.shutdown()
    bodies = [
        encode_spans(
            [s for s in memory.get_finished_spans() if s.context.trace_id == trace_id]
        ).SerializeToString()
        for trace_id in ids
    ]
    received = tmp_path / "received"
    good = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {TOKEN}"}
    options = ("--token", TOKEN, "--settle", "0", "--max-body-bytes", "100000")
    with collect(tmp_path, received, *options) as collector, httpx.Client(timeout=10) as client:
        assert client.post(collector.url, content=bodies[0], headers=good).status_code == 200
        deadline = time.monotonic() + 10
        while not list(received.glob("*.cassette")):
            assert time.monotonic() < deadline, collector.output()
            time.sleep(0.05)
        [first] = received.glob("*.cassette")
        before = first.read_bytes()
        no_token = {"Content-Type": "application/x-protobuf"}
        wrong_type = {**good, "Content-Type": "text/plain"}
        bomb = gzip.compress(b"\0" * 50_000_000)
        answers = [
            client.post(collector.url, content=bodies[1], headers=no_token).status_code,
            client.post(
                collector.url, content=bodies[1], headers={**good, "Authorization": "Bearer x"}
            ).status_code,
            client.post(collector.url, content=bodies[1], headers=wrong_type).status_code,
            client.post(collector.url, content=b"\x0a\xff\xff", headers=good).status_code,
            client.post(collector.url, content=b"\0" * 100_001, headers=good).status_code,
            client.post(
                collector.url, content=bomb, headers={**good, "Content-Encoding": "gzip"}
            ).status_code,
        ]
        assert answers == [401, 401, 415, 400, 413, 413]
        assert client.post(collector.url, content=bodies[1], headers=good).status_code == 200
    assert collector.process.returncode == 0
    assert first.read_bytes() == before
    assert {c.trace_id for c in load_all(received).values()} == {f"{i:032x}" for i in ids}
    assert collector.output().splitlines()[-1] == (
        f"timetracer collect: wrote 2 cassette(s) to {received} "
        "(2 request(s) accepted, 6 request(s) refused)"
    )


def test_collect_stops_on_sigint_too(tmp_path: Path) -> None:
    with collect(tmp_path, tmp_path / "received") as collector:
        os.kill(collector.process.pid, signal.SIGINT)
        assert collector.process.wait(timeout=30) == 0
    assert "wrote 0 cassette(s)" in collector.output()
    assert "Traceback" not in collector.err.read_text()

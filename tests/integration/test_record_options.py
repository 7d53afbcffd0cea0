"""Record-mode options and failure behaviour under the real launcher."""

from __future__ import annotations

from pathlib import Path

import httpx
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanPb

from tests.integration.launcher import launched_app, run_to_exit
from tests.integration.otlp_sink import otlp_sink
from tests.integration.recordings import record_env
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import iter_cassette_paths, load_cassette

APP = "tests.apps.shop:app"


def send(base_url: str, paths: list[str]) -> list[int]:
    # A fresh connection per request: uvicorn closes a connection after an app exception.
    statuses = []
    for path in paths:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            statuses.append(client.get(path).status_code)
    return statuses


def test_fastapi_records_one_trace_per_request_and_coexists_with_another_exporter(
    mongo: MongoEndpoint, tmp_path: Path
) -> None:
    cassette_dir = tmp_path / "cassettes"
    env = record_env("fastapi", "async", mongo, cassette_dir)
    env["TT_APP_DB"] = "options_fastapi"  # empty: the shared recordings seed their own databases
    env["TIMETRACER_EXCLUDE_PATHS"] = "none"  # /health is excluded by default
    with otlp_sink() as sink:
        env["OTEL_TRACES_EXPORTER"] = "timetracer,otlp_proto_http"
        env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = sink.endpoint
        with launched_app(APP, env, tmp_path) as app:
            assert send(app.base_url, ["/stats", "/items/sku-0001", "/health"]) == [200, 404, 200]
    server = SpanPb.SpanKind.SPAN_KIND_SERVER
    server_traces = {s.trace_id.hex() for s in sink.spans if s.kind == server}
    request_traces = {s.trace_id.hex() for s in sink.spans if s.parent_span_id or s.kind == server}
    # Three requests, three traces: FastAPI's native tracing stood aside for the instrumentor.
    assert len(server_traces) == 3
    assert request_traces == server_traces
    cassettes = [load_cassette(p) for p in iter_cassette_paths(cassette_dir)]
    assert {c.trace_id for c in cassettes} == server_traces
    # The backend received the same payload attributes the cassettes hold.
    payload_keys = {kv.key for s in sink.spans for kv in s.attributes}
    assert "timetracer.payload.mongo.reply" in payload_keys
    assert "timetracer.payload.http.response.body" in payload_keys


def test_errors_only_keeps_only_failed_requests(mongo: MongoEndpoint, tmp_path: Path) -> None:
    cassette_dir = tmp_path / "cassettes"
    env = record_env("starlette", "pymongo", mongo, cassette_dir)
    env["TT_APP_DB"] = "options_errors"
    env["TIMETRACER_ERRORS_ONLY"] = "true"
    with launched_app(APP, env, tmp_path) as app:
        assert send(app.base_url, ["/stats", "/boom", "/items/nope", "/boom"]) == [
            200,
            500,
            404,
            500,
        ]
    cassettes = [load_cassette(p) for p in iter_cassette_paths(cassette_dir)]
    assert [c.exchange.path for c in cassettes] == ["/boom", "/boom"]
    assert all(c.is_error for c in cassettes)


def test_sample_rate_zero_records_nothing_and_serves_everything(
    mongo: MongoEndpoint, tmp_path: Path
) -> None:
    cassette_dir = tmp_path / "cassettes"
    env = record_env("litestar", "async", mongo, cassette_dir)
    env["TT_APP_DB"] = "options_sampling"
    env["TIMETRACER_SAMPLE_RATE"] = "0"
    with launched_app(APP, env, tmp_path) as app:
        assert send(app.base_url, ["/stats", "/items/sku-0001", "/health"]) == [200, 404, 200]
    assert not cassette_dir.exists() or list(iter_cassette_paths(cassette_dir)) == []


def test_unwritable_directory_keeps_serving_and_logs_once(
    mongo: MongoEndpoint, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cassette directory should be")
    env = record_env("starlette", "async", mongo, blocker / "cassettes")
    with launched_app(APP, env, tmp_path) as app:
        assert send(app.base_url, ["/stats"] * 5) == [200] * 5
    log = app.output()
    assert log.count("could not write a cassette") == 1, log


def test_bad_value_stops_startup_naming_variable_value_and_choices(tmp_path: Path) -> None:
    env = {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_COMPRESSION": "brotli",
    }
    result = run_to_exit(APP, env, tmp_path)
    assert result.returncode == 2
    assert "TIMETRACER_COMPRESSION='brotli'" in result.stderr
    assert "gzip | zstd | none" in result.stderr
    assert "Traceback" not in result.stderr

"""What recording leaves alone: excluded paths (and their MongoDB calls), websockets, lifespan.

Each is passed through exactly as without timetracer, and none of them becomes a cassette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import anyio.to_thread
import pytest
from opentelemetry.trace import SpanKind

from tests.apps.transparency import FRAMEWORKS, Observer, build_app
from tests.unit.transparency_support import (
    Instrumented,
    lifespan_cycle,
    recording,
    serve,
    websocket_session,
)
from timetracer import attributes as attr
from timetracer import envvars
from timetracer.capture.exclusion import in_unrecorded_request, unrecorded_request
from timetracer.capture.mongo import MongoCapture
from timetracer.config import DEFAULT_EXCLUDE_PATHS, TraceConfig
from timetracer.errors import ConfigError

pytestmark = pytest.mark.anyio

FIND = {"find": "items", "filter": {"sku": "A-1"}, "$db": "shop"}


def mongo_probe(instrumented: Instrumented, config: TraceConfig) -> Callable[[str], None]:
    """A probe that runs one MongoDB ``find`` in the request, through timetracer's hooks,
    the way the pymongo instrumentor calls them."""
    capture = MongoCapture(config)
    tracer = instrumented.provider.get_tracer("tests.pymongo")

    def find(_path: str) -> None:
        with tracer.start_as_current_span("find", kind=SpanKind.CLIENT) as span:
            capture.request_hook(
                span,
                SimpleNamespace(
                    command=FIND, command_name="find", database_name="shop", connection_id=None
                ),
            )
            capture.response_hook(span, SimpleNamespace(reply={"ok": 1.0}, connection_id=None))

    return find


def payload_keys(instrumented: Instrumented) -> set[str]:
    return {
        key
        for span in instrumented.spans.get_finished_spans()
        for key in (span.attributes or {})
        if key.startswith(attr.PREFIX)
    }


@pytest.fixture
def config() -> TraceConfig:
    return TraceConfig(mode="record")


@pytest.fixture
def recorder(tmp_path: Path, config: TraceConfig) -> Iterator[Instrumented]:
    with recording(tmp_path / "cassettes", config) as on:
        yield on


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_an_excluded_path_passes_through_and_makes_no_cassette_with_its_mongo_calls(
    framework: str, recorder: Instrumented, config: TraceConfig
) -> None:
    seen_off = Observer()
    seen_on = Observer(probe=mongo_probe(recorder, config))

    off = await serve(build_app(framework, seen_off), "GET", "/health")
    on = await serve(recorder.app(framework, seen_on), "GET", "/health")

    assert on == off
    assert seen_on.requests == seen_off.requests
    assert payload_keys(recorder) == set()
    assert recorder.cassettes() == []
    # The request still has its ordinary spans for any other exporter.
    assert {span.name for span in recorder.spans.get_finished_spans()} == {"GET /health", "find"}


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_path_that_is_not_excluded_records_the_request_and_its_mongo_calls(
    framework: str, recorder: Instrumented, config: TraceConfig
) -> None:
    seen = Observer(probe=mongo_probe(recorder, config))

    await serve(recorder.app(framework, seen), "POST", "/echo", chunks=[b"hi"])

    (cassette,) = recorder.cassettes()
    assert cassette.exchange is not None and cassette.exchange.path == "/echo"
    assert [call.command_name for call in cassette.calls] == ["find"]


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        (("/internal/*",), "/internal/jobs/7", True),
        (("/internal/*",), "/internal", False),
        (("/v?/status",), "/v2/status", True),
        (("*.png",), "/static/logo.png", True),
        ((), "/health", False),
    ],
)
async def test_glob_patterns_decide_which_requests_are_recorded(
    tmp_path: Path, patterns: tuple[str, ...], path: str, excluded: bool
) -> None:
    config = TraceConfig(mode="record", exclude_paths=patterns)
    with recording(tmp_path / "cassettes", config) as recorder:
        client = await serve(recorder.app("starlette", Observer()), "GET", path)
        cassettes = recorder.cassettes()

    assert client.status in (200, 404)
    assert len(cassettes) == (0 if excluded else 1)


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_websockets_pass_through_unrecorded(framework: str, recorder: Instrumented) -> None:
    seen_off, seen_on = Observer(), Observer()
    texts = ["hello", "wörld", "x" * 70_000]

    off = await websocket_session(build_app(framework, seen_off), "/ws", texts)
    on = await websocket_session(recorder.app(framework, seen_on), "/ws", texts)

    assert on == off
    assert [m.get("text") for m in on if m["type"] == "websocket.send"] == [
        t.upper() for t in texts
    ]
    assert seen_on.websocket == seen_off.websocket == texts
    assert payload_keys(recorder) == set()
    assert recorder.cassettes() == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_lifespan_events_pass_through_unrecorded(
    framework: str, recorder: Instrumented
) -> None:
    seen_off, seen_on = Observer(), Observer()

    off = await lifespan_cycle(build_app(framework, seen_off))
    on = await lifespan_cycle(recorder.app(framework, seen_on))

    assert on == off
    assert [m["type"] for m in on] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen_on.lifespan == seen_off.lifespan == ["startup", "shutdown"]
    assert recorder.spans.get_finished_spans() == ()
    assert recorder.cassettes() == []


async def test_the_unrecorded_mark_reaches_worker_threads_and_ends_with_the_request() -> None:
    with unrecorded_request():
        in_thread = await anyio.to_thread.run_sync(in_unrecorded_request)

    assert in_thread is True
    assert in_unrecorded_request() is False


def test_health_and_metrics_endpoints_are_excluded_by_default() -> None:
    config = TraceConfig.from_env({})

    assert config.exclude_paths == DEFAULT_EXCLUDE_PATHS
    assert all(config.excludes(p) for p in ("/health", "/healthz", "/livez", "/readyz"))
    assert config.excludes("/metrics")
    assert not config.excludes("/metrics/cpu")
    assert not config.excludes("/items")


def test_setting_exclude_paths_replaces_the_default() -> None:
    config = TraceConfig.from_env({envvars.TIMETRACER_EXCLUDE_PATHS: " /ping , /internal/* ,"})

    assert config.exclude_paths == ("/ping", "/internal/*")
    assert config.excludes("/internal/a/b")
    assert not config.excludes("/health")


@pytest.mark.parametrize("raw", ["none", "None", " NONE "])
def test_none_excludes_nothing(raw: str) -> None:
    config = TraceConfig.from_env({envvars.TIMETRACER_EXCLUDE_PATHS: raw})

    assert config.exclude_paths == ()
    assert not config.excludes("/health")


@pytest.mark.parametrize("raw", ["", "   "])
def test_an_empty_value_keeps_the_default(raw: str) -> None:
    config = TraceConfig.from_env({envvars.TIMETRACER_EXCLUDE_PATHS: raw})

    assert config.exclude_paths == DEFAULT_EXCLUDE_PATHS


@pytest.mark.parametrize("raw", ["health", "/ok,metrics", "none,/health"])
def test_a_pattern_that_cannot_match_a_path_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TraceConfig.from_env({envvars.TIMETRACER_MODE: "record", "TIMETRACER_EXCLUDE_PATHS": raw})

    assert caught.value.variable == envvars.TIMETRACER_EXCLUDE_PATHS
    assert "starting with /" in str(caught.value)


def test_a_bad_pattern_given_in_code_is_refused() -> None:
    with pytest.raises(ConfigError, match="exclude_paths"):
        TraceConfig(exclude_paths=("health",))

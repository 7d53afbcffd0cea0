"""``timetracer.distro``: environment defaults per mode, and hooks handed to instrumentors.

``TimetracerDistro`` is a singleton; the ``distro`` fixture gives each test a fresh instance and
puts the original back afterwards. ``pymongo.monitoring.register`` is replaced, since pymongo
cannot unregister a listener.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import monitoring

from timetracer import distro as distro_module
from timetracer import envvars
from timetracer.capture.instrumentor import link_server_span
from timetracer.capture.mongo import MongoCapture
from timetracer.config import Mode, TraceConfig
from timetracer.distro import TimetracerDistro
from timetracer.errors import CassetteNotFoundError, ConfigError

OTEL_DEFAULTS = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_QUEUE_SIZE",
)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    listeners: list[Any] = []
    monkeypatch.setattr(monitoring, "register", listeners.append)
    return listeners


@pytest.fixture
def distro(monkeypatch: pytest.MonkeyPatch, registered: list[Any]) -> Iterator[TimetracerDistro]:
    monkeypatch.setattr(TimetracerDistro, "_instance", None)
    for name in OTEL_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    yield TimetracerDistro()


def use_mode(monkeypatch: pytest.MonkeyPatch, distro: TimetracerDistro, mode: str) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_MODE, mode)
    distro._config = None  # read the environment again


class FakeInstrumentor:
    """Records the keyword arguments ``instrument`` was called with."""

    calls: list[dict[str, Any]] = []

    def instrument(self, **kwargs: Any) -> None:
        FakeInstrumentor.calls.append(kwargs)


class FakeEntryPoint:
    def __init__(self, name: str) -> None:
        self.name = name
        self.loaded = False

    def load(self) -> type[FakeInstrumentor]:
        self.loaded = True
        return FakeInstrumentor


@pytest.fixture(autouse=True)
def forget_instrument_calls() -> None:
    FakeInstrumentor.calls = []


def test_the_distro_is_a_singleton(distro: TimetracerDistro) -> None:
    assert TimetracerDistro() is distro


@pytest.mark.parametrize("name", ["starlette", "fastapi", "litestar"])
def test_asgi_instrumentors_get_the_server_span_link_and_no_receive_send_spans(
    distro: TimetracerDistro, name: str
) -> None:
    options = distro._record_options(name, TraceConfig(mode="record"))

    assert options == {
        "server_request_hook": link_server_span,
        "exclude_spans": ["receive", "send"],
    }


def test_the_capture_instrumentor_gets_the_config(distro: TimetracerDistro) -> None:
    config = TraceConfig(mode="record", max_body_bytes=10)

    assert distro._record_options("timetracer_capture", config) == {"config": config}


def test_pymongo_gets_the_hooks_of_one_shared_capture_and_one_listener(
    distro: TimetracerDistro, registered: list[Any]
) -> None:
    config = TraceConfig(mode="record")

    first = distro._record_options("pymongo", config)
    second = distro._record_options("pymongo", config)

    capture = first["request_hook"].__self__
    assert isinstance(capture, MongoCapture)
    assert capture.config is config
    assert first == {
        "request_hook": capture.request_hook,
        "response_hook": capture.response_hook,
        "failed_hook": capture.failed_hook,
    }
    assert second["request_hook"].__self__ is capture
    assert len(registered) == 1


def test_other_instrumentors_get_nothing_extra(distro: TimetracerDistro) -> None:
    assert distro._record_options("requests", TraceConfig(mode="record")) == {}


@pytest.mark.parametrize("mode", ["off", "replay"])
def test_the_capture_instrumentor_is_skipped_unless_recording(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    use_mode(monkeypatch, distro, mode)
    entry_point = FakeEntryPoint("timetracer_capture")

    distro.load_instrumentor(entry_point)

    assert not entry_point.loaded
    assert FakeInstrumentor.calls == []


def test_with_mode_off_other_instrumentors_load_without_hooks(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_mode(monkeypatch, distro, "off")

    distro.load_instrumentor(FakeEntryPoint("starlette"), skip_dep_check=True)

    assert FakeInstrumentor.calls == [{"skip_dep_check": True}]


def test_in_record_mode_hooks_are_added_to_the_callers_arguments(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_mode(monkeypatch, distro, "record")

    distro.load_instrumentor(FakeEntryPoint("fastapi"), skip_dep_check=True)
    distro.load_instrumentor(FakeEntryPoint("timetracer_capture"))

    assert FakeInstrumentor.calls == [
        {
            "skip_dep_check": True,
            "server_request_hook": link_server_span,
            "exclude_spans": ["receive", "send"],
        },
        {"config": distro.config},
    ]


def test_the_config_is_read_once_from_the_environment(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_mode(monkeypatch, distro, "record")
    config = distro.config
    monkeypatch.setenv(envvars.TIMETRACER_MODE, "off")

    assert distro.config is config
    assert config.mode is Mode.RECORD


def test_record_mode_sets_the_cassette_exporter_and_queue_defaults(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_MODE, "record")

    distro._configure()

    assert {name: os.environ[name] for name in OTEL_DEFAULTS} == {
        "OTEL_TRACES_EXPORTER": "timetracer",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BSP_MAX_QUEUE_SIZE": "16384",
    }
    assert distro.config.recording


def test_what_the_user_set_wins_over_the_distros_defaults(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_MODE, "record")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "timetracer,otlp")

    distro._configure()

    assert os.environ["OTEL_TRACES_EXPORTER"] == "timetracer,otlp"


def test_replay_mode_exports_nothing_by_default(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_MODE, "replay")

    distro._configure()

    assert os.environ["OTEL_TRACES_EXPORTER"] == "none"
    assert "OTEL_BSP_SCHEDULE_DELAY" not in os.environ


def test_off_mode_sets_nothing(distro: TimetracerDistro) -> None:
    distro._configure()

    assert not any(name in os.environ for name in OTEL_DEFAULTS)


def test_a_bad_value_in_record_mode_stops_start_up(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[ConfigError] = []
    monkeypatch.setattr(distro_module, "stop_startup", stopped.append)
    monkeypatch.setenv(envvars.TIMETRACER_MODE, "record")
    monkeypatch.setenv(envvars.TIMETRACER_COMPRESSION, "brotli")

    distro._configure()

    assert [error.variable for error in stopped] == [envvars.TIMETRACER_COMPRESSION]
    assert "OTEL_TRACES_EXPORTER" not in os.environ


def test_stop_startup_prints_the_error_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    exits: list[int] = []
    monkeypatch.setattr(distro_module.os, "_exit", exits.append)

    distro_module.stop_startup(ConfigError("TIMETRACER_MODE", "rewind", "off | record | replay"))

    assert exits == [2]
    assert capsys.readouterr().err == (
        "timetracer: TIMETRACER_MODE='rewind' is not valid: expected off | record | replay\n"
    )


class MissingCassettesInstrumentor:
    def instrument(self, **kwargs: Any) -> None:
        raise CassetteNotFoundError("/srv/cassettes")


def test_replay_that_cannot_load_its_cassettes_stops_start_up(
    distro: TimetracerDistro, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[Exception] = []
    monkeypatch.setattr(distro_module, "stop_startup", stopped.append)
    use_mode(monkeypatch, distro, "replay")
    entry_point = FakeEntryPoint("timetracer_replay")
    monkeypatch.setattr(entry_point, "load", lambda: MissingCassettesInstrumentor)

    distro.load_instrumentor(entry_point, skip_dep_check=True)

    assert [str(error) for error in stopped] == ["/srv/cassettes: no such cassette"]

"""``timetracer.configurator``: the SDK configurator hands the cassette exporter its config.

The SDK's own ``_configure`` (which would set global providers) is replaced by a recorder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk._configuration import _OTelSDKConfigurator

from timetracer import envvars
from timetracer.config import TraceConfig
from timetracer.configurator import TimetracerConfigurator
from timetracer_exporter import CassetteSpanExporter


@pytest.fixture
def sdk_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def configure(self: Any, **kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(_OTelSDKConfigurator, "_configure", configure)
    return calls


def test_the_cassette_exporter_gets_the_startup_config(
    sdk_calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_MODE, "record")
    monkeypatch.setenv(envvars.TIMETRACER_DIR, str(tmp_path))

    TimetracerConfigurator()._configure(auto_instrumentation_version="0.66b1")

    (kwargs,) = sdk_calls
    (config,) = kwargs["exporter_args_map"][CassetteSpanExporter].values()
    assert config == TraceConfig(mode="record", cassette_dir=tmp_path)
    assert kwargs["auto_instrumentation_version"] == "0.66b1"


def test_exporter_arguments_given_by_the_caller_are_kept(
    sdk_calls: list[dict[str, Any]],
) -> None:
    given = {CassetteSpanExporter: {"cassette_dir": "mine"}, object: {"x": 1}}

    TimetracerConfigurator()._configure(exporter_args_map=given)

    assert sdk_calls[0]["exporter_args_map"] == given

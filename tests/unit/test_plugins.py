"""``timetracer.plugins``: what ``enable_*`` / ``disable_*`` decide before touching pymongo.

Recording and replay themselves change process-wide state and are tested one process per
scenario in ``tests/integration/test_plugins_pymongo.py`` and ``test_plugins_motor.py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest

from timetracer.config import TraceConfig
from timetracer.errors import ConfigError, MissingDependencyError
from timetracer.plugins import (
    disable_motor,
    disable_pymongo,
    enable_motor,
    enable_pymongo,
    installed,
)


def hide(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    """Make ``missing`` modules look uninstalled to ``importlib.util.find_spec``."""
    real: Callable[..., Any] = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name in missing else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_enable_pymongo_without_pymongo_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "pymongo")

    with pytest.raises(MissingDependencyError, match=r"timetracer\[pymongo\]") as caught:
        enable_pymongo(TraceConfig(mode="record"))

    assert (caught.value.module, caught.value.extra) == ("pymongo", "pymongo")
    assert isinstance(caught.value, ImportError)


def test_enable_pymongo_without_the_contrib_instrumentor_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hide(monkeypatch, "opentelemetry.instrumentation.pymongo")

    with pytest.raises(MissingDependencyError) as caught:
        enable_pymongo(TraceConfig(mode="record"))

    assert caught.value.module == "opentelemetry.instrumentation.pymongo"
    assert caught.value.extra == "pymongo"


def test_enable_motor_without_motor_names_the_motor_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "motor")

    with pytest.raises(MissingDependencyError, match=r"pip install 'timetracer\[motor\]'"):
        enable_motor(TraceConfig(mode="record"))


def test_a_missing_dependency_is_reported_even_in_off_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A typo in the install shows up on the first run, not the first recording.
    hide(monkeypatch, "motor")

    with pytest.raises(MissingDependencyError):
        enable_motor(TraceConfig(mode="off"))


def test_enable_in_off_mode_changes_nothing() -> None:
    assert enable_pymongo(TraceConfig(mode="off")) is False
    assert enable_motor(TraceConfig(mode="off")) is False
    assert disable_pymongo() is False


def test_disable_without_enable_returns_false() -> None:
    assert disable_pymongo() is False
    assert disable_motor() is False


def test_installed_is_false_for_a_missing_parent_package() -> None:
    assert installed("no_such_package_here.sub") is False
    assert installed("pymongo") is True


def test_enable_without_a_config_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMETRACER_MODE", "replay")
    monkeypatch.setenv("TIMETRACER_LIVE", "postgres")

    with pytest.raises(ConfigError, match="TIMETRACER_LIVE='postgres'"):
        enable_pymongo()


def test_a_bad_variable_is_ignored_while_the_mode_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMETRACER_MODE", raising=False)
    monkeypatch.setenv("TIMETRACER_COMPRESSION", "brotli")

    assert enable_pymongo() is False

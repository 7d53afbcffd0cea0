"""``timetracer.failures``: telemetry failures are logged once per cause and counted."""

from __future__ import annotations

import logging

import pytest

from timetracer.failures import FailureLog, cause_of

LOGGER = "tests.unit.failures"


def test_only_the_first_failure_of_a_cause_is_logged_but_all_are_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = FailureLog(logging.getLogger(LOGGER))

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(5):
            failures.report("write:OSError:28", "disk full")
        failures.report("write:PermissionError:13", "read-only")

    assert [r.getMessage() for r in caplog.records] == [
        "disk full (further failures of this kind are counted, not logged)",
        "read-only (further failures of this kind are counted, not logged)",
    ]
    assert failures.counts == {"write:OSError:28": 5, "write:PermissionError:13": 1}


def test_the_logged_failure_carries_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    failures = FailureLog(logging.getLogger(LOGGER))
    error = ValueError("boom")

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        failures.report("x", "failed", error)

    assert caplog.records[0].exc_info is not None
    assert caplog.records[0].exc_info[1] is error


def test_cause_of_names_the_exception_type_and_errno() -> None:
    assert cause_of("write", OSError(28, "No space left on device")) == "write:OSError:28"
    assert cause_of("write", PermissionError(13, "denied")) == "write:PermissionError:13"
    assert cause_of("export", ValueError("bad")) == "export:ValueError"

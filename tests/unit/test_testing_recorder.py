"""``PyMongoRecorder``: one process-wide listener that records into the active recording."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import monitoring

from timetracer import attributes as attr
from timetracer.errors import TimetracerError
from timetracer.testing.recorder import PyMongoRecorder

DATABASE = ("127.0.0.1", 27017)
RESPONDER = ("127.0.0.1", 40000)
_ids = itertools.count(1)


@pytest.fixture
def recorder() -> Iterator[PyMongoRecorder]:
    shared = PyMongoRecorder.shared()
    yield shared
    if shared.active is not None:
        shared.stop(shared.active)


def command(recorder: PyMongoRecorder, name: str, address: tuple[str, int] = DATABASE) -> None:
    """Send one successful command through the recorder's listener, as pymongo would."""
    request_id = next(_ids)
    document: dict[str, Any] = {name: "items", "$db": "shop"}
    recorder.listener.started(
        monitoring.CommandStartedEvent(document, "shop", request_id, address, request_id)
    )
    recorder.listener.succeeded(
        monitoring.CommandSucceededEvent(
            dt.timedelta(milliseconds=1), {"ok": 1.0}, name, request_id, address, request_id
        )
    )


def recorded_names(spans: list[Any]) -> list[str | None]:
    return [(span.attributes or {}).get(attr.MONGO_COMMAND_NAME) for span in spans]


def test_there_is_one_recorder_per_process() -> None:
    assert PyMongoRecorder.shared() is PyMongoRecorder.shared()


def test_commands_between_recordings_are_not_recorded(recorder: PyMongoRecorder) -> None:
    command(recorder, "find")  # no recording active: nothing happens

    recording = recorder.start("test_x")
    command(recorder, "insert")
    spans = recorder.stop(recording)
    command(recorder, "delete")

    assert recorded_names(spans) == ["insert", None]  # the command, then the root
    root = spans[-1]
    assert root.name == "test_x"
    assert spans[0].parent is not None
    assert spans[0].parent.span_id == root.context.span_id


def test_only_commands_to_the_chosen_address_are_recorded_when_appending(
    recorder: PyMongoRecorder,
) -> None:
    recording = recorder.start("test_y", only_address=RESPONDER)
    command(recorder, "find", RESPONDER)
    command(recorder, "find", DATABASE)  # the real database answering a passed-through call

    spans = recorder.stop(recording)

    assert recorded_names(spans) == ["find", None]


def test_a_second_recording_at_once_is_refused(recorder: PyMongoRecorder) -> None:
    recorder.start("first")

    with pytest.raises(TimetracerError, match="already active"):
        recorder.start("second")

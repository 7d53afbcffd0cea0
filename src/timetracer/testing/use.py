"""Replaying or recording one test's cassette, as its record mode says.

Replay answers the test's PyMongo calls from the cassette through a replay session started for
the test (clients created during the test reach it). Recording captures them with the
process's :class:`~timetracer.testing.recorder.PyMongoRecorder` and writes the cassette after a
test that passed; a failed test writes nothing, so the next run records again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry.proto.trace.v1.trace_pb2 import Span, TracesData
from opentelemetry.sdk.trace import ReadableSpan

from timetracer.cassette import Cassette, load_cassette
from timetracer.cassette.encoding import encode_cassette, spans_to_traces_data
from timetracer.cassette.store import write_atomic
from timetracer.errors import TimetracerError
from timetracer.testing.modes import Action, plan

if TYPE_CHECKING:
    from timetracer_replay.scope import ReplayScope
    from timetracer_replay.session import ReplaySession


@dataclass
class CassetteUse:
    """What the ``timetracer_cassette`` fixture did around one test."""

    path: Path
    record_mode: str
    action: Action
    scope: ReplayScope | None = None
    """While replaying: the recorded calls, which were used, misses and noise."""
    appended: int = 0
    """``new_episodes``: how many calls were added to the cassette (known after the test)."""

    def check(self) -> None:
        """Raise the first replay miss, if a call found no recording."""
        if self.scope is not None and self.action is Action.REPLAY and self.scope.misses:
            raise self.scope.misses[0]


@contextmanager
def answering(session: ReplaySession, scope: ReplayScope) -> Iterator[ReplayScope]:
    """Answer commands from ``scope``: those sent in this context, and any that arrive with no
    scope (from a thread or task whose context was copied before the test began)."""
    previous = session.answerer.default
    session.answerer.default = scope
    try:
        with session.scope(scope):
            yield scope
    finally:
        session.answerer.default = previous


@contextmanager
def cassette_use(
    path: Path,
    mode: str,
    *,
    name: str,
    passed: Callable[[], bool],
    shared_session: ReplaySession | None = None,
) -> Iterator[CassetteUse]:
    """Replay, record or append ``path`` around the block, as ``mode`` says.

    ``passed`` is asked after the block: only a passing test's recording is written.
    ``shared_session`` is a replay session already running in this process (the one replaying
    ``--timetracer-cassettes``); replays use it, and recording is refused while it runs.
    """
    action = plan(mode, path)
    if action is not Action.REPLAY and shared_session is not None:
        raise TimetracerError(
            f"cannot record {path} while --timetracer-cassettes replay runs in this process: "
            "record in a separate pytest run"
        )
    if action is Action.RECORD:
        from timetracer.testing.recorder import PyMongoRecorder

        recorder = PyMongoRecorder.shared()
        recording = recorder.start(name)
        try:
            yield CassetteUse(path, mode, action)
        finally:
            spans = recorder.stop(recording)
        if passed():
            data = spans_to_traces_data(spans)
            compression = recorder.capture.config.compression
            write_atomic(path.parent, path.name, encode_cassette(data, compression))
        return
    yield from _replaying(path, mode, action, name, passed, shared_session)


def _replaying(
    path: Path,
    mode: str,
    action: Action,
    name: str,
    passed: Callable[[], bool],
    shared_session: ReplaySession | None,
) -> Iterator[CassetteUse]:
    from timetracer.testing.recorder import PyMongoRecorder
    from timetracer_replay.session import ReplaySession, scope_for

    cassette = load_cassette(path)
    scope = scope_for(cassette)
    use = CassetteUse(path, mode, action, scope)
    appending = action is Action.APPEND
    # Plain replay records nothing: the recorder (a process-wide pymongo listener) is only
    # registered when a test appends.
    recorder = PyMongoRecorder.shared() if appending else None
    recording = None
    spans: list[ReadableSpan] = []
    session = shared_session or ReplaySession(passthrough=appending).start()
    try:
        if recorder is not None:
            # Only what the app asked the responder is recorded, not the real database's side
            # of the commands passed through to it.
            recording = recorder.start(name, only_address=session.address)
        with answering(session, scope):
            yield use
    finally:
        if recorder is not None and recording is not None:
            spans = recorder.stop(recording)
        if shared_session is None:
            session.stop()
    if recorder is not None and passed():
        use.appended = append_new_calls(cassette, spans, recorder.capture.config.compression)


def append_new_calls(cassette: Cassette, spans: Sequence[ReadableSpan], compression: str) -> int:
    """Add to ``cassette``'s file the calls of ``spans`` it did not already record; returns
    how many. Recorded calls are matched the way replay matches them, in order."""
    from timetracer_replay.index import CallIndex

    if cassette.path is None:
        raise TimetracerError("the cassette has no file to append to")
    run = Cassette.from_traces_data(spans_to_traces_data(spans))
    index = CallIndex.of(cassette.calls, str(cassette.path))
    new = {
        call.span_id
        for call in run.calls
        if call.command_bson is None or index.take(call.command) is None
    }
    added = [span for span in spans if format(span.context.span_id, "016x") in new]
    if not added:
        return 0
    data = TracesData()
    data.CopyFrom(cassette.data)
    root = _root(data)
    addition = spans_to_traces_data(added)
    for resource_spans in addition.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                # New calls join the recorded trace, under its root.
                span.trace_id, span.parent_span_id = root.trace_id, root.span_id
        data.resource_spans.append(resource_spans)
    write_atomic(cassette.path.parent, cassette.path.name, encode_cassette(data, compression))
    return len(added)


def _root(data: TracesData) -> Span:
    spans = [s for rs in data.resource_spans for ss in rs.scope_spans for s in ss.spans]
    ids = {span.span_id for span in spans}
    roots = [s for s in spans if not s.parent_span_id or s.parent_span_id not in ids]
    return min(roots or spans, key=lambda s: s.start_time_unix_nano)

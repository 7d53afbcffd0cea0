"""Recording a test's own PyMongo calls in-process, into spans a cassette is made of.

pymongo cannot unregister a command listener, and contrib's ``PymongoInstrumentor`` keeps the
hooks and tracer provider of its first ``instrument()`` call for the life of the process. So
the recorder registers one contrib ``CommandTracer`` of its own, once per process, whose tracer
and hooks forward to the recording active at that moment; between recordings it hands out
non-recording spans and does nothing. Clients created before that registration (the first
recording of the process) are not heard: pymongo copies the listeners when a client is built.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind

from timetracer import attributes as attr
from timetracer.config import Mode, TraceConfig, startup_config
from timetracer.errors import MissingDependencyError, TimetracerError

try:
    from opentelemetry.instrumentation.pymongo import CommandTracer
    from pymongo import monitoring

    from timetracer.capture.mongo import MongoCapture
except ImportError:
    raise MissingDependencyError(
        "pymongo / opentelemetry-instrumentation-pymongo", "pymongo"
    ) from None


@dataclass
class Recording:
    """One test's recording: a root span and the command spans made under it."""

    provider: TracerProvider
    memory: InMemorySpanExporter
    root: Span
    context: Context
    only_address: tuple[str, int] | None = None
    """Record only commands sent to this address (the replay responder when appending), so
    the real database's answers to passed-through commands are not recorded twice."""

    def accepts(self, event: Any) -> bool:
        """Whether a command event belongs in this recording."""
        if self.only_address is None:
            return True
        return tuple(event.connection_id or ()) == tuple(self.only_address)


class _ForwardingTracer(trace.Tracer):
    """The tracer the process-wide ``CommandTracer`` uses: spans of the active recording."""

    def __init__(self, recorder: PyMongoRecorder) -> None:
        self._recorder = recorder

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Any = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        """A span under the active recording's root, or a non-recording span between them."""
        recording = self._recorder.active
        if recording is None:
            return INVALID_SPAN
        # Parent every command on the recording's root, whatever context the driver runs in
        # (a thread pool, a task created before the test, an anyio runner's own context).
        return recording.provider.get_tracer(__name__).start_span(
            name,
            context=recording.context,
            kind=kind,
            attributes=attributes,
            links=links,
            start_time=start_time,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        )

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, name: str, *args: Any, end_on_exit: bool = True, **kwargs: Any
    ) -> Iterator[Span]:
        """As ``start_span``, made current for the block."""
        span = self.start_span(name, *args, **kwargs)
        with trace.use_span(span, end_on_exit=end_on_exit) as current:
            yield current


class PyMongoRecorder:
    """Records the PyMongo commands made while a :class:`Recording` is active.

    Use :meth:`shared`: there is one per process, because its listener cannot be removed.
    """

    _shared: ClassVar[PyMongoRecorder | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, config: TraceConfig) -> None:
        self.capture = MongoCapture(config)
        self.capture.register_server_listener()
        self.active: Recording | None = None
        self._lock = threading.Lock()
        self.listener = CommandTracer(
            _ForwardingTracer(self),
            request_hook=self._started,
            response_hook=self._succeeded,
            failed_hook=self._failed,
        )
        monitoring.register(self.listener)

    @classmethod
    def shared(cls) -> PyMongoRecorder:
        """The process's recorder, registered with pymongo on first use.

        Redaction and size caps come from the ``TIMETRACER_*`` variables, as when recording an
        app; every command is recorded (no sampling).
        """
        with cls._shared_lock:
            if cls._shared is None:
                config = dataclasses.replace(
                    startup_config(), mode=Mode.RECORD, sample_rate=1.0, errors_only=False
                )
                cls._shared = cls(config)
            return cls._shared

    def start(self, name: str, *, only_address: tuple[str, int] | None = None) -> Recording:
        """Open a root span named ``name``; commands from now on are recorded under it."""
        with self._lock:
            if self.active is not None:
                raise TimetracerError("a PyMongo recording is already active in this process")
            memory = InMemorySpanExporter()
            provider = TracerProvider(
                resource=Resource({"service.name": "pytest"}), shutdown_on_exit=False
            )
            provider.add_span_processor(SimpleSpanProcessor(memory))
            root = provider.get_tracer(__name__).start_span(name, kind=SpanKind.INTERNAL)
            self.active = Recording(
                provider, memory, root, trace.set_span_in_context(root), only_address
            )
            return self.active

    def stop(self, recording: Recording) -> list[ReadableSpan]:
        """End the recording; its root and the command spans that carry a recorded command."""
        with self._lock:
            if self.active is recording:
                self.active = None
        recording.root.end()
        recording.provider.force_flush()
        spans = list(recording.memory.get_finished_spans())
        return _cassette_spans(spans, recording.root)

    def _current(self, event: Any) -> Recording | None:
        recording = self.active
        return recording if recording is not None and recording.accepts(event) else None

    def _started(self, span: Span, event: Any) -> None:
        if self._current(event) is not None:
            self.capture.request_hook(span, event)

    def _succeeded(self, span: Span, event: Any) -> None:
        if self._current(event) is not None:
            self.capture.response_hook(span, event)

    def _failed(self, span: Span, event: Any) -> None:
        if self._current(event) is not None:
            self.capture.failed_hook(span, event)


def _cassette_spans(spans: Sequence[ReadableSpan], root: Span) -> list[ReadableSpan]:
    root_id = root.get_span_context().span_id
    return [
        span
        for span in spans
        if span.context.span_id == root_id or attr.MONGO_COMMAND_NAME in (span.attributes or {})
    ]

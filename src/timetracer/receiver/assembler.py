"""Grouping OTLP spans that arrive in many requests into one ``TracesData`` per local trace.

A local trace is a local root span and every span below it. The root is a span without a
parent, or one whose parent is remote (the SDK says so in the span's flags, so a service
called by another still gets its own cassette). Senders batch by span end, so children
usually arrive before or with their root; a Collector can still split one trace over
requests that travel in parallel, which is why a root waits ``settle_seconds`` for stragglers
before its trace is handed out. Spans whose root never arrives are dropped after
``max_wait_seconds`` without new spans; the pending buffer is bounded by trace count and by
bytes, oldest trace out first. Everything dropped is counted in :class:`ReceiverStats`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, TracesData

from timetracer.receiver.spans import HeldSpan, held_spans, traces_data
from timetracer.receiver.stats import ReceiverStats

# Written and dropped traces remembered so that spans arriving after them count as late (or
# as duplicates) instead of starting a trace that never completes, or a cassette that lacks
# the spans dropped before it.
_WRITTEN_MEMORY = 8192


@dataclass
class _Trace:
    last_seen: float
    spans: dict[bytes, HeldSpan] = field(default_factory=dict)
    roots: dict[bytes, float] = field(default_factory=dict)
    """Root span id -> when it arrived."""
    size: int = 0


@dataclass(frozen=True)
class FinishedTrace:
    """One local trace, ready to become a cassette."""

    trace_id: int
    root: Span
    data: TracesData
    has_payload: bool
    """Whether any span carries a ``timetracer.payload.*`` attribute."""

    @property
    def span_count(self) -> int:
        """Number of spans in the trace."""
        return sum(len(ss.spans) for rs in self.data.resource_spans for ss in rs.scope_spans)


class TraceAssembler:
    """Collects spans by trace id and hands out finished local traces. Thread-safe."""

    def __init__(
        self,
        stats: ReceiverStats | None = None,
        *,
        settle_seconds: float = 1.0,
        max_wait_seconds: float = 300.0,
        max_traces: int = 10_000,
        max_bytes: int = 512 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stats = stats if stats is not None else ReceiverStats()
        self.settle_seconds = settle_seconds
        self.max_wait_seconds = max_wait_seconds
        self.max_traces = max_traces
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: OrderedDict[int, _Trace] = OrderedDict()
        self._bytes = 0
        self._ready: list[FinishedTrace] = []
        self._written: OrderedDict[int, set[bytes]] = OrderedDict()
        self._lost: OrderedDict[int, None] = OrderedDict()

    @property
    def pending_traces(self) -> int:
        """Traces holding spans that wait for their root (or for the settle time)."""
        with self._lock:
            return len(self._pending)

    @property
    def pending_bytes(self) -> int:
        """Approximate memory the pending spans hold."""
        with self._lock:
            return self._bytes

    def add(self, request: ExportTraceServiceRequest) -> int:
        """Hold every span of ``request``; return how many were rejected for invalid ids."""
        # Serializing is the expensive part; it happens before taking the lock.
        incoming = list(held_spans(request))
        valid = [held for held in incoming if held is not None]
        with self._lock:
            counts = self._hold(valid)
        rejected = len(incoming) - len(valid)
        self.stats.add(rejected_spans=rejected, **counts)
        return rejected

    def _hold(self, incoming: list[HeldSpan]) -> dict[str, int]:
        now = self._clock()
        accepted = late = duplicates = evicted = 0
        for held in incoming:
            trace_id = held.trace_id
            if trace_id in self._lost:
                late += 1
                continue
            written = self._written.get(trace_id)
            if written is not None and held.span_id in written:
                duplicates += 1
                continue
            if written is not None and held.parent_id in written:
                # Its local root is already in a cassette; remember it so its children are late too.
                written.add(held.span_id)
                late += 1
                continue
            trace = self._pending.get(trace_id)
            if trace is None:
                trace = self._pending[trace_id] = _Trace(last_seen=now)
            if held.span_id in trace.spans:
                duplicates += 1
                continue
            trace.spans[held.span_id] = held
            trace.last_seen = now
            if held.root:
                trace.roots[held.span_id] = now
            trace.size += held.size
            self._bytes += held.size
            accepted += 1
        while self._pending and (
            len(self._pending) > self.max_traces or self._bytes > self.max_bytes
        ):
            trace_id, trace = self._pending.popitem(last=False)
            # A trace whose root is here is complete enough to keep: write it now, don't drop it.
            for root_id in list(trace.roots):
                self._ready.append(self._take(trace_id, trace, root_id))
            if trace.spans:
                evicted += 1
                self._lose(trace_id)
            self._bytes -= trace.size
        return {
            "spans": accepted,
            "late_spans": late,
            "duplicate_spans": duplicates,
            "evicted": evicted,
        }

    def due(self) -> list[FinishedTrace]:
        """Take every trace whose root has settled; drop traces that waited too long."""
        with self._lock:
            now = self._clock()
            finished, self._ready = self._ready, []
            expired = 0
            for trace_id, trace in list(self._pending.items()):
                for root_id, arrived in list(trace.roots.items()):
                    if now - arrived >= self.settle_seconds:
                        finished.append(self._take(trace_id, trace, root_id))
                if not trace.spans:
                    del self._pending[trace_id]
                elif not trace.roots and now - trace.last_seen >= self.max_wait_seconds:
                    expired += 1
                    self._drop(trace_id, trace)
                    self._lose(trace_id)
        if expired:
            self.stats.add(expired=expired)
        return finished

    def drain(self) -> list[FinishedTrace]:
        """Take every trace that has its root, settled or not, and drop (counting) the rest."""
        with self._lock:
            finished, self._ready = self._ready, []
            dropped = 0
            for trace_id, trace in list(self._pending.items()):
                for root_id in list(trace.roots):
                    finished.append(self._take(trace_id, trace, root_id))
                if trace.spans:
                    dropped += 1
                self._drop(trace_id, trace)
        if dropped:
            self.stats.add(dropped_at_shutdown=dropped)
        return finished

    def _drop(self, trace_id: int, trace: _Trace) -> None:
        self._pending.pop(trace_id, None)
        self._bytes -= trace.size

    def _take(self, trace_id: int, trace: _Trace, root_id: bytes) -> FinishedTrace:
        """Remove the root ``root_id`` and everything below it from ``trace``."""
        children: dict[bytes, list[bytes]] = {}
        for held in trace.spans.values():
            children.setdefault(held.parent_id, []).append(held.span_id)
        members: set[bytes] = set()
        stack = [root_id]
        while stack:  # the visited set also stops a malformed parent cycle
            span_id = stack.pop()
            if span_id in members or span_id not in trace.spans:
                continue
            members.add(span_id)
            stack.extend(children.get(span_id, ()))
        # Arrival order, like the in-process exporter, so both write the same bytes.
        taken = [held for span_id, held in trace.spans.items() if span_id in members]
        for held in taken:
            del trace.spans[held.span_id]
            trace.roots.pop(held.span_id, None)
            trace.size -= held.size
            self._bytes -= held.size
        self._remember(trace_id, members)
        root = Span.FromString(next(h.raw for h in taken if h.span_id == root_id))
        return FinishedTrace(
            trace_id=trace_id,
            root=root,
            data=traces_data(taken),
            has_payload=any(held.payload for held in taken),
        )

    def _lose(self, trace_id: int) -> None:
        """Refuse the rest of a trace whose spans were dropped: a cassette must not lack them."""
        self._lost[trace_id] = None
        while len(self._lost) > _WRITTEN_MEMORY:
            self._lost.popitem(last=False)

    def _remember(self, trace_id: int, span_ids: set[bytes]) -> None:
        written = self._written.setdefault(trace_id, set())
        written.update(span_ids)
        self._written.move_to_end(trace_id)
        while len(self._written) > _WRITTEN_MEMORY:
            self._written.popitem(last=False)

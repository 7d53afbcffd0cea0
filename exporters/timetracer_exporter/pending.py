"""Spans waiting for their trace's local root span, bounded by count and by payload bytes."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan

from timetracer.attributes import PREFIX
from timetracer.cassette.otlp_proto import span_attributes


def payload_bytes(span: ReadableSpan) -> int:
    """Approximate memory held by a span: its payload attributes' sizes plus a fixed overhead."""
    size = 512
    for key, value in (span_attributes(span) or {}).items():
        if key.startswith(PREFIX) and isinstance(value, (bytes, str)):
            size += len(value)
    return size


@dataclass
class _Trace:
    spans: list[ReadableSpan]
    size: int


class PendingTraces:
    """Spans grouped by trace id, oldest trace first; overflow evicts whole oldest traces.

    A trace stays here until its local root ends (children usually end first). Limits hold
    the buffer's memory however many traces never finish, e.g. when a root span is lost.
    """

    def __init__(self, max_traces: int = 2048, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.max_traces = max_traces
        self.max_bytes = max_bytes
        self._traces: OrderedDict[int, _Trace] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._traces)

    @property
    def bytes(self) -> int:
        """Approximate bytes held."""
        return self._bytes

    def add(self, trace_id: int, span: ReadableSpan) -> list[int]:
        """Hold ``span``; return the ids of traces evicted to stay within the limits."""
        size = payload_bytes(span)
        trace = self._traces.get(trace_id)
        if trace is None:
            self._traces[trace_id] = _Trace([span], size)
        else:
            trace.spans.append(span)
            trace.size += size
        self._bytes += size
        evicted: list[int] = []
        while len(self._traces) > 1 and (
            len(self._traces) > self.max_traces or self._bytes > self.max_bytes
        ):
            old_id, old = self._traces.popitem(last=False)
            self._bytes -= old.size
            evicted.append(old_id)
        return evicted

    def pop(self, trace_id: int) -> list[ReadableSpan]:
        """Remove and return a trace's spans (empty if unknown)."""
        trace = self._traces.pop(trace_id, None)
        if trace is None:
            return []
        self._bytes -= trace.size
        return trace.spans

    def clear(self) -> int:
        """Drop everything; return how many traces were dropped."""
        count = len(self._traces)
        self._traces.clear()
        self._bytes = 0
        return count

"""``CassetteSpanExporter``: the ``timetracer`` traces exporter.

It groups spans by trace and, when a trace's local root span arrives, writes that trace as one
cassette. It runs on the span processor's worker thread, so encoding and compression never
touch the request path. Like every OpenTelemetry exporter it never raises into the app: a
failed write is logged once per cause, counted, and reported as ``SpanExportResult.FAILURE``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import StatusCode

from timetracer import attributes as attr
from timetracer.cassette.compression import compress
from timetracer.cassette.encoding import serialize_spans, span_encoder
from timetracer.cassette.naming import root_cassette_name
from timetracer.cassette.otlp_proto import span_attributes
from timetracer.cassette.store import remove_stale_partials, write_atomic
from timetracer.config import TraceConfig
from timetracer.failures import FailureLog, cause_of
from timetracer_exporter.pending import PendingTraces

logger = logging.getLogger(__name__)

# Trace ids already written (or evicted), remembered so spans that end after their root
# (background work) are recognised as late rather than starting a new pending trace that never
# completes, and so an evicted trace is never written later without the spans it lost.
_WRITTEN_MEMORY = 4096


@dataclass
class ExporterStats:
    """What the exporter did since it started."""

    written: int = 0
    """Cassettes written."""
    skipped: int = 0
    """Traces left out: sampled out, not errors under errors-only, or without payloads."""
    evicted: int = 0
    """Incomplete traces dropped because the pending buffer was full."""
    late_spans: int = 0
    """Spans that ended after their trace was written."""
    failed: int = 0
    """Cassettes that could not be written."""


# Payload keys every recorded call or exchange carries: finding one is a set test in C, where
# the prefix test below runs in Python for every key of every span.
_PAYLOAD_MARKERS = frozenset({attr.MONGO_COMMAND_NAME, attr.HTTP_METHOD})


def _has_payload(spans: Sequence[ReadableSpan]) -> bool:
    every_span_attributes = [span_attributes(span) or {} for span in spans]
    if any(not _PAYLOAD_MARKERS.isdisjoint(attributes) for attributes in every_span_attributes):
        return True
    return any(
        key.startswith(attr.PREFIX) for attributes in every_span_attributes for key in attributes
    )


def _is_error(root: ReadableSpan) -> bool:
    if root.status.status_code is StatusCode.ERROR:
        return True
    attributes = root.attributes or {}
    status = attributes.get(attr.HTTP_STATUS)
    if status is None:
        status = attributes.get("http.response.status_code", attributes.get("http.status_code"))
    return isinstance(status, int) and status >= 500


class CassetteSpanExporter(SpanExporter):
    """Writes one cassette per local trace into ``cassette_dir``.

    With no arguments everything comes from the ``TIMETRACER_*`` environment variables.
    """

    def __init__(
        self,
        cassette_dir: Path | str | None = None,
        compression: str | None = None,
        *,
        config: TraceConfig | None = None,
        max_pending_traces: int = 2048,
        max_pending_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        config = config or TraceConfig.from_env()
        self.config = config
        self.cassette_dir = Path(cassette_dir) if cassette_dir is not None else config.cassette_dir
        self.compression = compression or config.compression
        if compression is not None:
            TraceConfig(compression=compression)  # validates the value with a clear error
        self.stats = ExporterStats()
        self.failures = FailureLog(logger)
        self._pending = PendingTraces(max_pending_traces, max_pending_bytes)
        self._written: OrderedDict[int, None] = OrderedDict()
        self._lock = threading.Lock()
        self._shutdown = False
        self._swept = False
        self._encoder = span_encoder()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Group ``spans`` by trace and write every trace whose local root is among them."""
        if self._shutdown:
            return SpanExportResult.FAILURE
        try:
            with self._lock:
                return self._export(spans)
        except Exception as exc:  # an exporter must never raise into the SDK or the app
            self.failures.report(cause_of("export", exc), "timetracer could not export spans", exc)
            return SpanExportResult.FAILURE

    def _export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        # A batch usually holds whole traces (children end before their root), so spans are
        # grouped here first and only the traces still unfinished at the end of the batch pay
        # for the bounded pending buffer: the batch is in memory anyway.
        open_traces: dict[int, list[ReadableSpan]] = {}
        finished: list[tuple[int, ReadableSpan, list[ReadableSpan]]] = []
        for span in spans:
            trace_id = span.context.trace_id
            if trace_id in self._written:
                self.stats.late_spans += 1
                continue
            parent = span.parent
            is_root = parent is None or parent.is_remote
            group = open_traces.get(trace_id)
            if group is None:
                if not self.config.samples(trace_id):
                    if is_root:
                        self.stats.skipped += 1
                    continue
                group = open_traces[trace_id] = []
            group.append(span)
            if is_root:
                del open_traces[trace_id]
                # Spans of this trace later in the batch, or in later batches, are late.
                self._remember(trace_id)
                finished.append((trace_id, span, group))
        ok = True
        for trace_id, root, group in finished:
            held = self._pending.pop(trace_id)
            ok = self._finish(root, held + group if held else group) and ok
        # After the finished traces have taken their spans back: holding may evict.
        for trace_id, group in open_traces.items():
            for span in group:
                self._hold(trace_id, span)
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def _hold(self, trace_id: int, span: ReadableSpan) -> None:
        """Keep a span of an unfinished trace until its root arrives, within the limits."""
        evicted = self._pending.add(trace_id, span)
        if not evicted:
            return
        self.stats.evicted += len(evicted)
        for old in evicted:
            # Its later spans (the root included) must not make an incomplete cassette.
            self._remember(old)
        self.failures.report(
            "pending-overflow",
            f"timetracer dropped {len(evicted)} unfinished trace(s): the pending "
            f"buffer is full ({self._pending.max_traces} traces, "
            f"{self._pending.max_bytes} bytes)",
        )

    def _finish(self, root: ReadableSpan, spans: list[ReadableSpan]) -> bool:
        trace_id = root.context.trace_id
        if not _has_payload(spans) or (self.config.errors_only and not _is_error(root)):
            self.stats.skipped += 1
            return True
        try:
            self._write(trace_id, root, spans)
        except Exception as exc:  # disk full, read-only directory, ...: keep serving
            self.stats.failed += 1
            self.failures.report(
                cause_of("write", exc),
                f"timetracer could not write a cassette to {self.cassette_dir}: {exc}",
            )
            return False
        self.stats.written += 1
        return True

    def _sweep_once(self) -> None:
        # Before the first write: a process killed mid-write (kill -9, OOM) left temporary
        # files that nothing else would ever remove.
        if self._swept:
            return
        self._swept = True
        try:
            removed = remove_stale_partials(self.cassette_dir)
        except OSError as exc:
            # Not counted as a failure of its own: a directory that cannot be listed cannot be
            # written either, and the write that follows reports that once, as a write failure.
            logger.debug("timetracer could not sweep %s: %s", self.cassette_dir, exc)
            return
        if removed:
            logger.info(
                "timetracer removed %d unfinished cassette write(s) left in %s by a stopped "
                "process",
                removed,
                self.cassette_dir,
            )

    def _write(self, trace_id: int, root: ReadableSpan, spans: list[ReadableSpan]) -> Path:
        self._sweep_once()
        name = root_cassette_name(
            span_attributes(root) or {}, root.name, trace_id, root.start_time or 0
        )
        payload = compress(serialize_spans(spans, self._encoder), self.compression)
        return write_atomic(self.cassette_dir, name, payload)

    def _remember(self, trace_id: int) -> None:
        self._written[trace_id] = None
        while len(self._written) > _WRITTEN_MEMORY:
            self._written.popitem(last=False)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Every complete trace is written as soon as it arrives, so there is nothing to flush."""
        return True

    def shutdown(self) -> None:
        """Stop accepting spans; idempotent. Unfinished traces are dropped and counted."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            dropped = self._pending.clear()
        logger.info(
            "timetracer wrote %d cassette(s) to %s (%d skipped, %d failed, %d evicted)",
            self.stats.written,
            self.cassette_dir,
            self.stats.skipped,
            self.stats.failed,
            self.stats.evicted,
        )
        if dropped:
            logger.info("timetracer: %d unfinished trace(s) dropped at shutdown", dropped)

"""``CollectReceiver``: the HTTP endpoint, the trace assembler and the cassette writer, running.

Three kinds of threads: the server's accept loop, one thread per connection (decoding and
grouping spans), and one flusher that writes settled traces, so no request waits on a disk.
:meth:`CollectReceiver.close` stops in the order that keeps every accepted span: stop
accepting, let requests being handled finish, stop the flusher, then write every trace that
has its root.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from timetracer.config import DEFAULT_COMPRESSION
from timetracer.errors import ReceiverError
from timetracer.receiver.assembler import TraceAssembler
from timetracer.receiver.http import TRACES_PATH, OtlpHttpServer
from timetracer.receiver.stats import ReceiverStats
from timetracer.receiver.writer import CassetteWriter, OnWrite

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_TICK_SECONDS = 0.1


class CollectReceiver:
    """An OTLP/HTTP traces receiver that writes one cassette per local trace into ``cassette_dir``.

    ``port=0`` picks a free port; :attr:`url` says which after :meth:`start`.
    """

    def __init__(
        self,
        cassette_dir: Path | str,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        token: str | None = None,
        compression: str = DEFAULT_COMPRESSION,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        settle_seconds: float = 1.0,
        max_wait_seconds: float = 300.0,
        max_pending_traces: int = 10_000,
        max_pending_bytes: int = 512 * 1024 * 1024,
        on_write: OnWrite | None = None,
    ) -> None:
        self.cassette_dir = Path(cassette_dir)
        self.stats = ReceiverStats()
        self.assembler = TraceAssembler(
            self.stats,
            settle_seconds=settle_seconds,
            max_wait_seconds=max_wait_seconds,
            max_traces=max_pending_traces,
            max_bytes=max_pending_bytes,
        )
        self.writer = CassetteWriter(self.cassette_dir, compression, self.stats, on_write)
        self._address = (host, port)
        self._token = token or None
        self._max_body_bytes = max_body_bytes
        self._server: OtlpHttpServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop_flusher = threading.Event()
        self._closed = False
        self._close_lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (the requested ones before :meth:`start`)."""
        if self._server is None:
            return self._address
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """Where to send traces, e.g. ``http://127.0.0.1:4318/v1/traces``."""
        host, port = self.address
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{TRACES_PATH}"

    def start(self) -> CollectReceiver:
        """Bind the address and start serving; raises :class:`ReceiverError` if it cannot."""
        if self._server is not None:
            return self
        try:
            self._server = OtlpHttpServer(
                self._address,
                self.accept,
                token=self._token,
                max_body_bytes=self._max_body_bytes,
                stats=self.stats,
            )
        except OSError as exc:
            host, port = self._address
            raise ReceiverError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="timetracer-collect-http",
                daemon=True,
            ),
            threading.Thread(target=self._flush_loop, name="timetracer-collect-flush", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def accept(self, request: ExportTraceServiceRequest) -> int:
        """Take one decoded export request; return how many spans were rejected."""
        return self.assembler.add(request)

    def flush(self) -> int:
        """Write every trace whose root has settled now; return how many were written."""
        return sum(self.writer.write(finished) is not None for finished in self.assembler.due())

    def _flush_loop(self) -> None:
        while not self._stop_flusher.wait(_TICK_SECONDS):
            try:
                self.flush()
            except Exception:  # the flusher must outlive any single bad trace
                logger.exception("timetracer collect: could not write settled traces")

    def close(self, timeout: float = 10.0) -> None:
        """Stop serving, then write every trace that has its root; idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._server is not None and not self._server.stop(timeout):
            logger.warning(
                "timetracer collect: requests still running after %.0f s were abandoned", timeout
            )
        self._stop_flusher.set()
        for thread in self._threads:
            thread.join(timeout)
        for finished in self.assembler.drain():
            self.writer.write(finished)

    def __enter__(self) -> CollectReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

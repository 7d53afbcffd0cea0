"""Writing finished traces as cassettes, exactly as the in-process exporter writes them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from timetracer.cassette.compression import compress
from timetracer.cassette.encoding import encode_cassette, stamp
from timetracer.cassette.model import attributes_of
from timetracer.cassette.naming import SUFFIX, root_cassette_name
from timetracer.cassette.store import remove_stale_partials, write_atomic
from timetracer.config import DEFAULT_COMPRESSION
from timetracer.failures import FailureLog, cause_of
from timetracer.receiver.assembler import FinishedTrace
from timetracer.receiver.stats import ReceiverStats

logger = logging.getLogger(__name__)

OnWrite = Callable[[Path, FinishedTrace], None]


class CassetteWriter:
    """Writes one cassette per finished trace into ``directory``; never raises on a bad disk.

    A trace without ``timetracer.payload.*`` attributes is skipped, as the exporter skips it.
    An existing file is never replaced: a second local root that would get the same name (same
    trace, route and millisecond) is written under a name that adds its span id.
    """

    def __init__(
        self,
        directory: Path | str,
        compression: str = DEFAULT_COMPRESSION,
        stats: ReceiverStats | None = None,
        on_write: OnWrite | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.compression = compression
        compress(b"", compression)  # an unknown codec or a missing zstandard fails here, early
        self.stats = stats if stats is not None else ReceiverStats()
        self.failures = FailureLog(logger)
        self._on_write = on_write
        self._swept = False

    def _sweep_once(self) -> None:
        # Before the first write: temporary files of a receiver or app killed mid-write.
        if self._swept:
            return
        self._swept = True
        try:
            removed = remove_stale_partials(self.directory)
        except OSError as exc:
            # Not counted as a failure of its own: the write that follows reports an unusable
            # directory once, as a write failure.
            logger.debug("timetracer collect could not sweep %s: %s", self.directory, exc)
            return
        if removed:
            logger.info(
                "timetracer collect removed %d unfinished cassette write(s) left in %s",
                removed,
                self.directory,
            )

    def write(self, finished: FinishedTrace) -> Path | None:
        """Write ``finished``; return its path, or None when it was skipped or failed."""
        if not finished.has_payload:
            self.stats.add(skipped=1)
            return None
        root = finished.root
        name = root_cassette_name(
            attributes_of(root.attributes), root.name, finished.trace_id, root.start_time_unix_nano
        )
        self._sweep_once()
        try:
            if (self.directory / name).exists():
                name = f"{name.removesuffix(SUFFIX)}-{root.span_id.hex()}{SUFFIX}"
            payload = encode_cassette(stamp(finished.data), self.compression)
            path = write_atomic(self.directory, name, payload)
        except Exception as exc:  # disk full, unwritable directory, ...: keep receiving
            self.stats.add(failed=1)
            self.failures.report(
                cause_of("write", exc),
                f"timetracer collect could not write a cassette to {self.directory}: {exc}",
            )
            return None
        self.stats.add(written=1)
        if self._on_write is not None:
            try:
                self._on_write(path, finished)
            except Exception:  # a failing report must not look like a failed write
                logger.exception("timetracer collect: the on_write callback failed for %s", path)
        return path

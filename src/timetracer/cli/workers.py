"""Worker processes for commands that read thousands of cassettes (``timetracer list``).

Reading one cassette is file system calls, zstd and protobuf parsing, and Python walking the
spans: about 50-80 µs on a small machine, nearly all of it holding the GIL, so threads do not
help and processes do. Starting them costs tens of milliseconds, worth it from a couple of
thousand cassettes. Results come back in the order of the input.
"""

from __future__ import annotations

import math
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, TypeVar

from timetracer.errors import TimetracerError

Item = TypeVar("Item")
Result = TypeVar("Result")

ITEMS_PER_AUTO_JOB = 2_000
"""One more worker process per this many items: below it, starting one costs what it saves."""
MAX_AUTO_JOBS = 8
_CHUNKS_PER_JOB = 4  # a few chunks each, so a worker that started late does not hold the end


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _forks() -> bool:
    """Forked workers start in milliseconds with everything imported; elsewhere (spawn) each
    imports timetracer and protobuf first, which costs more than a listing saves."""
    return sys.platform.startswith("linux")


def _fork_context() -> Any:
    """The ``fork`` start method where workers are forked, else the platform's default."""
    if not _forks():
        return None
    import multiprocessing  # here: deciding how many workers must not load it

    return multiprocessing.get_context("fork")


def auto_jobs(count: int) -> int:
    """Worker processes worth starting for ``count`` items: one per ``ITEMS_PER_AUTO_JOB``,
    at most one per CPU; 1 (no workers) below twice that, on one CPU, or where workers cannot
    be forked."""
    if not _forks():
        return 1
    return max(1, min(available_cpus(), count // ITEMS_PER_AUTO_JOB, MAX_AUTO_JOBS))


def ordered_map(
    function: Callable[[Item], Result], items: Sequence[Item], jobs: int
) -> Iterator[Result]:
    """``map(function, items)``, spread over ``jobs`` processes when ``jobs`` > 1.

    ``function`` must be picklable (a module-level function or a ``partial`` of one). A worker
    that dies (killed, out of memory) raises ``TimetracerError``; the results before it have
    been yielded already.
    """
    if jobs <= 1 or len(items) < 2:
        yield from map(function, items)
        return
    # Imported here: a listing in this process should not pay for loading them.
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # The first item is mapped here, before forking: the workers inherit what it loaded
    # (lazy imports, parsers, decompressors) instead of each loading it again.
    yield function(items[0])
    rest = items[1:]
    size = math.ceil(len(rest) / (jobs * _CHUNKS_PER_JOB))
    chunks = [rest[start : start + size] for start in range(0, len(rest), size)]
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)),
        mp_context=_fork_context(),
        initializer=_leave_interrupts_to_the_parent,
    )
    try:
        for results in pool.map(partial(_apply, function), chunks):
            yield from results
    except BrokenProcessPool as exc:
        raise TimetracerError(
            f"a worker process stopped before it finished ({exc}); run again with --jobs 1 "
            "to read every file in this process"
        ) from exc
    finally:
        # Early exit (output closed, Ctrl-C, an error): drop the chunks not started.
        pool.shutdown(wait=True, cancel_futures=True)


def _apply(function: Callable[[Item], Result], chunk: Sequence[Item]) -> list[Result]:
    return [function(item) for item in chunk]


def _leave_interrupts_to_the_parent() -> None:
    # Ctrl-C reaches the whole process group; the parent stops the pool, and the workers
    # should not each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

"""Keep an in-process replay on one CPU.

In-process replay is a ping-pong between two threads of one process: the app's thread sends a
MongoDB command and blocks, the responder thread wakes, answers, and blocks again. The GIL
lets only one of them run at a time anyway, so spreading them over CPUs buys nothing; it costs
a cross-CPU wake-up (an inter-processor interrupt, a VM exit on a virtual machine) and a cold
cache on every hand-off. Measured on the 2-vCPU benchmark machine: 53-70 us of CPU per round
trip across CPUs against 15-22 us on one, and a replayed request 1,750 -> 1,300 us.

Linux only, and only for the calling thread and the threads it starts afterwards (the
responder among them): ``sched_setaffinity(0, ...)`` changes the calling thread, never the
other threads already running. :func:`one_cpu` restores the thread's CPU set on exit.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager


def current_cpu() -> int | None:
    """The CPU the calling thread last ran on (``/proc/thread-self/stat``), or None if unknown."""
    try:
        with open("/proc/thread-self/stat", encoding="ascii") as handle:
            # Field 39 ("processor"); the command name in field 2 may hold spaces, so count
            # from the closing parenthesis that ends it.
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[36])
    except (OSError, IndexError, ValueError):
        return None


def _choose(allowed: set[int]) -> int:
    cpu = current_cpu()
    return cpu if cpu in allowed else min(allowed)


@contextmanager
def one_cpu(enabled: bool = True) -> Iterator[int | None]:
    """Run the block on one CPU of the calling thread's set; yield that CPU (None: unchanged).

    Does nothing when ``enabled`` is false, on platforms without ``sched_setaffinity``, when
    the thread may already use only one CPU, or when the kernel refuses (a cgroup cpuset).
    """
    if not enabled or not hasattr(os, "sched_setaffinity"):
        yield None
        return
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        yield None
        return
    cpu = _choose(allowed)
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        yield None
        return
    try:
        yield cpu
    finally:
        # A cpuset changed meanwhile may refuse the old set: the thread then stays on its one
        # CPU, which must not turn a finished replay (or its error) into a different error.
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, allowed)

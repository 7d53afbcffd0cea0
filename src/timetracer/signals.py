"""Flushing recorded spans when the process is told to stop with SIGTERM.

Python runs ``atexit`` handlers (where the SDK flushes its span processors) on a normal exit
and on Ctrl-C, but not when SIGTERM's default action kills the process. uvicorn, for one,
handles SIGTERM gracefully and then re-raises it with the handler that was installed before it
started, so the requests it just finished serving would never reach a cassette. Installing a
handler at start-up that shuts the tracer provider down before dying closes that gap.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from opentelemetry import trace

logger = logging.getLogger(__name__)


def _flush_then_terminate(signum: int, frame: FrameType | None) -> None:
    shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)
    if callable(shutdown):
        try:
            shutdown()
        except Exception:  # dying anyway: say why the last spans may be missing
            logger.exception("timetracer could not flush spans on SIGTERM")
    # Die the way SIGTERM would have killed the process, exit status included.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_sigterm_flush() -> bool:
    """Install the flushing SIGTERM handler if SIGTERM still has its default action.

    Returns whether it was installed. A handler the app or its server set up is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return False
    signal.signal(signal.SIGTERM, _flush_then_terminate)
    return True

"""Record modes, with VCR.py's meaning, and what each does with a test's cassette.

======================  ==============================  ====================================
mode                    the cassette exists             the cassette does not exist
======================  ==============================  ====================================
``none``                replay                          the test errors: nothing to replay
``once``                replay                          record
``new_episodes``        replay; calls nobody recorded   record
                        go to the real database and
                        are appended to the cassette
``all``                 record again (replaced)         record
======================  ==============================  ====================================

The default is ``none`` when the ``CI`` environment variable is set (so CI never records and
never needs a database) and ``once`` otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path

from timetracer.errors import CassetteNotFoundError

RECORD_MODES = ("none", "once", "new_episodes", "all")


class Action(str, enum.Enum):
    """What the fixture does around one test."""

    REPLAY = "replay"
    RECORD = "record"
    APPEND = "append"
    """Replay, send calls nobody recorded to the real database, and append those calls."""


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """Whether ``CI`` is set to something other than empty, ``0`` or ``false``."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def resolve_record_mode(option: str | None, environ: Mapping[str, str]) -> str:
    """The mode in force: ``--timetracer-record-mode`` if given, else the default."""
    if option is not None:
        if option not in RECORD_MODES:
            raise ValueError(f"record mode {option!r}: expected {' | '.join(RECORD_MODES)}")
        return option
    return "none" if running_in_ci(environ) else "once"


def plan(mode: str, cassette: Path) -> Action:
    """What to do with ``cassette`` in ``mode``; raises if ``none`` has nothing to replay."""
    exists = cassette.is_file()
    if mode == "all" or (mode in ("once", "new_episodes") and not exists):
        return Action.RECORD
    if not exists:
        raise CassetteNotFoundError(cassette)
    return Action.APPEND if mode == "new_episodes" else Action.REPLAY

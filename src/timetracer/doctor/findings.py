"""One thing ``timetracer doctor`` found: ok, a warning, or a problem that stops recording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OK = "ok"
WARN = "warn"
FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """A check's verdict, with what to do about it."""

    check: str
    """What was checked: ``distro``, ``mode``, ``directory``, ``instrumentor pymongo``, …"""
    status: str
    """``ok``, ``warn`` (works, but probably not as meant) or ``fail`` (records nothing)."""
    message: str
    hint: str | None = None
    """What to do, when there is something to do."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready entry."""
        return {
            "check": self.check,
            "status": self.status,
            "message": self.message,
            "hint": self.hint,
        }

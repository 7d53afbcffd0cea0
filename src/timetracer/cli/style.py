"""Colour for terminal output: only on a terminal, and never when ``NO_COLOR`` is set."""

from __future__ import annotations

import os
from typing import TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}


def colour_enabled(stream: TextIO) -> bool:
    """Whether ``stream`` gets colour: a terminal, and ``NO_COLOR`` unset or empty
    (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


class Style:
    """Wraps text in ANSI colours when enabled, returns it unchanged otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        """Colour if ``stream`` should have it."""
        return cls(colour_enabled(stream))

    def paint(self, text: str, colour: str) -> str:
        """``text`` in ``colour`` (red, green, yellow, bold, dim)."""
        if not self.enabled:
            return text
        return f"\x1b[{_CODES[colour]}m{text}\x1b[0m"

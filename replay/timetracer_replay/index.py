"""Recorded calls indexed for O(1) lookup, consumed in recorded order per key."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from timetracer.cassette.model import MongoCall
from timetracer_replay.normalize import (
    HOUSEKEEPING,
    differences,
    key_of,
    loose_key_of,
    normalized,
)


@dataclass
class Entry:
    """One recorded call waiting to be replayed."""

    call: MongoCall
    source: str
    """The cassette it came from (path or name), for diagnoses."""
    position: int
    """Its place in the cassette's call order."""
    used: bool = False
    normalized: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The recorded command, normalized once when indexed (diffs reuse it)."""


@dataclass
class Match:
    """A live command's recorded answer."""

    entry: Entry
    noise: list[str] = field(default_factory=list)
    """Differences tolerated as client-generated (ObjectIds, datetimes)."""


class CallIndex:
    """The recorded MongoDB calls of one or more cassettes.

    Two hash indexes point at the same entries: by the exact normalized command, and by the
    command with ObjectIds and datetimes masked. Each key's entries are consumed in recorded
    order; a used entry is skipped lazily, so every lookup is O(1) amortized.

    The loose index is filled per command name on the first exact miss of that name: most
    commands match exactly, and masking a recorded command costs as much as indexing it.
    """

    def __init__(self) -> None:
        self._exact: dict[bytes, deque[Entry]] = {}
        self._loose: dict[bytes, deque[Entry]] = {}
        self._unmasked: dict[str, list[Entry]] = {}
        """Entries not yet in ``_loose``, by the first key of their normalized command."""
        self._by_name: dict[tuple[str, str], list[Entry]] = {}
        self.entries: list[Entry] = []
        self.too_large: list[Entry] = []
        """Recorded calls whose command was over the size cap, so they cannot be matched."""

    @classmethod
    def of(cls, calls: Iterable[MongoCall], source: str) -> CallIndex:
        """An index of ``calls`` from one cassette."""
        index = cls()
        index.add(calls, source)
        return index

    def add(self, calls: Iterable[MongoCall], source: str) -> None:
        """Index more recorded calls (they are consumed after those already added)."""
        for position, call in enumerate(calls):
            entry = Entry(call, source, position)
            if call.command_bson is None:
                self.too_large.append(entry)  # over the size cap when recorded; a miss says so
                continue
            command = call.command
            entry.normalized = recorded = normalized(command)
            self.entries.append(entry)
            self._exact.setdefault(key_of(recorded), deque()).append(entry)
            self._unmasked.setdefault(next(iter(recorded), ""), []).append(entry)
            name = (call.command_name, str(command.get("$db", call.database)))
            self._by_name.setdefault(name, []).append(entry)

    @staticmethod
    def _first_unused(queue: deque[Entry] | None) -> Entry | None:
        while queue:
            if not queue[0].used:
                return queue[0]
            queue.popleft()
        return None

    def take(self, command: Mapping[str, Any]) -> Match | None:
        """The next unused recording of ``command``, or None. Marks it used."""
        live = normalized(command)
        entry = self._first_unused(self._exact.get(key_of(live)))
        noise: list[str] = []
        if entry is None:
            self._mask(next(iter(live), ""))
            entry = self._first_unused(self._loose.get(loose_key_of(live)))
            if entry is None:
                return None
            noise = differences(live, entry.normalized)
        entry.used = True
        return Match(entry, noise)

    def _mask(self, name: str) -> None:
        """Put the entries of command ``name`` not yet there into the loose index, in order.

        Equal loose keys mean equal masked commands, so their first keys are equal too: the
        entries a lookup of ``name`` could find are all in ``_loose`` once this returns.
        """
        for entry in self._unmasked.pop(name, ()):
            if not entry.used:
                self._loose.setdefault(loose_key_of(entry.normalized), deque()).append(entry)

    def candidates(
        self, command: Mapping[str, Any], limit: int = 3
    ) -> list[tuple[Entry, list[str]]]:
        """The recorded calls closest to ``command`` (same command name first), with diffs."""
        name = next(iter(command), "")
        pool = self._by_name.get((name, str(command.get("$db", ""))))
        if not pool:
            pool = self.entries
        live = normalized(command)
        scored = [(entry, differences(live, entry.normalized)) for entry in pool]
        scored.sort(
            key=lambda pair: (pair[0].call.command_name != name, len(pair[1]), pair[0].used)
        )
        return scored[:limit]

    def unused(self) -> list[Entry]:
        """Recorded calls that were never asked for (driver housekeeping aside)."""
        return [
            entry
            for entry in self.entries
            if not entry.used and entry.call.command_name not in HOUSEKEEPING
        ]

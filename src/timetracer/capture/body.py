"""A body buffer whose memory is bounded by the cap, not by the body."""

from __future__ import annotations


class BodyBuffer:
    """Keeps the first ``cap`` bytes of a body and counts the rest.

    A body that arrives in one chunk (the usual case) is kept as that chunk, without a copy.
    Later chunks are appended to one growing ``bytearray``, so a body sent in many tiny chunks
    costs its stored bytes, not an object per chunk.
    """

    __slots__ = ("_cap", "_first", "_more", "_room", "total")

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._first = b""
        self._more: bytearray | None = None
        self._room = cap
        self.total = 0

    def add(self, chunk: bytes) -> None:
        """Account for one chunk, storing what still fits under the cap."""
        size = len(chunk)
        self.total += size
        room = self._room
        if room <= 0 or not size:
            return
        part = chunk if size <= room else chunk[:room]
        self._room = room - len(part)
        if self._more is not None:
            self._more += part
        elif not self._first:
            # bytes() copies a bytearray or memoryview the sender may reuse; bytes stay as is.
            self._first = bytes(part)
        else:
            self._more = bytearray(self._first)
            self._more += part

    @property
    def truncated(self) -> bool:
        """Whether more bytes passed than were kept."""
        return self.total > self._cap - self._room

    def value(self) -> bytes:
        """The stored bytes."""
        return self._first if self._more is None else bytes(self._more)

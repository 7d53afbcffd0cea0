"""A body buffer whose memory is bounded by the cap, not by the body."""

from __future__ import annotations


class BodyBuffer:
    """Keeps the first ``cap`` bytes of a body and counts the rest."""

    __slots__ = ("_chunks", "_room", "total")

    def __init__(self, cap: int) -> None:
        self._chunks: list[bytes] = []
        self._room = cap
        self.total = 0

    def add(self, chunk: bytes) -> None:
        """Account for one chunk, storing what still fits under the cap."""
        size = len(chunk)
        self.total += size
        if self._room <= 0 or not size:
            return
        if size <= self._room:
            self._chunks.append(bytes(chunk))
            self._room -= size
        else:
            self._chunks.append(bytes(chunk[: self._room]))
            self._room = 0

    @property
    def truncated(self) -> bool:
        """Whether more bytes passed than were kept."""
        return self.total > sum(len(c) for c in self._chunks)

    def value(self) -> bytes:
        """The stored bytes."""
        if len(self._chunks) == 1:
            return self._chunks[0]
        return b"".join(self._chunks)

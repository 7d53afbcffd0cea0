"""``timetracer.capture.body``: a body buffer bounded by the cap, not by the body."""

from __future__ import annotations

from timetracer.capture.body import BodyBuffer


def test_a_body_under_the_cap_is_kept_whole() -> None:
    buffer = BodyBuffer(10)
    buffer.add(b"abc")
    buffer.add(b"de")

    assert buffer.value() == b"abcde"
    assert buffer.total == 5
    assert not buffer.truncated


def test_a_body_exactly_at_the_cap_is_not_truncated() -> None:
    buffer = BodyBuffer(4)
    buffer.add(b"ab")
    buffer.add(b"cd")

    assert buffer.value() == b"abcd"
    assert not buffer.truncated


def test_a_body_over_the_cap_is_cut_and_marked_truncated_but_fully_counted() -> None:
    buffer = BodyBuffer(4)
    buffer.add(b"abc")
    buffer.add(b"def")
    buffer.add(b"ghi")

    assert buffer.value() == b"abcd"
    assert buffer.total == 9
    assert buffer.truncated


def test_memory_stays_bounded_however_many_chunks_arrive() -> None:
    buffer = BodyBuffer(8)
    for _ in range(1_000):
        buffer.add(b"x" * 1_000)

    assert len(buffer.value()) == 8
    assert buffer.total == 1_000_000


def test_a_zero_cap_keeps_nothing_but_counts_everything() -> None:
    buffer = BodyBuffer(0)
    buffer.add(b"abc")

    assert buffer.value() == b""
    assert buffer.total == 3
    assert buffer.truncated


def test_an_empty_body_under_a_zero_cap_is_not_truncated() -> None:
    buffer = BodyBuffer(0)
    buffer.add(b"")

    assert buffer.value() == b""
    assert not buffer.truncated


def test_chunks_are_copied_so_a_reused_buffer_does_not_change_what_was_kept() -> None:
    chunk = bytearray(b"abc")
    buffer = BodyBuffer(10)
    buffer.add(chunk)

    chunk[:] = b"xyz"

    assert buffer.value() == b"abc"

"""CallIndex: recorded calls consumed in order, loose matches, candidates for a miss."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from tests.unit.replay_support import find_one_command, mongo_call
from timetracer_replay import index as index_module
from timetracer_replay.index import CallIndex

OID_A = ObjectId("65a000000000000000000001")
OID_B = ObjectId("65b000000000000000000002")
OID_C = ObjectId("65c000000000000000000003")


def insert_command(oid: ObjectId, sku: str = "a") -> dict[str, Any]:
    return {"insert": "items", "ordered": True, "documents": [{"_id": oid, "sku": sku}],
            "$db": "db"}  # fmt: skip


def test_an_exact_match_answers_with_the_recorded_call_and_no_noise() -> None:
    call = mongo_call(find_one_command("a"), reply={"ok": 1.0, "n": 1})
    index = CallIndex.of([call], "one.cassette")

    match = index.take({**find_one_command("a"), "lsid": {"id": 1}})

    assert match is not None
    assert match.entry.call is call
    assert match.entry.source == "one.cassette"
    assert match.noise == []


def test_repeated_identical_commands_are_answered_in_recorded_order() -> None:
    first = mongo_call(find_one_command("a"), reply={"ok": 1.0, "turn": 1})
    second = mongo_call(find_one_command("a"), reply={"ok": 1.0, "turn": 2})
    index = CallIndex.of([first, second], "c")

    answers = [index.take(find_one_command("a")) for _ in range(2)]

    assert [m.entry.call for m in answers if m is not None] == [first, second]


def test_a_third_ask_of_a_twice_recorded_command_finds_nothing() -> None:
    calls = [mongo_call(find_one_command("a")), mongo_call(find_one_command("a"))]
    index = CallIndex.of(calls, "c")

    index.take(find_one_command("a"))
    index.take(find_one_command("a"))

    assert index.take(find_one_command("a")) is None


def test_a_command_never_recorded_finds_nothing() -> None:
    index = CallIndex.of([mongo_call(find_one_command("a"))], "c")

    assert index.take(find_one_command("b")) is None
    assert index.unused() == index.entries


def test_a_loose_match_reports_the_object_id_difference_as_noise() -> None:
    index = CallIndex.of([mongo_call(insert_command(OID_A))], "c")

    match = index.take(insert_command(OID_B))

    assert match is not None
    assert match.noise == [f"documents.0._id: {OID_B!r} live, {OID_A!r} recorded"]


def test_used_entries_are_skipped_by_both_kinds_of_match() -> None:
    recorded_a, recorded_b = mongo_call(insert_command(OID_A)), mongo_call(insert_command(OID_B))
    index = CallIndex.of([recorded_a, recorded_b], "c")

    loose = index.take(insert_command(OID_C))  # takes A, the first of the loose key
    again_a = index.take(insert_command(OID_A))  # A is used: its exact match is skipped

    assert loose is not None and loose.entry.call is recorded_a
    assert again_a is not None and again_a.entry.call is recorded_b
    assert again_a.noise == [f"documents.0._id: {OID_A!r} live, {OID_B!r} recorded"]
    assert index.take(insert_command(OID_A)) is None


def test_an_exact_match_is_preferred_over_an_earlier_loose_one() -> None:
    recorded_a, recorded_b = mongo_call(insert_command(OID_A)), mongo_call(insert_command(OID_B))
    index = CallIndex.of([recorded_a, recorded_b], "c")

    match = index.take(insert_command(OID_B))

    assert match is not None and match.entry.call is recorded_b and match.noise == []


def test_unused_lists_the_calls_never_asked_for_in_recorded_order() -> None:
    calls = [mongo_call(find_one_command(sku)) for sku in "abc"]
    index = CallIndex.of(calls, "c")

    index.take(find_one_command("b"))

    assert [entry.call for entry in index.unused()] == [calls[0], calls[2]]
    assert [entry.position for entry in index.unused()] == [0, 2]


def test_calls_whose_command_was_over_the_size_cap_are_not_indexed() -> None:
    too_big = mongo_call(find_one_command("a"), command_size=20_000_000)
    index = CallIndex.of([too_big, mongo_call(find_one_command("b"))], "c")

    assert [entry.call.command["filter"] for entry in index.entries] == [{"sku": "b"}]
    assert index.take(find_one_command("a")) is None
    assert index.take(find_one_command("b")) is not None


def test_positions_follow_the_cassettes_call_order_past_a_call_over_the_cap() -> None:
    # Entry.position is documented as "its place in the cassette's call order"; diagnoses and
    # the runner print it as "recorded call #N".
    too_big = mongo_call(find_one_command("a"), command_size=20_000_000)
    index = CallIndex.of([too_big, mongo_call(find_one_command("b"))], "c")

    assert [entry.position for entry in index.entries] == [1]


def test_calls_added_later_are_consumed_after_those_already_added() -> None:
    index = CallIndex.of([mongo_call(find_one_command("a"))], "first")
    index.add([mongo_call(find_one_command("a"))], "second")

    sources = [index.take(find_one_command("a")), index.take(find_one_command("a"))]

    assert [m.entry.source for m in sources if m is not None] == ["first", "second"]


def test_loose_matches_added_after_a_loose_lookup_are_consumed_in_recorded_order() -> None:
    index = CallIndex.of([mongo_call(insert_command(OID_A))], "first")
    first = index.take(insert_command(OID_C))  # masks "first": its loose index now exists
    index.add([mongo_call(insert_command(OID_A)), mongo_call(insert_command(OID_B))], "second")

    later = [index.take(insert_command(OID_C)), index.take(insert_command(OID_C))]

    assert first is not None and first.entry.source == "first"
    assert [(m.entry.source, m.entry.position) for m in later if m is not None] == [
        ("second", 0),
        ("second", 1),
    ]
    assert index.take(insert_command(OID_C)) is None


def test_recorded_commands_are_masked_only_for_a_command_name_that_missed_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = [mongo_call(find_one_command("a")), mongo_call(insert_command(OID_A))]
    index = CallIndex.of(calls, "c")
    masked: list[Any] = []
    real = index_module.loose_key_of
    monkeypatch.setattr(index_module, "loose_key_of", lambda c: masked.append(c) or real(c))

    assert index.take(find_one_command("a")) is not None
    assert masked == []  # an exact match masks nothing
    assert index.take(insert_command(OID_B)) is not None

    assert [next(iter(command)) for command in masked] == ["insert", "insert"]  # recorded, live


def test_candidates_rank_the_fewest_differences_first_and_show_them() -> None:
    calls = [
        mongo_call({**find_one_command("x"), "sort": {"price": 1}}),
        mongo_call(find_one_command("b")),
        mongo_call({"insert": "items", "documents": [{"sku": "b"}], "$db": "db"}),
    ]
    index = CallIndex.of(calls, "c")

    ranked = index.candidates(find_one_command("a"))

    assert [entry.call for entry, _ in ranked] == [calls[1], calls[0]]
    assert ranked[0][1] == ["filter.sku: 'a' live, 'b' recorded"]
    assert len(ranked[1][1]) == 2


def test_candidates_put_the_same_command_name_first_even_with_more_differences() -> None:
    # No find on this database was recorded, so every call is a candidate.
    far_find = {"find": "orders", "filter": {"total": 3}, "sort": {"at": -1}, "skip": 4,
                "$db": "db"}  # fmt: skip
    near_insert = {"insert": "items", "$db": "other"}
    index = CallIndex.of([mongo_call(near_insert), mongo_call(far_find)], "c")

    ranked = index.candidates({"find": "items", "$db": "other"})

    assert [entry.call.command_name for entry, _ in ranked] == ["find", "insert"]
    assert len(ranked[0][1]) > len(ranked[1][1])


def test_candidates_put_unused_before_used_when_equally_close() -> None:
    calls = [mongo_call(find_one_command("a")), mongo_call(find_one_command("a"))]
    index = CallIndex.of(calls, "c")
    index.take(find_one_command("a"))

    ranked = index.candidates(find_one_command("a"))

    assert [entry.used for entry, _ in ranked] == [False, True]


def test_candidates_are_limited() -> None:
    index = CallIndex.of([mongo_call(find_one_command(str(n))) for n in range(10)], "c")

    assert len(index.candidates(find_one_command("a"))) == 3
    assert len(index.candidates(find_one_command("a"), limit=5)) == 5


def test_an_empty_index_has_no_candidates() -> None:
    assert CallIndex().candidates(find_one_command("a")) == []


def test_ten_thousand_distinct_calls_are_each_found_without_scanning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = [mongo_call(find_one_command(f"sku-{n}")) for n in range(10_000)]
    index = CallIndex.of(calls, "big")
    diffs: list[Any] = []
    monkeypatch.setattr(index_module, "differences", lambda *a: diffs.append(a) or [])
    queued = sum(len(q) for q in index._exact.values())

    found = [index.take(find_one_command(f"sku-{n}")) for n in reversed(range(10_000))]

    assert [m.entry.position for m in found if m is not None] == list(reversed(range(10_000)))
    assert diffs == []  # an exact match never compares documents
    assert queued == 10_000 and len(index._exact) == 10_000
    assert max(len(q) for q in index._exact.values()) == 1
    assert sum(len(q) for q in index._loose.values()) <= 10_000
    assert index.unused() == []

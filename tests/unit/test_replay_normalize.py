"""What of a command decides its recorded reply: session fields dropped, noise masked, diffs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from bson import Binary, ObjectId, Timestamp

from timetracer_replay.normalize import (
    SESSION_FIELDS,
    differences,
    exact_key,
    loose_key,
    normalized,
)

FIND = {"find": "items", "filter": {"sku": "a"}, "limit": 1, "$db": "shop"}
SESSION = {
    "lsid": {"id": Binary(b"\x01" * 16, 4)},
    "$clusterTime": {"clusterTime": Timestamp(1700000000, 1), "signature": {"keyId": 7}},
    "txnNumber": 3,
    "$readPreference": {"mode": "primaryPreferred"},
    "autocommit": False,
    "startTransaction": True,
    "recoveryToken": {"token": 1},
    "maxTimeMS": 500,
}


@pytest.mark.parametrize("field", sorted(SESSION))
def test_each_session_field_is_dropped(field: str) -> None:
    command = {**FIND, field: SESSION[field]}

    assert normalized(command) == FIND
    assert field in SESSION_FIELDS


def test_commands_differing_only_in_session_fields_have_the_same_exact_key() -> None:
    live = {"find": "items", "filter": {"sku": "a"}, **SESSION, "limit": 1, "$db": "shop"}

    assert exact_key(live) == exact_key(FIND)


def test_read_concern_after_cluster_time_is_dropped_and_the_level_kept() -> None:
    command = {**FIND, "readConcern": {"level": "majority", "afterClusterTime": Timestamp(5, 1)}}

    assert normalized(command)["readConcern"] == {"level": "majority"}
    assert exact_key(command) == exact_key({**FIND, "readConcern": {"level": "majority"}})


def test_a_read_concern_holding_only_after_cluster_time_disappears() -> None:
    command = {**FIND, "readConcern": {"afterClusterTime": Timestamp(5, 1)}}

    assert "readConcern" not in normalized(command)
    assert exact_key(command) == exact_key(FIND)


def test_inserted_documents_get_their_id_first() -> None:
    monitored = {"insert": "items", "documents": [{"sku": "a", "n": 1, "_id": 7}], "$db": "shop"}
    on_the_wire = {"insert": "items", "documents": [{"_id": 7, "sku": "a", "n": 1}], "$db": "shop"}

    assert list(normalized(monitored)["documents"][0]) == ["_id", "sku", "n"]
    assert exact_key(monitored) == exact_key(on_the_wire)


def test_the_command_itself_is_not_changed() -> None:
    command = {**FIND, "lsid": 1, "documents": [{"a": 1, "_id": 2}]}

    normalized(command)

    assert "lsid" in command
    assert list(command["documents"][0]) == ["a", "_id"]


def test_a_different_filter_gives_a_different_exact_key() -> None:
    assert exact_key(FIND) != exact_key({**FIND, "filter": {"sku": "b"}})


def test_object_ids_and_datetimes_change_the_exact_key_but_not_the_loose_key() -> None:
    def insert(oid: ObjectId, when: dt.datetime) -> dict[str, Any]:
        document = {"_id": oid, "sku": "a", "at": when, "tags": [{"by": oid}]}
        return {"insert": "items", "documents": [document], "$db": "shop"}

    recorded = insert(ObjectId("65a000000000000000000001"), dt.datetime(2024, 1, 1, 12))
    live = insert(ObjectId("65b000000000000000000002"), dt.datetime(2025, 6, 30, 8, 15))

    assert exact_key(live) != exact_key(recorded)
    assert loose_key(live) == loose_key(recorded)


def test_the_loose_key_still_tells_different_filters_apart() -> None:
    assert loose_key(FIND) != loose_key({**FIND, "filter": {"sku": "b"}})
    assert loose_key(FIND) != loose_key({**FIND, "filter": {"sku": ObjectId()}})


def test_the_loose_key_ignores_session_fields_too() -> None:
    assert loose_key({**FIND, **SESSION}) == loose_key(FIND)


def test_identical_documents_have_no_differences() -> None:
    assert differences(FIND, dict(FIND)) == []


def test_a_nested_difference_is_reported_at_its_dotted_path() -> None:
    live = {"find": "items", "filter": {"price": {"$gt": 5}}}
    recorded = {"find": "items", "filter": {"price": {"$gt": 6}}}

    assert differences(live, recorded) == ["filter.price.$gt: 5 live, 6 recorded"]


def test_list_items_are_compared_by_index() -> None:
    live = {"aggregate": "items", "pipeline": [{"$match": {"sku": "a"}}, {"$limit": 2}]}
    recorded = {"aggregate": "items", "pipeline": [{"$match": {"sku": "b"}}, {"$limit": 2}]}

    assert differences(live, recorded) == ["pipeline.0.$match.sku: 'a' live, 'b' recorded"]


def test_lists_of_different_lengths_are_reported_by_their_lengths() -> None:
    live = {"documents": [{"a": 1}, {"a": 2}]}
    recorded = {"documents": [{"a": 1}]}

    assert differences(live, recorded) == ["documents: 2 items live, 1 recorded"]


def test_keys_present_on_one_side_only_are_named_with_their_side() -> None:
    live = {"find": "items", "sort": {"price": 1}}
    recorded = {"find": "items", "skip": 10}

    assert differences(live, recorded) == [
        "sort: only in the live command ({'price': 1})",
        "skip: only in the recording (10)",
    ]


@pytest.mark.parametrize(
    ("live", "recorded"),
    [(1, 1.0), (1.0, 1), (True, 1), (1, True), (True, 1.0)],
    ids=["int-float", "float-int", "bool-int", "int-bool", "bool-float"],
)
def test_equal_values_of_different_types_are_a_difference(live: Any, recorded: Any) -> None:
    assert differences({"n": live}, {"n": recorded}) == [f"n: {live!r} live, {recorded!r} recorded"]


def test_a_difference_at_the_top_level_names_the_document() -> None:
    assert differences(1, 2) == ["(document): 1 live, 2 recorded"]


def test_a_mapping_against_a_scalar_is_one_difference_at_that_path() -> None:
    assert differences({"filter": {"sku": "a"}}, {"filter": "a"}) == [
        "filter: {'sku': 'a'} live, 'a' recorded"
    ]

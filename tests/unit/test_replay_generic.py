"""Plausible answers for administrative commands nobody recorded; None for anything else."""

from __future__ import annotations

import pytest
from bson import Int64

from tests.unit.replay_support import find_one_command
from timetracer_replay.generic import generic_reply


@pytest.mark.parametrize("name", ["ping", "endSessions", "dropIndexes"])
def test_simple_administrative_commands_succeed(name: str) -> None:
    assert generic_reply({name: 1, "$db": "admin"}) == {"ok": 1.0}


def test_create_indexes_counts_the_indexes_it_was_asked_for() -> None:
    command = {
        "createIndexes": "items",
        "indexes": [{"key": {"sku": 1}, "name": "sku_1"}, {"key": {"at": -1}, "name": "at_-1"}],
        "$db": "shop",
    }

    reply = generic_reply(command)

    assert reply is not None
    assert reply["ok"] == 1.0
    assert (reply["numIndexesBefore"], reply["numIndexesAfter"]) == (1, 3)


def test_list_indexes_answers_a_closed_cursor_with_the_id_index_of_that_namespace() -> None:
    reply = generic_reply({"listIndexes": "items", "cursor": {}, "$db": "shop"})

    assert reply is not None
    cursor = reply["cursor"]
    assert cursor["id"] == 0
    assert cursor["ns"] == "shop.items"
    assert cursor["firstBatch"] == [{"v": 2, "key": {"_id": 1}, "name": "_id_"}]


def test_kill_cursors_reports_every_cursor_as_killed() -> None:
    cursors = [Int64(11), Int64(12)]

    reply = generic_reply({"killCursors": "items", "cursors": cursors, "$db": "shop"})

    assert reply == {"ok": 1.0, "cursorsKilled": cursors, "cursorsNotFound": []}


@pytest.mark.parametrize(
    "command",
    [find_one_command("a"), {"insert": "items", "documents": [], "$db": "db"},
     {"aggregate": "items", "pipeline": [], "$db": "db"}, {"frobnicate": 1}, {}],
    ids=["find", "insert", "aggregate", "unknown", "empty"],
)  # fmt: skip
def test_anything_else_is_not_answered(command: dict[str, object]) -> None:
    assert generic_reply(command) is None


@pytest.mark.parametrize("name", ["buildInfo", "buildinfo"])
def test_build_info_names_a_server_version(name: str) -> None:
    reply = generic_reply({name: 1, "$db": "admin"})

    assert reply is not None
    assert reply["version"] == "7.0.0" and reply["versionArray"][:2] == [7, 0]


@pytest.mark.parametrize("name", ["getParameter", "getCmdLineOpts", "serverStatus"])
def test_server_introspection_commands_succeed(name: str) -> None:
    assert generic_reply({name: 1, "$db": "admin"}) == {"ok": 1.0}

"""The answerer: routing by wire request id, recorded replies and failures, misses, hello."""

from __future__ import annotations

from typing import Any

import bson
import pytest

from tests.unit.replay_support import (
    ITEM_A,
    find_one_command,
    find_reply,
    mongo_call,
    wire_message,
)
from timetracer.cassette import MongoCall
from timetracer_replay.answerer import MISS_CODE, Answerer, miss_diagnosis
from timetracer_replay.index import CallIndex
from timetracer_replay.scope import ClientOrigin, ReplayScope, Routing, ScopeRouter

ADDRESS = ("127.0.0.1", 40999)
REPLICA_SET = {"isWritablePrimary": True, "setName": "rs0", "hosts": ["db-1:27017"],
               "primary": "db-1:27017", "maxWireVersion": 21}  # fmt: skip


def scope_of(name: str, *calls: MongoCall, server: dict[str, Any] | None = None) -> ReplayScope:
    return ReplayScope(name=name, index=CallIndex.of(calls, name), server=server)


class Fixture:
    """An answerer with a router; ``ask`` routes a command from a scope and answers it."""

    def __init__(self, **answerer: Any) -> None:
        self.router = ScopeRouter()
        self.answerer = Answerer(self.router, **answerer)
        self.answerer.address = ADDRESS
        self.request_ids = iter(range(100, 10_000))

    def ask(
        self,
        command: dict[str, Any],
        scope: ReplayScope | None = None,
        origin: ClientOrigin | None = None,
    ) -> Any:
        request_id = next(self.request_ids)
        if scope is not None or origin is not None:
            self.router.note(request_id, Routing(scope, origin))
        return self.answerer(command, bson.encode(command), wire_message(request_id))


@pytest.fixture
def fixture() -> Fixture:
    return Fixture()


def test_a_recorded_command_is_answered_with_the_recorded_reply_bytes(fixture: Fixture) -> None:
    call = mongo_call(find_one_command("a"), reply=find_reply(ITEM_A))
    scope = scope_of("a.cassette", call)

    reply = fixture.ask({**find_one_command("a"), "lsid": {"id": 1}}, scope)

    assert reply == call.reply_bson
    assert scope.answered == 1
    assert scope.misses == [] and scope.noise == []


def test_each_command_is_answered_from_the_scope_noted_for_its_request_id(
    fixture: Fixture,
) -> None:
    scope_a = scope_of("a", mongo_call(find_one_command("x"), reply={"ok": 1.0, "from": "a"}))
    scope_b = scope_of("b", mongo_call(find_one_command("x"), reply={"ok": 1.0, "from": "b"}))
    fixture.router.note(1, Routing(scope_a, None))
    fixture.router.note(2, Routing(scope_b, None))
    command = find_one_command("x")

    from_b = fixture.answerer(command, bson.encode(command), wire_message(2))
    from_a = fixture.answerer(command, bson.encode(command), wire_message(1))

    assert bson.decode(from_b)["from"] == "b"
    assert bson.decode(from_a)["from"] == "a"
    assert (scope_a.answered, scope_b.answered) == (1, 1)


def test_a_recorded_failure_is_served_as_the_raw_failure_bytes(fixture: Fixture) -> None:
    failure = {"ok": 0.0, "errmsg": "E11000 duplicate key", "code": 11000,
               "codeName": "DuplicateKey"}  # fmt: skip
    command = {"insert": "items", "documents": [{"_id": 1}], "$db": "db"}
    call = mongo_call(command, failure=failure)

    reply = fixture.ask(command, scope_of("dup", call))

    assert reply == call.failure_bson
    assert bson.decode(reply)["code"] == 11000


def test_a_reply_over_the_cap_answers_an_error_naming_the_cap_and_counts_as_a_miss(
    fixture: Fixture,
) -> None:
    scope = scope_of("big.cassette", mongo_call(find_one_command("a"), reply_size=20_000_000))

    reply = fixture.ask(find_one_command("a"), scope)

    assert reply["ok"] == 0.0
    assert reply["code"] == MISS_CODE
    assert "TIMETRACER_MAX_REPLY_BYTES" in reply["errmsg"]
    assert "20000000 bytes" in reply["errmsg"]
    assert len(scope.misses) == 1
    assert scope.misses[0].cassette == "big.cassette"


def test_a_miss_names_the_cassette_the_live_command_and_the_closest_recorded_call(
    fixture: Fixture,
) -> None:
    scope = scope_of("cassettes/get-item.cassette", mongo_call(find_one_command("a")))

    reply = fixture.ask({**find_one_command("b"), "lsid": {"id": 1}}, scope)

    assert reply["ok"] == 0.0
    assert reply["code"] == MISS_CODE
    errmsg = reply["errmsg"]
    assert "no recorded MongoDB call answers find on db.items" in errmsg
    assert "cassette: cassettes/get-item.cassette" in errmsg
    assert '"filter": {"sku": "b"}' in errmsg
    assert "lsid" not in errmsg
    assert "#1 find (unused)" in errmsg
    assert "filter.sku: 'b' live, 'a' recorded" in errmsg
    assert [miss.cassette for miss in scope.misses] == ["cassettes/get-item.cassette"]
    assert scope.misses[0].diagnosis in errmsg
    assert fixture.answerer.orphan_misses == []


def test_asking_a_recorded_call_once_too_often_says_it_was_already_used(
    fixture: Fixture,
) -> None:
    scope = scope_of("c", mongo_call(find_one_command("a")))
    fixture.ask(find_one_command("a"), scope)

    reply = fixture.ask(find_one_command("a"), scope)

    assert "#1 find (already used)" in reply["errmsg"]
    assert "(nothing: recorded once, asked again)" in reply["errmsg"]


def test_a_miss_in_a_cassette_without_calls_says_so(fixture: Fixture) -> None:
    reply = fixture.ask(find_one_command("a"), scope_of("empty.cassette"))

    assert "the cassette recorded no MongoDB calls" in reply["errmsg"]


def test_a_miss_on_a_command_recorded_over_the_cap_says_it_was_too_large(
    fixture: Fixture,
) -> None:
    # index.py skips such calls with the comment "a miss will say so".
    too_big = mongo_call(find_one_command("a"), command_size=20_000_000)

    reply = fixture.ask(find_one_command("a"), scope_of("big-command.cassette", too_big))

    assert "recorded no MongoDB calls" not in reply["errmsg"]
    assert "TIMETRACER_MAX_REPLY_BYTES" in reply["errmsg"]


def test_a_miss_outside_any_scope_is_an_orphan_miss(fixture: Fixture) -> None:
    reply = fixture.ask(find_one_command("a"))

    assert reply["code"] == MISS_CODE
    assert "outside any replayed request" in reply["errmsg"]
    assert len(fixture.answerer.orphan_misses) == 1
    assert fixture.answerer.orphan_misses[0].cassette is None


def test_a_default_scope_answers_commands_no_scope_claimed() -> None:
    call = mongo_call(find_one_command("a"), reply=find_reply(ITEM_A))
    pinned = scope_of("pinned.cassette", call)
    fixture = Fixture(default=pinned)

    assert fixture.ask(find_one_command("a")) == call.reply_bson
    assert pinned.answered == 1


def test_administrative_commands_nobody_recorded_get_a_generic_answer(fixture: Fixture) -> None:
    scope = scope_of("c", mongo_call(find_one_command("a")))

    assert fixture.ask({"ping": 1, "$db": "admin"}, scope) == {"ok": 1.0}
    assert fixture.ask({"endSessions": [], "$db": "admin"}) == {"ok": 1.0}
    assert scope.misses == [] and fixture.answerer.orphan_misses == []


def test_a_recorded_administrative_command_is_served_from_its_recording(
    fixture: Fixture,
) -> None:
    call = mongo_call({"ping": 1, "$db": "db"}, reply={"ok": 1.0, "recorded": True})

    reply = fixture.ask({"ping": 1, "$db": "db"}, scope_of("c", call))

    assert reply == call.reply_bson


def test_loose_matches_are_answered_and_their_differences_kept_as_noise(
    fixture: Fixture,
) -> None:
    recorded = {"insert": "items", "documents": [{"_id": bson.ObjectId(), "sku": "a"}],
                "$db": "db"}  # fmt: skip
    live = {"insert": "items", "documents": [{"_id": bson.ObjectId(), "sku": "a"}], "$db": "db"}
    call = mongo_call(recorded, reply={"ok": 1.0, "n": 1})
    scope = scope_of("c", call)

    reply = fixture.ask(live, scope)

    assert reply == call.reply_bson
    assert len(scope.noise) == 1
    assert scope.noise[0].startswith("insert: documents.0._id: ")


def test_hello_is_answered_with_the_scopes_recorded_server_at_the_responder_address(
    fixture: Fixture,
) -> None:
    scope = scope_of("rs.cassette", server=REPLICA_SET)

    reply = fixture.ask({"hello": 1, "$db": "admin"}, scope)

    assert reply["setName"] == "rs0"
    assert reply["hosts"] == ["127.0.0.1:40999"]
    assert reply["isWritablePrimary"] is True
    assert scope.misses == []


def test_an_unrouted_hello_uses_the_answerers_server_and_legacy_names_get_ismaster(
    fixture: Fixture,
) -> None:
    fixture.answerer.server = REPLICA_SET

    reply = fixture.ask({"isMaster": 1, "$db": "admin"})

    assert reply["setName"] == "rs0"
    assert reply["ismaster"] is True
    assert "isWritablePrimary" not in reply


def test_a_miss_goes_to_the_passthrough_when_the_client_origin_is_known() -> None:
    asked: list[tuple[ClientOrigin, dict[str, Any]]] = []

    def passthrough(origin: ClientOrigin, command: dict[str, Any]) -> dict[str, Any]:
        asked.append((origin, command))
        return {"ok": 1.0, "live": True}

    fixture = Fixture(passthrough=passthrough)
    origin = ClientOrigin(("mongodb://db.example:27017/",), {})
    scope = scope_of("c", mongo_call(find_one_command("a")))

    reply = fixture.ask(find_one_command("b"), scope, origin)

    assert reply == {"ok": 1.0, "live": True}
    assert asked == [(origin, find_one_command("b"))]
    assert scope.misses == []
    assert scope.noise == ["find: not recorded, answered by the real database"]


def test_a_recorded_command_is_not_sent_to_the_passthrough() -> None:
    def passthrough(origin: ClientOrigin, command: dict[str, Any]) -> Any:
        raise AssertionError("the passthrough must not be asked")

    fixture = Fixture(passthrough=passthrough)
    call = mongo_call(find_one_command("a"))

    reply = fixture.ask(find_one_command("a"), scope_of("c", call), ClientOrigin((), {}))

    assert reply == call.reply_bson


def test_the_diagnosis_shows_at_most_three_candidates_and_six_differences_each() -> None:
    recorded = {"find": "items", **{f"f{n}": n for n in range(10)}, "$db": "db"}
    scope = scope_of("c", *[mongo_call(recorded) for _ in range(5)])

    diagnosis = miss_diagnosis(scope, find_one_command("a"))

    assert diagnosis.count("(unused), differs at:") == 3
    assert diagnosis.count("      - ") == 18

"""ReplaySession and replay_cassette: real PyMongo clients answered from recorded cassettes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure

from tests.unit.replay_support import (
    ITEM_A,
    PING,
    SHOP_URI,
    call_attributes,
    cassette_of,
    find_one_command,
    find_reply,
    record,
    write_recording,
)
from tests.unit.spans import write_cassette
from timetracer.cassette import Cassette, load_cassette
from timetracer.errors import ReplayMissError
from timetracer_replay import session as session_module
from timetracer_replay.scope import current_scope
from timetracer_replay.session import (
    ReplaySession,
    global_session,
    replay_cassette,
    scope_for,
    scope_for_many,
)

REPLICA_SET = {"isWritablePrimary": True, "setName": "rs0", "hosts": ["db-1:27017"],
               "primary": "db-1:27017", "minWireVersion": 0, "maxWireVersion": 21}  # fmt: skip
ITEM_B = {"_id": 2, "sku": "a", "price": 9}


@pytest.fixture
def session() -> Iterator[ReplaySession]:
    started = ReplaySession().start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def recorded(tracer: Tracer, memory: InMemorySpanExporter) -> Any:
    """``recorded(*calls)``: a cassette whose request made ``calls`` (call_attributes)."""

    def make(*calls: dict[str, Any]) -> Cassette:
        return cassette_of(memory, record(tracer, calls=calls))

    return make


def find_a(reply_item: dict[str, Any] = ITEM_A, **extra: Any) -> dict[str, Any]:
    return call_attributes(find_one_command("a"), reply=find_reply(reply_item), **extra)


def shop_client() -> MongoClient[dict[str, Any]]:
    return MongoClient(SHOP_URI, serverSelectionTimeoutMS=2000)


def seeds_of_a_new_client() -> set[tuple[str, int]]:
    client: MongoClient[Any] = MongoClient(SHOP_URI, connect=False)
    seeds = set(client._topology_settings.seeds)
    client.close()
    return seeds


def test_start_listens_on_loopback_and_is_idempotent() -> None:
    session = ReplaySession()
    try:
        assert session.start() is session
        address = session.address
        assert session.start() is session
        assert session.address == address
        assert address[0] == "127.0.0.1" and address[1] > 0
        assert seeds_of_a_new_client() == {address}
    finally:
        session.stop()


def test_stop_restores_client_construction_and_is_idempotent() -> None:
    session = ReplaySession().start()

    session.stop()
    session.stop()

    assert seeds_of_a_new_client() == {("db.invalid", 27017)}


def test_a_stopped_session_can_start_again(recorded: Any) -> None:
    session = ReplaySession().start()
    session.stop()
    session.start()
    try:
        with replay_cassette(recorded(find_a()), session=session):
            client = shop_client()
            assert client.db.items.find_one({"sku": "a"}) == ITEM_A
            client.close()
    finally:
        session.stop()


def test_a_client_made_inside_replay_cassette_gets_the_recorded_documents(
    recorded: Any, session: ReplaySession
) -> None:
    cassette = recorded(call_attributes(PING), find_a())

    with replay_cassette(cassette, session=session) as scope:
        client = shop_client()
        client.db.command("ping")
        found = client.db.items.find_one({"sku": "a"})
        client.close()

    assert found == ITEM_A
    assert scope.answered == 2
    assert scope.misses == [] and scope.index.unused() == []


@pytest.mark.anyio
async def test_an_async_client_gets_the_recorded_documents(
    recorded: Any, session: ReplaySession
) -> None:
    with replay_cassette(recorded(find_a()), session=session) as scope:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            SHOP_URI, serverSelectionTimeoutMS=2000
        )
        found = await client.db.items.find_one({"sku": "a"})
        await client.close()

    assert found == ITEM_A
    assert scope.misses == []


def test_replay_cassette_loads_a_cassette_file(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter, session: ReplaySession
) -> None:
    path = write_recording(tmp_path, tracer, memory, calls=[find_a()])

    with replay_cassette(path, session=session) as scope:
        client = shop_client()
        assert client.db.items.find_one({"sku": "a"}) == ITEM_A
        client.close()

    assert scope.name == str(path)


def test_a_strict_block_with_a_miss_raises_the_miss_on_exit(
    recorded: Any, session: ReplaySession
) -> None:
    cassette = recorded(find_a())

    with pytest.raises(ReplayMissError) as raised, replay_cassette(cassette, session=session):
        client = shop_client()
        with pytest.raises(OperationFailure, match="timetracer replay miss"):
            client.db.items.find_one({"sku": "b"})
        client.close()

    assert "filter.sku: 'b' live, 'a' recorded" in raised.value.diagnosis
    assert raised.value.cassette == cassette.trace_id


def test_a_non_strict_block_keeps_its_misses_on_the_scope(
    recorded: Any, session: ReplaySession
) -> None:
    with replay_cassette(recorded(find_a()), session=session, strict=False) as scope:
        client = shop_client()
        with pytest.raises(OperationFailure):
            client.db.items.find_one({"sku": "b"})
        client.close()

    assert len(scope.misses) == 1
    assert [entry.call.command_name for entry in scope.index.unused()] == ["find"]


def test_a_client_made_before_the_block_is_answered_from_the_scope_active_when_it_sends(
    recorded: Any, session: ReplaySession
) -> None:
    client = shop_client()
    first, second = recorded(find_a(ITEM_A)), recorded(find_a(ITEM_B))

    with replay_cassette(first, session=session):
        from_first = client.db.items.find_one({"sku": "a"})
    with replay_cassette(second, session=session):
        from_second = client.db.items.find_one({"sku": "a"})
    client.close()

    assert (from_first, from_second) == (ITEM_A, ITEM_B)


def test_concurrent_threads_are_answered_from_their_own_scopes(
    recorded: Any, session: ReplaySession
) -> None:
    client = shop_client()
    cassettes = {"first": recorded(find_a(ITEM_A)), "second": recorded(find_a(ITEM_B))}
    found: dict[str, Any] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        with replay_cassette(cassettes[name], session=session, strict=False):
            barrier.wait(timeout=5)
            found[name] = client.db.items.find_one({"sku": "a"})

    threads = [threading.Thread(target=work, args=(name,)) for name in cassettes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    client.close()

    assert found == {"first": ITEM_A, "second": ITEM_B}


def test_the_scope_is_current_only_inside_the_block_even_when_it_raises(
    recorded: Any, session: ReplaySession
) -> None:
    scope = scope_for(recorded())

    with pytest.raises(RuntimeError), session.scope(scope) as active:
        assert current_scope.get() is active is scope
        raise RuntimeError("the block failed")

    assert current_scope.get() is None


def test_hello_mirrors_the_recorded_replica_set(recorded: Any, session: ReplaySession) -> None:
    cassette = recorded(find_a(server=REPLICA_SET))

    with replay_cassette(cassette, session=session):
        client = shop_client()
        client.db.items.find_one({"sku": "a"})
        [server] = client.topology_description.server_descriptions().values()
        client.close()

    assert server.server_type_name == "RSPrimary"
    assert server.replica_set_name == "rs0"
    assert session.answerer.server == REPLICA_SET


def test_a_default_scope_answers_commands_sent_outside_any_block(recorded: Any) -> None:
    pinned = scope_for(recorded(find_a()))
    session = ReplaySession(pinned).start()
    try:
        client = shop_client()
        found = client.db.items.find_one({"sku": "a"})
        client.close()
    finally:
        session.stop()

    assert found == ITEM_A
    assert pinned.answered == 1


def test_a_miss_outside_any_block_is_kept_as_an_orphan(session: ReplaySession) -> None:
    client = shop_client()
    with pytest.raises(OperationFailure, match="outside any replayed request"):
        client.db.items.find_one({"sku": "a"})
    client.close()

    assert len(session.answerer.orphan_misses) == 1


def test_scope_for_is_named_after_the_file_or_else_the_trace_id(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    cassette = cassette_of(memory, record(tracer, calls=[find_a()]))
    path = write_cassette(tmp_path, list(memory.get_finished_spans()))

    assert scope_for(cassette).name == cassette.trace_id
    assert scope_for(load_cassette(path)).name == str(path)


def test_scope_for_takes_the_server_summary_of_the_first_call_that_has_one(
    recorded: Any,
) -> None:
    mongos = {"msg": "isdbgrid", "maxWireVersion": 21}
    cassette = recorded(call_attributes(PING), find_a(server=REPLICA_SET), find_a(server=mongos))

    scope = scope_for(cassette)

    assert scope.server == REPLICA_SET
    assert len(scope.index.entries) == 3


def test_scope_for_many_answers_from_every_cassette_in_order(recorded: Any) -> None:
    first, second = recorded(find_a(ITEM_A)), recorded(find_a(ITEM_B, server=REPLICA_SET))

    scope = scope_for_many([first, second], "suite")

    assert scope.name == "suite"
    assert scope.server == REPLICA_SET
    assert [entry.source for entry in scope.index.entries] == [first.trace_id, second.trace_id]
    taken = [scope.index.take(find_one_command("a")) for _ in range(2)]
    assert [m.entry.source for m in taken if m is not None] == [first.trace_id, second.trace_id]


def test_global_session_is_started_once_and_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "_session", None)
    shared = global_session()
    try:
        assert global_session() is shared
        assert seeds_of_a_new_client() == {shared.address}
    finally:
        shared.stop()

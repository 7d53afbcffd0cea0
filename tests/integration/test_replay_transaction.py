"""A transaction recorded against a replica-set topology replays with no server at all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from pymongo import MongoClient
from pymongo.errors import OperationFailure
from pymongo.server_type import SERVER_TYPE

from tests.integration.refused import counting_listener
from tests.support.toy_replica_set import SET_NAME, toy_replica_set
from timetracer.capture.mongo import MongoCapture
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.config import TraceConfig
from timetracer_exporter import CassetteSpanExporter
from timetracer_replay.session import ReplaySession, replay_cassette


def transfer(client: MongoClient[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move 10 from ann to bob in one transaction; return the accounts afterwards."""
    accounts = client.bank.accounts
    with client.start_session() as session, session.start_transaction():
        accounts.update_one({"name": "ann"}, {"$set": {"balance": 90}}, session=session)
        accounts.update_one({"name": "bob"}, {"$set": {"balance": 110}}, session=session)
        accounts.insert_one({"name": "log", "moved": 10}, session=session)
    return [{"name": a["name"], "balance": a.get("balance")} for a in accounts.find({})]


@dataclass
class Recorder:
    """PyMongo recording into a directory a test chooses."""

    provider: TracerProvider
    exporter: CassetteSpanExporter

    def into(self, cassette_dir: Path) -> TracerProvider:
        self.exporter.cassette_dir = cassette_dir
        return self.provider


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    # contrib's PymongoInstrumentor keeps the hooks and tracer of its first instrument() call
    # for the life of the process, so the module records through one provider throughout.
    config = TraceConfig(mode="record")
    exporter = CassetteSpanExporter(config=config)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    capture = MongoCapture(config)
    capture.register_server_listener()
    instrumentor = PymongoInstrumentor()
    instrumentor.instrument(
        tracer_provider=provider,
        request_hook=capture.request_hook,
        response_hook=capture.response_hook,
        failed_hook=capture.failed_hook,
    )
    yield Recorder(provider, exporter)
    instrumentor.uninstrument()
    capture.enabled = False
    provider.shutdown()


def record_transfer(recorder: Recorder, cassette_dir: Path) -> list[dict[str, Any]]:
    provider = recorder.into(cassette_dir)
    with toy_replica_set() as toy:
        host, port = toy.address
        client: MongoClient[dict[str, Any]] = MongoClient(
            f"mongodb://{host}:{port}/?replicaSet={SET_NAME}", serverSelectionTimeoutMS=5000
        )
        client.bank.accounts.insert_many([{"name": "ann", "balance": 100}, {"name": "bob"}])
        with provider.get_tracer("bank").start_as_current_span("nightly-transfer"):
            result = transfer(client)
        client.close()
        assert "commitTransaction" in toy.commands
    return result


def test_a_replica_set_transaction_replays_without_the_server(
    recorder: Recorder, tmp_path: Path
) -> None:
    recorded = record_transfer(recorder, tmp_path / "cassettes")
    [path] = iter_cassette_paths(tmp_path / "cassettes")
    cassette = load_cassette(path)
    names = [c.command_name for c in cassette.calls]
    assert names == ["update", "update", "insert", "commitTransaction", "find"]
    assert cassette.calls[0].server["setName"] == SET_NAME
    assert cassette.calls[0].command["startTransaction"] is True

    session = ReplaySession().start()
    try:
        with counting_listener() as database, replay_cassette(path, session=session) as scope:
            client: MongoClient[dict[str, Any]] = MongoClient(
                f"{database.uri}&replicaSet={SET_NAME}", username="app", password="secret"
            )
            replayed = transfer(client)
            kinds = {
                d.server_type for d in client.topology_description.server_descriptions().values()
            }
            client.close()
    finally:
        session.stop()
    assert replayed == recorded
    assert kinds == {SERVER_TYPE.RSPrimary}
    assert scope.misses == []
    assert scope.index.unused() == []
    assert database.count == 0


def test_a_recorded_command_failure_replays_as_the_same_exception(
    recorder: Recorder, tmp_path: Path
) -> None:
    provider = recorder.into(tmp_path / "cassettes")
    with toy_replica_set() as toy:
        host, port = toy.address
        client: MongoClient[dict[str, Any]] = MongoClient(f"mongodb://{host}:{port}/")
        with (
            provider.get_tracer("t").start_as_current_span("bad-query"),
            pytest.raises(OperationFailure) as recorded,
        ):
            client.db.items.find_one({"$bogus": 1})
        client.close()
    [path] = iter_cassette_paths(tmp_path / "cassettes")
    assert load_cassette(path).calls[0].failed

    session = ReplaySession().start()
    try:
        with replay_cassette(path, session=session):
            client = MongoClient("mongodb://db.invalid:27017/")
            with pytest.raises(OperationFailure) as replayed:
                client.db.items.find_one({"$bogus": 1})
            client.close()
    finally:
        session.stop()
    assert type(replayed.value) is type(recorded.value)
    assert replayed.value.code == recorded.value.code == 2
    assert str(replayed.value) == str(recorded.value)

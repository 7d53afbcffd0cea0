"""Pointing PyMongo clients at the responder: the URI, the arguments, the constructor wrap."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from bson.son import SON
from opentelemetry.instrumentation.utils import unwrap
from pymongo import AsyncMongoClient, MongoClient, monitoring

from timetracer_replay.clients import ClientRedirector, redirected_arguments, responder_uri
from timetracer_replay.scope import ClientOrigin

ADDRESS = ("127.0.0.1", 45678)
ORIGINAL_SEEDS = {("db.invalid", 27017)}


def options_of(uri: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(uri).query))


def test_the_uri_keeps_the_database_and_command_options_and_drops_connection_ones() -> None:
    original = (
        "mongodb://app:s3cret@db-1:27017,db-2:27017/shop?w=majority&retryWrites=false"
        "&readPreference=secondaryPreferred&readConcernLevel=majority&replicaSet=rs0"
        "&authSource=admin&authMechanism=SCRAM-SHA-256&tls=true&tlsCAFile=/ca.pem"
        "&directConnection=false&compressors=zstd"
    )

    uri = responder_uri(original, ADDRESS)

    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("mongodb", "127.0.0.1:45678", "/shop")
    assert options_of(uri) == {
        "w": "majority",
        "retryWrites": "false",
        "readPreference": "secondaryPreferred",
        "readConcernLevel": "majority",
        "directConnection": "true",
    }
    assert "s3cret" not in uri and "app" not in parts.netloc


def test_an_srv_uri_becomes_a_plain_uri_without_any_dns_lookup() -> None:
    original = "mongodb+srv://app:pw@cluster0.nowhere.invalid/orders?retryWrites=true&w=majority"

    uri = responder_uri(original, ADDRESS)

    assert uri.startswith("mongodb://127.0.0.1:45678/orders?")
    assert options_of(uri) == {"retryWrites": "true", "w": "majority", "directConnection": "true"}
    client: MongoClient[Any] = MongoClient(uri, connect=False)
    assert client._topology_settings.seeds == {ADDRESS}
    client.close()


@pytest.mark.parametrize(
    "host",
    [None, "localhost", "db-1:27017", ["db-1:27017", "db-2:27018"], "mongodb://db-1:27017"],
    ids=["none", "name", "host-port", "host-list", "uri-without-database"],
)
def test_hosts_without_a_database_give_the_bare_responder_uri(host: Any) -> None:
    assert responder_uri(host, ADDRESS) == "mongodb://127.0.0.1:45678/?directConnection=true"


def test_a_host_list_of_uris_keeps_the_first_uris_database() -> None:
    uri = responder_uri(["mongodb://db-1/inventory?w=2", "mongodb://db-2/"], ADDRESS)

    assert uri == "mongodb://127.0.0.1:45678/inventory?w=2&directConnection=true"


def test_semicolon_separated_uri_options_are_kept_as_separate_options() -> None:
    # PyMongo accepts ";" between URI options; "w=majority;journal=true" is w and journal.
    uri = responder_uri("mongodb://db-1/shop?replicaSet=rs0;w=majority;journal=true", ADDRESS)

    client: MongoClient[Any] = MongoClient(uri, connect=False)
    assert client.write_concern.document == {"w": "majority", "j": True}
    client.close()


def test_redirected_arguments_point_at_the_responder_without_credentials() -> None:
    listener = monitoring.CommandListener()

    args, kwargs = redirected_arguments(
        ("mongodb://db-1/shop",),
        {"username": "app", "password": "pw", "authSource": "admin", "tls": True,
         "replicaset": "rs0", "w": 1, "appname": "shop"},
        ADDRESS,
        listener,
    )  # fmt: skip

    assert args == ("mongodb://127.0.0.1:45678/shop?directConnection=true", None)
    assert kwargs == {"w": 1, "appname": "shop", "event_listeners": [listener]}


def test_positional_document_class_and_tz_aware_are_kept_in_place() -> None:
    listener = monitoring.CommandListener()

    args, kwargs = redirected_arguments(("db-1", 27018, SON, True), {}, ADDRESS, listener)

    assert args[1:] == (None, SON, True)
    client = MongoClient(*args, connect=False, **kwargs)
    assert client.codec_options.document_class is SON
    assert client.codec_options.tz_aware is True
    assert client._topology_settings.seeds == {ADDRESS}
    client.close()


def test_keyword_document_class_and_tz_aware_are_kept() -> None:
    args, kwargs = redirected_arguments(
        (), {"host": "db-1", "port": 27018, "document_class": SON, "tz_aware": True}, ADDRESS,
        monitoring.CommandListener(),
    )  # fmt: skip

    assert args == ("mongodb://127.0.0.1:45678/?directConnection=true", None)
    assert kwargs["document_class"] is SON and kwargs["tz_aware"] is True
    assert "host" not in kwargs and "port" not in kwargs


def test_the_listener_is_appended_once_and_the_apps_list_is_not_changed() -> None:
    own, listener = monitoring.CommandListener(), monitoring.CommandListener()
    apps_listeners = [own]

    _, first = redirected_arguments((), {"event_listeners": apps_listeners}, ADDRESS, listener)
    _, again = redirected_arguments((), first, ADDRESS, listener)

    assert first["event_listeners"] == [own, listener]
    assert again["event_listeners"] == [own, listener]
    assert apps_listeners == [own]


class Redirection:
    """A ClientRedirector at ADDRESS recording every origin it was asked a listener for."""

    def __init__(self, address: tuple[str, int] = ADDRESS) -> None:
        self.origins: list[ClientOrigin] = []
        self.listener = monitoring.CommandListener()
        self.redirector = ClientRedirector(lambda: address, self._listener_for)

    def _listener_for(self, origin: ClientOrigin) -> monitoring.CommandListener:
        self.origins.append(origin)
        return self.listener


@pytest.fixture
def redirection() -> Iterator[Redirection]:
    made = Redirection()
    made.redirector.apply()
    try:
        yield made
    finally:
        made.redirector.undo()


def test_apply_redirects_mongo_client_construction(redirection: Redirection) -> None:
    client: MongoClient[Any] = MongoClient(
        "mongodb://app:pw@db.invalid:27017/shop?w=majority&replicaSet=rs0", connect=False
    )

    assert client._topology_settings.seeds == {ADDRESS}
    assert client._topology_settings.direct is True
    assert client._topology_settings.replica_set_name is None
    assert client.options.pool_options._credentials is None
    assert client.write_concern.document == {"w": "majority"}
    assert client.get_default_database().name == "shop"
    assert redirection.listener in client.options.event_listeners
    assert redirection.origins == [
        ClientOrigin(("mongodb://app:pw@db.invalid:27017/shop?w=majority&replicaSet=rs0",),
                     {"connect": False})
    ]  # fmt: skip
    client.close()


@pytest.mark.anyio
async def test_apply_redirects_async_mongo_client_construction(redirection: Redirection) -> None:
    client: AsyncMongoClient[Any] = AsyncMongoClient(
        "mongodb://db.invalid:27017/", username="app", password="pw", connect=False
    )

    assert client._topology_settings.seeds == {ADDRESS}
    assert client.options.pool_options._credentials is None
    assert redirection.listener in client.options.event_listeners
    await client.close()


def construct_seeds() -> set[tuple[str, int]]:
    client: MongoClient[Any] = MongoClient("mongodb://db.invalid:27017/", connect=False)
    seeds = set(client._topology_settings.seeds)
    client.close()
    return seeds


def test_undo_restores_normal_construction() -> None:
    made = Redirection()
    made.redirector.apply()
    made.redirector.undo()

    assert construct_seeds() == ORIGINAL_SEEDS
    assert made.origins == []
    assert not hasattr(MongoClient.__init__, "__wrapped__")
    assert not hasattr(AsyncMongoClient.__init__, "__wrapped__")


def test_bypassed_constructs_normally_only_inside_the_block(redirection: Redirection) -> None:
    with redirection.redirector.bypassed():
        inside = construct_seeds()
    after = construct_seeds()

    assert inside == ORIGINAL_SEEDS
    assert after == {ADDRESS}


def test_bypassed_applies_only_to_the_thread_that_entered_it(redirection: Redirection) -> None:
    seen: list[set[tuple[str, int]]] = []
    with redirection.redirector.bypassed():
        thread = threading.Thread(target=lambda: seen.append(construct_seeds()))
        thread.start()
        thread.join()

    assert seen == [{ADDRESS}]


def test_undoing_one_redirector_leaves_another_still_applied_in_charge() -> None:
    first, second = Redirection(("127.0.0.1", 1111)), Redirection(("127.0.0.1", 2222))
    first.redirector.apply()
    second.redirector.apply()
    try:
        first.redirector.undo()

        assert construct_seeds() == {("127.0.0.1", 2222)}
    finally:
        first.redirector.undo()
        second.redirector.undo()
        for cls in (MongoClient, AsyncMongoClient):  # whatever the undo order left behind
            while hasattr(cls.__init__, "__wrapped__"):
                unwrap(cls, "__init__")

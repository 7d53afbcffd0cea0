"""WireServer against real PyMongo clients (sync and async) and against hostile bytes."""

from __future__ import annotations

import itertools
import logging
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import bson
import pymongo
import pytest
from bson import Int64
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.errors import DuplicateKeyError, OperationFailure
from pymongo.message import _op_msg, _OpMsg

from timetracer_replay import wire
from timetracer_replay.wire import OpMsg, OpQuery
from timetracer_replay.wire_server import WireServer

HELLO = {
    "isWritablePrimary": True, "helloOk": True, "maxWireVersion": 21, "minWireVersion": 0,
    "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000, "maxWriteBatchSize": 100000,
    "logicalSessionTimeoutMinutes": 30, "ok": 1.0,
}


class ToyMongo:
    """An in-memory answerer: hello, ping, insert, find with cursors, getMore, endSessions."""

    def __init__(self) -> None:
        self.collections: dict[str, dict[Any, dict[str, Any]]] = {}
        self.cursors: dict[int, list[dict[str, Any]]] = {}
        self.cursor_ids = itertools.count(1000)
        self.seen: list[tuple[str, bool]] = []  # (command name, moreToCome)

    def __call__(self, command: dict[str, Any], raw: bytes,
                 message: OpMsg | OpQuery) -> Mapping[str, Any] | None:
        name = next(iter(command))
        self.seen.append((name, message.more_to_come))
        if name.lower() in ("hello", "ismaster"):
            return {**HELLO, "ismaster": True} if isinstance(message, OpQuery) else HELLO
        if name == "boom":
            raise RuntimeError("the answerer broke")
        if name == "silent":
            return None
        namespace = f"{command['$db']}.{command.get(name)}"
        if name == "insert":
            collection = self.collections.setdefault(namespace, {})
            for document in command["documents"]:
                if document["_id"] in collection:
                    return {"ok": 0.0, "code": 11000, "codeName": "DuplicateKey",
                            "errmsg": f"E11000 duplicate key error dup key: {document['_id']}"}
                collection[document["_id"]] = document
            # Answered even for moreToCome (w=0): holding that reply back is the server's job.
            return {"n": len(command["documents"]), "ok": 1.0}
        if name == "find":
            found = list(self.collections.get(namespace, {}).values())
            return self.batch(namespace, found, command.get("batchSize"), "firstBatch")
        if name == "getMore":
            rest = self.cursors.pop(int(command["getMore"]))
            namespace = f"{command['$db']}.{command['collection']}"
            return self.batch(namespace, rest, command.get("batchSize"), "nextBatch")
        return {"ok": 1.0}  # ping, endSessions, killCursors

    def batch(self, namespace: str, documents: list[dict[str, Any]], size: int | None,
              field: str) -> dict[str, Any]:
        size = size or 101
        cursor_id = 0
        if len(documents) > size:
            cursor_id = next(self.cursor_ids)
            self.cursors[cursor_id] = documents[size:]
        return {"cursor": {"id": Int64(cursor_id), "ns": namespace, field: documents[:size]},
                "ok": 1.0}


@pytest.fixture
def toy() -> ToyMongo:
    return ToyMongo()


@pytest.fixture
def server(toy: ToyMongo) -> Iterator[WireServer]:
    with WireServer(toy) as running:
        yield running


def uri(server: WireServer) -> str:
    return f"mongodb://127.0.0.1:{server.address[1]}/?directConnection=true"


@pytest.fixture
def client(server: WireServer) -> Iterator[pymongo.MongoClient[dict[str, Any]]]:
    with pymongo.MongoClient(uri(server), serverSelectionTimeoutMS=2000) as mongo:
        yield mongo


def connect(server: WireServer) -> socket.socket:
    sock = socket.create_connection(server.address, timeout=2)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def read_reply(sock: socket.socket) -> tuple[wire.Header, dict[str, Any]]:
    """One reply, decoded the way pymongo decodes it (OP_MSG) or by hand (OP_REPLY)."""
    header = wire.parse_header(recv_exactly(sock, 16))
    body = recv_exactly(sock, header.body_length)
    if header.op_code == wire.OP_MSG:
        return header, _OpMsg.unpack(body).command_response(bson.DEFAULT_CODEC_OPTIONS)
    return header, bson.decode(body[20:])


def op_msg(command: dict[str, Any], flags: int = 0) -> tuple[int, bytes]:
    request_id, message, _, _ = _op_msg(flags, command, "admin", None, bson.DEFAULT_CODEC_OPTIONS)
    return request_id, bytes(message)


def raw(op_code: int, body: bytes, request_id: int = 31, length: int | None = None) -> bytes:
    return struct.pack("<iiii", 16 + len(body) if length is None else length, request_id, 0,
                       op_code) + body


def assert_client_still_works(server: WireServer) -> None:
    with pymongo.MongoClient(uri(server), serverSelectionTimeoutMS=2000) as mongo:
        assert mongo.admin.command("ping")["ok"] == 1.0


def test_sync_client_inserts_and_reads_back_through_a_cursor(
        client: pymongo.MongoClient[dict[str, Any]], toy: ToyMongo) -> None:
    orders = client.shop.orders
    for number in range(5):
        orders.insert_one({"_id": number, "qty": number * 2})

    found = list(orders.find({}, batch_size=2))

    assert [order["qty"] for order in found] == [0, 2, 4, 6, 8]
    names = [name for name, _ in toy.seen]
    assert names.count("getMore") == 2  # 2 + 2 + 1: the last batch carries cursor id 0
    assert "killCursors" not in names and toy.cursors == {}


def test_failure_reply_raises_the_matching_pymongo_exception(
        client: pymongo.MongoClient[dict[str, Any]]) -> None:
    client.shop.orders.insert_one({"_id": "A-1"})

    with pytest.raises(DuplicateKeyError) as info:
        client.shop.orders.insert_one({"_id": "A-1"})
    assert info.value.code == 11000


def test_failing_answerer_becomes_an_error_reply_and_the_server_keeps_serving(
        client: pymongo.MongoClient[dict[str, Any]]) -> None:
    with pytest.raises(OperationFailure, match="RuntimeError: the answerer broke") as info:
        client.admin.command("boom")
    assert (info.value.code, info.value.details["codeName"]) == (1, "InternalError")
    with pytest.raises(OperationFailure, match="the client expects a reply"):
        client.admin.command("silent")
    assert client.admin.command("ping")["ok"] == 1.0


def test_unacknowledged_write_gets_no_reply_and_the_connection_stays_in_step(
        client: pymongo.MongoClient[dict[str, Any]], toy: ToyMongo) -> None:
    fire_and_forget = client.shop.get_collection("log", write_concern=pymongo.WriteConcern(w=0))
    fire_and_forget.insert_one({"_id": 1})

    assert list(client.shop.log.find()) == [{"_id": 1}]  # a reply to w=0 would desync this
    assert ("insert", True) in toy.seen


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_client_inserts_finds_and_sees_failures(server: WireServer) -> None:
    async with pymongo.AsyncMongoClient(uri(server), serverSelectionTimeoutMS=2000) as mongo:
        orders = mongo.shop.orders
        await orders.insert_many([{"_id": number} for number in range(3)])
        found = await orders.find({}, batch_size=2).to_list()
        with pytest.raises(DuplicateKeyError):
            await orders.insert_one({"_id": 0})

    assert found == [{"_id": 0}, {"_id": 1}, {"_id": 2}]


@pytest.mark.anyio
async def test_motor_client_is_served_too(server: WireServer) -> None:
    motor_asyncio = pytest.importorskip("motor.motor_asyncio")
    mongo = motor_asyncio.AsyncIOMotorClient(uri(server), serverSelectionTimeoutMS=2000)
    try:
        await mongo.shop.orders.insert_one({"_id": "m-1"})
        assert await mongo.shop.orders.find_one() == {"_id": "m-1"}
    finally:
        mongo.close()


def test_legacy_op_query_hello_is_answered_with_op_reply(server: WireServer) -> None:
    hello = bson.encode({"isMaster": 1})
    query = struct.pack("<i", 0) + b"admin.$cmd\x00" + struct.pack("<ii", 0, -1) + hello
    find = struct.pack("<i", 0) + b"shop.$cmd\x00" + struct.pack("<ii", 0, -1)
    find += bson.encode({"find": "orders"})
    with connect(server) as sock:
        sock.sendall(raw(wire.OP_QUERY, query, request_id=11))
        header, reply = read_reply(sock)
        assert (header.op_code, header.response_to) == (wire.OP_REPLY, 11)
        assert reply["ismaster"] is True and reply["maxWireVersion"] == 21

        sock.sendall(raw(wire.OP_QUERY, find, request_id=12))
        header, reply = read_reply(sock)
        assert header.op_code == wire.OP_REPLY
        assert (reply["code"], reply["codeName"]) == (352, "UnsupportedOpQueryCommand")


@pytest.mark.parametrize(
    ("message", "code", "complaint"),
    [
        (raw(wire.OP_MSG, b"\x00" * 5 + b"\x30\x00\x00\x00\x00"), 22, "InvalidBSON"),
        (raw(wire.OP_MSG, b"\x00" * 4 + b"\x09" + bson.encode({"a": 1})), 17, "section kind 9"),
        (raw(2002, b"\x00" * 12), 17, "legacy OP_INSERT"),
        (raw(4242, b"garbage!"), 17, "opcode 4242"),
        (raw(wire.OP_COMPRESSED, struct.pack("<iiB", 2013, 5, 1) + b"zz"), 17, "snappy"),
    ],
)
def test_malformed_message_gets_an_error_reply_and_the_connection_goes_on(
        server: WireServer, message: bytes, code: int, complaint: str) -> None:
    with connect(server) as sock:
        sock.sendall(message)
        header, reply = read_reply(sock)
        assert header.response_to == 31
        assert reply["ok"] == 0 and reply["code"] == code
        assert complaint in reply["errmsg"] or complaint == reply["codeName"]

        request_id, ping = op_msg({"ping": 1})
        sock.sendall(ping)
        header, reply = read_reply(sock)
        assert (header.response_to, reply) == (request_id, {"ok": 1.0})


@pytest.mark.parametrize(
    "message",
    [op_msg({"boom": 1}, flags=wire.MORE_TO_COME)[1],
     raw(wire.OP_MSG, struct.pack("<I", wire.MORE_TO_COME) + b"\x00\x30\x00\x00\x00\x00")],
    ids=["failing-answerer", "invalid-bson"],
)
def test_more_to_come_messages_never_get_a_reply_even_when_they_fail(
        server: WireServer, message: bytes) -> None:
    request_id, ping = op_msg({"ping": 1})
    with connect(server) as sock:
        sock.sendall(message + ping)
        header, reply = read_reply(sock)
    assert (header.response_to, reply) == (request_id, {"ok": 1.0})


@pytest.mark.parametrize(("length", "code"), [(1 << 30, 10334), (8, 17), (-5, 17)])
def test_unframeable_header_gets_an_error_reply_then_the_connection_closes(
        server: WireServer, length: int, code: int) -> None:
    with connect(server) as sock:
        sock.sendall(raw(wire.OP_MSG, b"", length=length))
        _, reply = read_reply(sock)
        assert reply["code"] == code
        assert sock.recv(1) == b""  # closed: the stream can no longer be framed
    assert_client_still_works(server)


def test_messages_split_across_writes_or_sharing_one_are_each_answered(
        server: WireServer) -> None:
    first, ping = op_msg({"ping": 1})
    second, again = op_msg({"ping": 1})
    with connect(server) as sock:
        for byte in range(len(ping)):  # one message, a byte per write
            sock.sendall(ping[byte : byte + 1])
            time.sleep(0.001)
        assert read_reply(sock)[0].response_to == first
        sock.sendall(ping + again)  # two messages in one write
        assert [read_reply(sock)[0].response_to for _ in range(2)] == [first, second]


def test_a_message_larger_than_one_read_is_answered(client: pymongo.MongoClient[Any]) -> None:
    document = {"_id": 1, "blob": "x" * 300_000}  # several reads' worth of bytes

    client.shop.items.insert_one(document)

    assert client.shop.items.find_one() == document


def test_truncated_message_from_a_vanishing_client_does_not_hurt_others(
        server: WireServer) -> None:
    _, ping = op_msg({"ping": 1})
    with connect(server) as sock:
        sock.sendall(ping[:-4])
    with connect(server) as sock:
        sock.sendall(b"\x01\x02\x03")
    assert_client_still_works(server)
    assert server.connections_accepted >= 3


def test_failures_are_logged_once_per_cause(server: WireServer,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="timetracer_replay.wire_server")
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(raw(4242, b"x"))
            read_reply(sock)

    records = [r for r in caplog.records if "opcode 4242" in r.getMessage()]
    assert [r.levelno for r in records] == [logging.WARNING, logging.DEBUG, logging.DEBUG]


def test_awaitable_hello_is_held_for_max_await_time(server: WireServer) -> None:
    hello = {"hello": 1, "topologyVersion": {"counter": Int64(0)}, "maxAwaitTimeMS": 150}
    request_id, message = op_msg(hello, flags=wire.EXHAUST_ALLOWED)
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(message)
        header, reply = read_reply(sock)
    assert time.monotonic() - started >= 0.14
    assert header.response_to == request_id and reply["isWritablePrimary"] is True


def test_stop_wakes_held_hellos_and_closes_client_connections(toy: ToyMongo) -> None:
    server = WireServer(toy).start()
    hello = {"hello": 1, "topologyVersion": {"counter": Int64(0)}, "maxAwaitTimeMS": 60000}
    with connect(server) as held, connect(server) as idle:
        held.sendall(op_msg(hello)[1])
        time.sleep(0.05)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1
        assert held.recv(1) == b"" and idle.recv(1) == b""
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        server.start()


def test_address_needs_a_started_server(toy: ToyMongo) -> None:
    server = WireServer(toy)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.address
    server.stop()  # stopping a server that never started is harmless


def test_each_connection_is_served_by_its_own_thread(server: WireServer) -> None:
    socks = [connect(server) for _ in range(4)]
    try:
        results: list[float] = []

        def ping(sock: socket.socket) -> None:
            sock.sendall(op_msg({"ping": 1})[1])
            results.append(read_reply(sock)[1]["ok"])

        threads = [threading.Thread(target=ping, args=(sock,)) for sock in socks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=2)
        assert results == [1.0] * 4
    finally:
        for sock in socks:
            sock.close()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.lists(st.binary(min_size=1, max_size=120), min_size=1, max_size=3))
def test_random_bytes_never_stop_the_server(server: WireServer, data: list[bytes]) -> None:
    with connect(server) as sock:
        for chunk in data:
            try:
                sock.sendall(chunk)
            except OSError:  # the server may hang up on an unframeable header: that is fine
                break
    with connect(server) as sock:
        sock.sendall(op_msg({"ping": 1})[1])
        assert read_reply(sock)[1] == {"ok": 1.0}


def test_a_real_client_works_after_a_random_byte_storm(server: WireServer) -> None:
    generator = random.Random(20240601)
    for _ in range(30):
        with connect(server) as sock:
            sock.sendall(generator.randbytes(generator.randint(1, 300)))
    assert_client_still_works(server)

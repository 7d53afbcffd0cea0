"""The wire codec against the bytes pymongo itself produces and accepts."""

from __future__ import annotations

import contextlib
import struct
from typing import Any

import bson
import pytest
from bson import Int64, ObjectId
from bson.codec_options import DEFAULT_CODEC_OPTIONS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymongo.message import _op_msg, _OpMsg

from timetracer.errors import TimetracerError
from timetracer_replay import wire
from timetracer_replay.wire import OpMsg, OpQuery, WireProtocolError


def client_op_msg(command: dict[str, Any], db: str = "shop", flags: int = 0) -> bytes:
    """An OP_MSG exactly as pymongo builds it (document sequences for insert/update/delete)."""
    return bytes(_op_msg(flags, dict(command), db, None, DEFAULT_CODEC_OPTIONS)[1])


def legacy_op_query(query: dict[str, Any], collection: str = "admin.$cmd",
                    selector: dict[str, Any] | None = None, request_id: int = 7) -> bytes:
    """An OP_QUERY as pre-4.x drivers sent the handshake (pymongo 4.20 no longer does)."""
    body = struct.pack("<i", 0) + collection.encode() + b"\x00" + struct.pack("<ii", 0, -1)
    body += bson.encode(query) + (bson.encode(selector) if selector is not None else b"")
    return struct.pack("<iiii", 16 + len(body), request_id, 0, wire.OP_QUERY) + body


def parse(message: bytes) -> OpMsg | OpQuery:
    return wire.parse_message(wire.parse_header(message[:16]), message[16:])


def with_header(op_code: int, body: bytes, request_id: int = 5) -> bytes:
    return struct.pack("<iiii", 16 + len(body), request_id, 0, op_code) + body


def test_insert_document_sequence_is_merged_into_the_command() -> None:
    docs = [{"_id": ObjectId(), "sku": "A-1"}, {"_id": Int64(2), "qty": 3}]
    message = parse(client_op_msg({"insert": "orders", "ordered": True, "documents": docs}))

    assert isinstance(message, OpMsg)
    assert message.command == {"insert": "orders", "ordered": True, "$db": "shop",
                               "documents": docs}
    assert message.command_name == "insert"
    assert [bson.decode(raw) for raw in message.sequences["documents"]] == docs
    assert bson.decode(message.raw_command) == message.command
    assert "documents" not in bson.decode(message.body)


@pytest.mark.parametrize(("name", "field"), [("update", "updates"), ("delete", "deletes")])
def test_update_and_delete_sequences_are_merged(name: str, field: str) -> None:
    ops = [{"q": {"_id": 1}, "u": {"$set": {"a": 1}}}] if name == "update" else [
        {"q": {"_id": 1}, "limit": 1}]
    message = parse(client_op_msg({name: "orders", field: ops}))

    assert message.command[field] == ops
    assert list(message.sequences) == [field]  # type: ignore[union-attr]


def test_find_without_sequences_keeps_the_body_bytes_as_the_raw_command() -> None:
    message = parse(client_op_msg({"find": "orders", "filter": {"qty": {"$gt": 1}}}))

    assert isinstance(message, OpMsg)
    assert message.sequences == {}
    assert message.raw_command == message.body
    assert message.command == {"find": "orders", "filter": {"qty": {"$gt": 1}}, "$db": "shop"}
    assert not message.more_to_come and not message.exhaust_allowed


def test_flag_bits_expose_more_to_come_and_exhaust_allowed() -> None:
    unacknowledged = parse(client_op_msg({"insert": "c", "documents": [{}]}, flags=2))
    exhaust = parse(client_op_msg({"getMore": Int64(9), "collection": "c"}, flags=1 << 16))

    assert isinstance(unacknowledged, OpMsg) and unacknowledged.more_to_come
    assert isinstance(exhaust, OpMsg) and exhaust.exhaust_allowed and not exhaust.more_to_come


def test_checksum_is_verified_and_skipped() -> None:
    plain = client_op_msg({"ping": 1})
    flags = struct.unpack_from("<I", plain, 16)[0] | wire.CHECKSUM_PRESENT
    unsummed = struct.pack("<i", len(plain) + 4) + plain[4:16] + struct.pack("<I", flags)
    unsummed += plain[20:]
    summed = unsummed + struct.pack("<I", wire.crc32c(unsummed))

    message = parse(summed)
    assert isinstance(message, OpMsg)
    assert message.command == {"ping": 1, "$db": "shop"}
    assert message.checksum == wire.crc32c(unsummed)
    with pytest.raises(WireProtocolError, match="checksum"):
        parse(unsummed + b"\x00\x00\x00\x00")


def test_crc32c_matches_the_standard_check_value() -> None:
    assert wire.crc32c(b"123456789") == 0xE3069283


def test_legacy_op_query_hello_is_parsed() -> None:
    message = parse(legacy_op_query({"isMaster": 1, "client": {"driver": {"name": "old"}}}))

    assert isinstance(message, OpQuery)
    assert message.command_name == "isMaster"
    assert message.database == "admin"
    assert (message.number_to_skip, message.number_to_return) == (0, -1)
    assert message.raw_command == message.query
    assert not message.more_to_come


def test_op_query_wrapped_in_dollar_query_is_unwrapped() -> None:
    wrapped = {"$query": {"ismaster": 1}, "$readPreference": {"mode": "secondaryPreferred"}}
    message = parse(legacy_op_query(wrapped, selector={"ok": 1}))

    assert isinstance(message, OpQuery)
    assert message.command == {"ismaster": 1}
    assert bson.decode(message.raw_command) == {"ismaster": 1}
    assert message.return_fields_selector == bson.encode({"ok": 1})


def test_op_msg_reply_is_accepted_by_pymongo_and_raw_bytes_are_sent_unchanged() -> None:
    recorded = bson.encode({"cursor": {"id": Int64(0), "firstBatch": [{"a": 1}]}, "ok": 1.0})

    reply = wire.encode_op_msg_reply(41, 9, recorded)
    header = wire.parse_header(reply[:16])
    assert (header.response_to, header.request_id, header.op_code) == (41, 9, wire.OP_MSG)
    assert header.message_length == len(reply)
    unpacked = _OpMsg.unpack(reply[16:])
    assert bytes(unpacked.raw_command_response()) == recorded
    assert wire.encode_op_msg_reply(41, 9, bson.decode(recorded)) == reply


def test_op_reply_carries_one_document() -> None:
    reply = wire.encode_op_reply(7, 3, {"ismaster": True, "ok": 1.0})
    header = wire.parse_header(reply[:16])
    flags, cursor_id, starting_from, returned = struct.unpack_from("<iqii", reply, 16)

    assert (header.op_code, header.response_to, header.message_length) == (1, 7, len(reply))
    assert (flags, cursor_id, starting_from, returned) == (8, 0, 0, 1)
    assert bson.decode(reply[36:]) == {"ismaster": True, "ok": 1.0}


@pytest.mark.parametrize("document", [b"", b"\x05\x00\x00\x00", b"\x06\x00\x00\x00\x00\x00",
                                      {"bad": object()}, {1: "non-string key"}])
def test_unencodable_replies_raise_wire_protocol_error(document: Any) -> None:
    with pytest.raises(WireProtocolError, match="reply"):
        wire.encode_op_msg_reply(1, 2, document)


def test_wire_protocol_error_is_a_timetracer_value_error() -> None:
    assert issubclass(WireProtocolError, TimetracerError)
    assert issubclass(WireProtocolError, ValueError)


def test_short_header_and_lengths_that_cannot_frame_a_message_are_refused() -> None:
    with pytest.raises(WireProtocolError, match="header is 3 bytes"):
        wire.parse_header(b"abc")
    with pytest.raises(WireProtocolError, match="not longer than the 16-byte header") as info:
        wire.parse_header(struct.pack("<iiii", 16, 77, 0, wire.OP_MSG))
    assert info.value.request_id == 77


def test_huge_declared_length_is_refused_from_the_header_alone() -> None:
    with pytest.raises(WireProtocolError, match="exceeds maxMessageSizeBytes") as info:
        wire.parse_header(struct.pack("<iiii", 48_000_001, 1, 0, wire.OP_MSG))
    assert (info.value.code, info.value.code_name) == (10334, "BSONObjectTooLarge")


PING = bson.encode({"ping": 1, "$db": "admin"})


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        (with_header(wire.OP_MSG, b"\x00\x00"), "flagBits: needs 4 bytes"),
        (with_header(wire.OP_MSG, b"\x00" * 4), "no kind-0"),
        (with_header(wire.OP_MSG, b"\x00" * 4 + b"\x02" + PING), "section kind 2"),
        (with_header(wire.OP_MSG, b"\x00" * 4 + b"\x00" + PING + b"\x00" + PING),
         "only one kind 0"),
        (with_header(wire.OP_MSG, b"\x04\x00\x00\x00\x00" + PING), "unknown required bits"),
        (with_header(wire.OP_MSG, b"\x00" * 4 + b"\x00" + PING[:-3]), "truncated BSON"),
        (with_header(wire.OP_MSG, b"\x00" * 4 + b"\x00" + PING[:-1] + b"\x07"), "invalid BSON"),
        (with_header(wire.OP_MSG, b"\x00" * 4 + b"\x00" + PING + b"\x01\x50\x00\x00\x00x\x00"),
         "does not fit the message"),
        (with_header(wire.OP_MSG, b"\x00" * 4 + b"\x00" + bson.encode({"insert": "c", "d": 1})
                     + b"\x01" + struct.pack("<i", 4 + 2 + 5) + b"d\x00" + bson.encode({})),
         "both in the body and a document sequence"),
        (with_header(wire.OP_QUERY, b"\x00" * 4 + b"admin.$cmd"), "not NUL-terminated"),
        (with_header(wire.OP_QUERY, b"\x00" * 4 + b"a.$cmd\x00" + b"\x00" * 8 + PING + b"\x01"),
         "truncated BSON"),
        (with_header(wire.OP_COMPRESSED, struct.pack("<iiB", 2013, 10, 2) + b"xx"),
         r"OP_COMPRESSED \(zlib wrapping opcode 2013\) is not supported"),
        (with_header(2002, b"\x00" * 8), "legacy OP_INSERT"),
        (with_header(9999, b"\x00" * 8), "opcode 9999 .unknown opcode"),
    ],
)
def test_malformed_messages_raise_a_clear_wire_protocol_error(message: bytes,
                                                              complaint: str) -> None:
    with pytest.raises(WireProtocolError, match=complaint) as info:
        parse(message)
    assert info.value.request_id == 5


def test_body_shorter_than_the_header_declares_is_refused() -> None:
    message = client_op_msg({"ping": 1})
    with pytest.raises(WireProtocolError, match="declares"):
        wire.parse_message(wire.parse_header(message[:16]), message[16:-1])


SEEDS = [
    client_op_msg({"insert": "c", "documents": [{"a": i, "s": "x" * i} for i in range(3)]}),
    client_op_msg({"update": "c", "updates": [{"q": {}, "u": {"$inc": {"n": 1}}}]}),
    client_op_msg({"find": "c", "filter": {"a": 1}, "batchSize": 2}),
    legacy_op_query({"isMaster": 1}),
]


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[position : position + draw(st.integers(1, 8))]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        if not data:
            break
    # Usually keep the header's length honest, so mutations reach the section and BSON parsers.
    if len(data) >= 4 and draw(st.integers(0, 3)):
        data[:4] = struct.pack("<i", len(data))
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(mutated_messages(), st.binary(max_size=200)))
def test_parser_either_parses_or_raises_wire_protocol_error(data: bytes) -> None:
    # WireProtocolError is the only failure allowed; anything else fails the test.
    with contextlib.suppress(WireProtocolError):
        header = wire.parse_header(data[:16])
        # The body as received: a length that disagrees with the header must be reported.
        wire.parse_message(header, data[16:])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(min_size=1).filter(lambda key: "\x00" not in key
                                                   and not key.startswith("$")),
                       st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(), st.booleans()),
                       max_size=4),
       st.lists(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 9)), min_size=1,
                max_size=4))
def test_any_pymongo_insert_round_trips_through_the_parser(
        extra: dict[str, Any], documents: list[dict[str, Any]]) -> None:
    command = {"insert": "c", **extra, "documents": documents}
    message = parse(client_op_msg(command, db="d"))
    assert message.command == {**command, "$db": "d"}
    assert bson.decode(message.raw_command) == message.command

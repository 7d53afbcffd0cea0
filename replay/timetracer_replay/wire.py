"""MongoDB wire protocol codec: parse client messages, encode server replies. No sockets here.

Covers what a driver sends a server: OP_MSG (2013) for every command and the legacy OP_QUERY
(2004) handshake, answered with OP_REPLY (1). OP_COMPRESSED (2012) is recognised only to refuse
it: the responder never offers compression in ``hello``. Malformed input raises
:class:`WireProtocolError`, and nothing else escapes :func:`parse_header` or
:func:`parse_message`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import bson
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.errors import BSONError
from bson.raw_bson import RawBSONDocument

from timetracer.errors import WireProtocolError

OP_REPLY, OP_COMPRESSED, OP_MSG, OP_QUERY = 1, 2012, 2013, 2004
HEADER_SIZE = 16
MAX_MESSAGE_SIZE = 48_000_000
"""MongoDB's ``maxMessageSizeBytes``: larger declared lengths are refused before reading."""
CHECKSUM_PRESENT, MORE_TO_COME, EXHAUST_ALLOWED = 1, 1 << 1, 1 << 16
COMMAND_CODEC_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(
    datetime_conversion=DatetimeConversion.DATETIME_AUTO  # out-of-range dates are valid BSON
)
# The OP_MSG spec: parsers must fail on unknown bits among 0-15 and ignore bits 16-31.
_KNOWN_REQUIRED_BITS = CHECKSUM_PRESENT | MORE_TO_COME
_REMOVED_OPCODES = {2001: "OP_UPDATE", 2002: "OP_INSERT", 2005: "OP_GET_MORE",
                    2006: "OP_DELETE", 2007: "OP_KILL_CURSORS"}  # fmt: skip
_COMPRESSORS = {0: "noop", 1: "snappy", 2: "zlib", 3: "zstd"}
_HEADER, _INT32, _UINT32 = struct.Struct("<iiii"), struct.Struct("<i"), struct.Struct("<I")


@dataclass(frozen=True)
class Header:
    """The 16-byte header that starts every message."""

    message_length: int
    request_id: int
    response_to: int
    op_code: int

    @property
    def body_length(self) -> int:
        """Bytes that follow the header."""
        return self.message_length - HEADER_SIZE

    def pack(self) -> bytes:
        """The header as it travels on the wire."""
        return _HEADER.pack(self.message_length, self.request_id, self.response_to, self.op_code)


@dataclass(frozen=True)
class _Message:
    header: Header
    command: dict[str, Any] = field(repr=False)

    @property
    def command_name(self) -> str:
        """The first key of the command document, e.g. ``"find"`` or ``"isMaster"``."""
        return next(iter(self.command), "")

    @property
    def more_to_come(self) -> bool:
        """True when the client expects no reply (an unacknowledged write, ``w=0``)."""
        return False


@dataclass(frozen=True)
class OpMsg(_Message):
    """A parsed OP_MSG. ``command`` has the document sequences merged in as arrays, like the
    command pymongo's command monitoring publishes; ``body`` is the raw kind-0 section and
    ``sequences`` the raw documents of each kind-1 section (``documents``, ``updates``...)."""

    flag_bits: int = 0
    body: bytes = field(default=b"", repr=False)
    sequences: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict, repr=False)
    checksum: int | None = None

    @property
    def more_to_come(self) -> bool:
        """The moreToCome bit: the client will not read a reply (``w=0`` writes)."""
        return bool(self.flag_bits & MORE_TO_COME)

    @property
    def exhaust_allowed(self) -> bool:
        """The client would accept a stream of replies (exhaust cursor, streaming hello)."""
        return bool(self.flag_bits & EXHAUST_ALLOWED)

    @property
    def raw_command(self) -> bytes:
        """``command`` as BSON, spliced from the raw sections without decoding and re-encoding.

        Spliced on each access (the server asks once): a ``cached_property`` takes a lock.
        """
        if not self.sequences:
            return self.body
        parts = [self.body[4:-1]]
        for identifier, docs in self.sequences.items():
            items = b"".join(b"\x03%d\x00" % index + doc for index, doc in enumerate(docs))
            array = _INT32.pack(len(items) + 5) + items + b"\x00"
            parts.append(b"\x04" + identifier.encode() + b"\x00" + array)
        inner = b"".join(parts)
        return _INT32.pack(len(inner) + 5) + inner + b"\x00"


@dataclass(frozen=True)
class OpQuery(_Message):
    """A parsed legacy OP_QUERY: today only the ``hello``/``isMaster`` handshake uses it.
    ``command`` is the query document, unwrapped from ``$query`` when a driver wrapped it."""

    raw_command: bytes = field(default=b"", repr=False)
    query: bytes = field(default=b"", repr=False)
    full_collection_name: str = ""
    flags: int = 0
    number_to_skip: int = 0
    number_to_return: int = 0
    return_fields_selector: bytes | None = field(default=None, repr=False)

    @property
    def database(self) -> str:
        """The database part of ``full_collection_name`` (``admin`` for ``admin.$cmd``)."""
        return self.full_collection_name.partition(".")[0]


def parse_header(data: bytes, max_message_size: int = MAX_MESSAGE_SIZE) -> Header:
    """Read a message header, refusing lengths that cannot frame a message or are too large."""
    if len(data) < HEADER_SIZE:
        raise WireProtocolError(f"message header is {len(data)} bytes, expected {HEADER_SIZE}")
    header = Header(*_HEADER.unpack_from(data))
    rid, length = header.request_id, header.message_length
    if length <= HEADER_SIZE:
        raise WireProtocolError(f"message length {length} is not longer than the 16-byte "
                                "header", request_id=rid)
    if length > max_message_size:
        raise WireProtocolError(f"message length {length} exceeds maxMessageSizeBytes "
                                f"{max_message_size}", code=10334,
                                code_name="BSONObjectTooLarge", request_id=rid)
    return header


def parse_message(header: Header, body: bytes,
                  codec_options: CodecOptions[Any] = COMMAND_CODEC_OPTIONS) -> OpMsg | OpQuery:
    """Parse the bytes after ``header`` into an :class:`OpMsg` or :class:`OpQuery`."""
    reader = _Reader(bytes(body), header.request_id, codec_options)
    if len(body) != header.body_length:
        reader.fail(f"header declares {header.body_length} body bytes, got {len(body)}")
    if header.op_code == OP_MSG:
        return reader.op_msg(header)
    if header.op_code == OP_QUERY:
        return reader.op_query(header)
    if header.op_code == OP_COMPRESSED:
        original, _, compressor = struct.unpack("<iiB", reader.take(9, "OP_COMPRESSED"))
        name = _COMPRESSORS.get(compressor, f"unknown id {compressor}")
        reader.fail(f"OP_COMPRESSED ({name} wrapping opcode {original}) is not supported: the "
                    "replay responder never offers compression in hello")
    legacy = _REMOVED_OPCODES.get(header.op_code)
    what = f"legacy {legacy}, removed in MongoDB 6.0" if legacy else "unknown opcode"
    reader.fail(f"opcode {header.op_code} ({what}) is not supported")


def encode_op_msg_reply(response_to: int, request_id: int, document: bytes | Mapping[str, Any],
                        *, flag_bits: int = 0) -> bytes:
    """An OP_MSG reply with one kind-0 section; raw BSON ``bytes`` are sent unchanged."""
    payload = _UINT32.pack(flag_bits) + b"\x00" + _reply_bson(document)
    return _HEADER.pack(HEADER_SIZE + len(payload), request_id, response_to, OP_MSG) + payload


def encode_op_reply(response_to: int, request_id: int, document: bytes | Mapping[str, Any],
                    *, response_flags: int = 8) -> bytes:
    """An OP_REPLY carrying one document (flag 8 = AwaitCapable, which mongod always sets)."""
    # responseFlags, cursorID 0, startingFrom 0, numberReturned 1, then the document.
    payload = struct.pack("<iqii", response_flags, 0, 0, 1) + _reply_bson(document)
    return _HEADER.pack(HEADER_SIZE + len(payload), request_id, response_to, OP_REPLY) + payload


def _crc32c_entry(crc: int) -> int:
    for _ in range(8):
        crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc


_CRC32C_TABLE = tuple(_crc32c_entry(index) for index in range(256))


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the OP_MSG checksum; pure Python, as clients rarely send one."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _reply_bson(document: bytes | Mapping[str, Any]) -> bytes:
    if not isinstance(document, (bytes, bytearray, memoryview)):
        try:
            return bson.encode(document)
        except (BSONError, TypeError, ValueError) as exc:
            raise WireProtocolError(f"reply document cannot be encoded as BSON: {exc}") from exc
    raw = bytes(document)
    try:  # a full decode: a bad recorded reply fails here, not as a puzzle inside the driver
        bson.decode(raw, COMMAND_CODEC_OPTIONS)
    except BSONError as exc:
        raise WireProtocolError(f"reply is not one valid BSON document ({len(raw)} bytes): "
                                f"{exc}", code=22, code_name="InvalidBSON") from exc
    return raw


class _Reader:
    """A cursor over one message body; every read is bounds-checked."""

    def __init__(self, data: bytes, request_id: int, options: CodecOptions[Any]) -> None:
        self.data, self.pos, self.rid, self.options = data, 0, request_id, options

    def fail(self, message: str, code: int = 17, code_name: str = "ProtocolError") -> NoReturn:
        raise WireProtocolError(message, code=code, code_name=code_name, request_id=self.rid)

    def take(self, size: int, what: str) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            self.fail(f"{what}: needs {size} bytes at offset {self.pos}, the message has "
                      f"{len(self.data) - self.pos} left")
        self.pos += size
        return self.data[self.pos - size : self.pos]

    def int32(self, what: str) -> int:
        return int(_INT32.unpack(self.take(4, what))[0])

    def cstring(self, what: str) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            self.fail(f"{what}: string is not NUL-terminated")
        try:
            return self.take(end - self.pos + 1, what)[:-1].decode()
        except UnicodeDecodeError as exc:
            self.fail(f"{what}: not UTF-8 ({exc})")

    def document(self, what: str, end: int) -> bytes:
        size = int(_INT32.unpack_from(self.data, self.pos)[0]) if end - self.pos >= 5 else -1
        if size < 5 or self.pos + size > end:
            self.fail(f"{what}: truncated BSON document (length {size}, {end - self.pos} bytes "
                      "left)", 22, "InvalidBSON")
        return self.take(size, what)

    def decode(self, raw: bytes, what: str) -> dict[str, Any]:
        try:
            document = bson.decode(raw, self.options)
        except BSONError as exc:
            self.fail(f"{what}: invalid BSON ({exc})", 22, "InvalidBSON")
        return document if type(document) is dict else dict(document)

    def op_msg(self, header: Header) -> OpMsg:
        flags = int(_UINT32.unpack(self.take(4, "OP_MSG flagBits"))[0])
        if flags & 0xFFFF & ~_KNOWN_REQUIRED_BITS:
            self.fail(f"OP_MSG flagBits 0x{flags:08x} set unknown required bits (0-15)")
        end, checksum = len(self.data), None
        if flags & CHECKSUM_PRESENT:  # the CRC-32C of everything before it, header included
            end -= 4
            checksum = int(_UINT32.unpack_from(self.data, end)[0]) if end >= self.pos else -1
            if crc32c(header.pack() + self.data[:end]) != checksum:
                self.fail("OP_MSG CRC-32C checksum is missing or does not match the message")
        body, sequences, data = None, {}, self.data
        while self.pos < end:
            kind = data[self.pos]  # in bounds: end is at most len(data)
            self.pos += 1
            if kind == 0 and body is None:
                body = self.document("OP_MSG body section", end)
            elif kind == 1:
                size = self.int32("OP_MSG document sequence size")
                stop = self.pos - 4 + size  # the size counts its own 4 bytes
                name = self.cstring("OP_MSG document sequence identifier")
                if not self.pos <= stop <= end or name in sequences:
                    self.fail(f"OP_MSG document sequence {name!r} is repeated or its size does "
                              "not fit the message")
                docs = []
                while self.pos < stop:
                    docs.append(self.document(f"OP_MSG document sequence {name!r}", stop))
                sequences[name] = tuple(docs)
            else:
                self.fail(f"OP_MSG section kind {kind} is not supported here (only one kind 0 "
                          "body section, then kind 1 document sequences)")
        if body is None:
            self.fail("OP_MSG has no kind-0 (body) section")
        command = self.decode(body, "OP_MSG body")
        for name, docs in sequences.items():
            if name in command:
                self.fail(f"OP_MSG field {name!r} is both in the body and a document sequence")
            command[name] = [self.decode(doc, f"OP_MSG {name!r} document") for doc in docs]
        return OpMsg(header, command, flags, body, sequences, checksum)

    def op_query(self, header: Header) -> OpQuery:
        flags = self.int32("OP_QUERY flags")
        collection = self.cstring("OP_QUERY fullCollectionName")
        skip, limit = self.int32("OP_QUERY numberToSkip"), self.int32("OP_QUERY numberToReturn")
        query = self.document("OP_QUERY query", len(self.data))
        command, raw_command, selector = self.decode(query, "OP_QUERY query"), query, None
        if self.pos < len(self.data):
            selector = self.document("OP_QUERY returnFieldsSelector", len(self.data))
            self.decode(selector, "OP_QUERY returnFieldsSelector")
        if self.pos != len(self.data):
            self.fail(f"OP_QUERY has {len(self.data) - self.pos} trailing bytes")
        # Drivers talking to mongos wrapped the command as {$query: {...}, $readPreference: ...}.
        if next(iter(command), None) == "$query" and isinstance(command["$query"], dict):
            raw_command = bson.decode(query, CodecOptions(RawBSONDocument))["$query"].raw
            command = command["$query"]
        return OpQuery(header, command, raw_command, query, collection, flags, skip, limit,
                       selector)

"""A threaded loopback TCP server that speaks the MongoDB wire protocol to drivers.

It owns transport only: framing, parsing, replying, robustness. What to answer is decided by
the ``answer`` callable it is given. Plain sockets and one daemon thread per connection, so it
serves sync PyMongo, ``AsyncMongoClient`` and Motor alike, whatever event loop the app runs.
"""

from __future__ import annotations

import itertools
import logging
import selectors
import socket
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

from timetracer_replay import wire
from timetracer_replay.wire import OpMsg, OpQuery, WireProtocolError

logger = logging.getLogger(__name__)

Answer = Callable[[dict[str, Any], bytes, OpMsg | OpQuery], bytes | Mapping[str, Any] | None]
"""``answer(command, raw_command, message)``: the reply document, or None when the message has
moreToCome set (no reply expected)."""

# MongoDB 6.0+ accepts OP_QUERY only for the handshake and refuses anything else with code 352.
_OP_QUERY_COMMANDS = _HELLO_COMMANDS = frozenset({"hello", "ismaster"})
_MAX_LOGGED_CAUSES = 256
_MAX_HELLO_HOLD = 600.0  # seconds; pymongo asks for heartbeatFrequencyMS, 10 s by default
_RECV_SIZE = 65536


class WireServer:
    """Serves MongoDB wire-protocol clients on ``host:port`` (127.0.0.1 and a free port).

    A malformed message or a failing ``answer`` never stops the server: the cause is logged
    (once per cause) and the client gets an ``{ok: 0, errmsg, code, codeName}`` reply. When
    the framing itself is lost (unusable header), that one connection is closed.
    """

    def __init__(self, answer: Answer, host: str = "127.0.0.1", port: int = 0,
                 *, max_message_size: int = wire.MAX_MESSAGE_SIZE) -> None:
        self._answer, self._bind = answer, (host, port)
        self._max_message_size = max_message_size
        self._listener: socket.socket | None = None
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._accept_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._logged: set[str] = set()
        self._request_ids = itertools.count(1)
        self._stopping = threading.Event()
        self.connections_accepted = 0
        """How many client connections were accepted since ``start()``."""

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the server listens on; the real port even when built with 0."""
        if self._listener is None:
            raise RuntimeError("WireServer is not started: call start() first")
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> WireServer:
        """Bind, listen and start accepting; calling it on a running server does nothing."""
        if self._stopping.is_set():
            raise RuntimeError("a stopped WireServer cannot be restarted; create a new one")
        if self._listener is None:
            self._listener = socket.create_server(self._bind, backlog=64)
            # A wakeup socket, because closing a listener does not interrupt accept() on Linux.
            self._wakeup = socket.socketpair()
            self._accept_thread = threading.Thread(
                target=self._accept_loop, args=(self._listener, self._wakeup[0]), daemon=True,
                name=f"timetracer-wire-{self.address[1]}")
            self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close every client connection, join the threads. Idempotent."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            connections = list(self._connections.items())
        if self._wakeup is not None and self._accept_thread is not None:
            self._wakeup[1].send(b"x")
            self._accept_thread.join(timeout=2)
        for conn, _ in connections:
            _shutdown(conn)  # wakes the thread blocked in recv(); it then closes the socket
        for _, thread in connections:
            thread.join(timeout=2)
        for sock in (self._listener, *(self._wakeup or ())):
            if sock is not None:
                sock.close()

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _accept_loop(self, listener: socket.socket, wakeup: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wakeup, selectors.EVENT_READ)
            while not self._stopping.is_set():
                events = selector.select()
                if self._stopping.is_set() or any(key.fileobj is wakeup for key, _ in events):
                    return
                try:
                    conn, _ = listener.accept()
                except OSError as exc:  # e.g. the client reset before we accepted
                    self._log_once(f"accept:{exc.errno}", "accept() failed: %s", exc)
                    continue
                self._adopt(conn)

    def _adopt(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        thread = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                  name=f"timetracer-wire-conn-{self.connections_accepted + 1}")
        with self._lock:
            if self._stopping.is_set():
                conn.close()
                return
            self._connections[conn] = thread
            self.connections_accepted += 1
        thread.start()

    def _serve(self, conn: socket.socket) -> None:
        """One connection: read a message, answer it, until the client or ``stop()`` closes."""
        receiver = _Receiver(conn)
        try:
            while not self._stopping.is_set():
                head = receiver.take(wire.HEADER_SIZE)
                if head is None:
                    return
                try:
                    header = wire.parse_header(head, self._max_message_size)
                except WireProtocolError as exc:
                    # The framing is lost: answer if we can name the request, then hang up.
                    self._log_once(f"header:{exc.code}", "closing a connection: %s", exc)
                    if exc.request_id is not None:
                        conn.sendall(self._protocol_error(exc.request_id, wire.OP_MSG, exc))
                    return
                body = receiver.take(header.body_length)
                if body is None:
                    return
                reply = self._reply_to(header, body)
                if reply is not None:
                    conn.sendall(reply)
        except OSError as exc:  # reset by the client, or shut down by stop()
            logger.debug("wire connection ended: %s", exc)
        finally:
            with self._lock:
                self._connections.pop(conn, None)
            conn.close()

    def _reply_to(self, header: wire.Header, body: bytes) -> bytes | None:
        try:
            message = wire.parse_message(header, body)
        except WireProtocolError as exc:
            self._log_once(f"parse:{exc.code}:{header.op_code}", "bad client message: %s", exc)
            if _wants_no_reply(header, body):
                return None
            return self._protocol_error(header.request_id, header.op_code, exc)
        name = message.command_name
        if isinstance(message, OpQuery) and name.lower() not in _OP_QUERY_COMMANDS:
            errmsg = (f"Unsupported OP_QUERY command: {name}. The client driver may require an "
                      "upgrade.")
            return self._error_reply(header, 352, "UnsupportedOpQueryCommand", errmsg)
        hold = _awaitable_hello_wait(message)
        if hold and self._stopping.wait(hold):
            return None
        try:
            document = self._answer(message.command, message.raw_command, message)
            if message.more_to_come:
                return None  # the client will not read a reply; sending one would desync it
            if document is None:
                raise LookupError("the answer was None, but the client expects a reply")
            return self._encode(header, document)
        # The handler is arbitrary code and this is a server thread: report, keep serving.
        except Exception as exc:
            self._log_once(f"answer:{type(exc).__name__}:{name}", "answering %r failed", name,
                           exc_info=exc)
            if message.more_to_come:
                return None
            errmsg = f"timetracer replay could not answer {name!r}: {type(exc).__name__}: {exc}"
            return self._error_reply(header, 1, "InternalError", errmsg)

    def _encode(self, header: wire.Header, document: bytes | Mapping[str, Any]) -> bytes:
        request_id = next(self._request_ids) & 0x7FFFFFFF
        if header.op_code == wire.OP_QUERY:
            return wire.encode_op_reply(header.request_id, request_id, document)
        return wire.encode_op_msg_reply(header.request_id, request_id, document)

    def _protocol_error(self, response_to: int, op_code: int, exc: WireProtocolError) -> bytes:
        header = wire.Header(0, response_to, 0, op_code)
        return self._error_reply(header, exc.code, exc.code_name, f"wire protocol error: {exc}")

    def _error_reply(self, header: wire.Header, code: int, code_name: str, errmsg: str) -> bytes:
        """A MongoDB error document, as OP_REPLY to OP_QUERY and OP_MSG to anything else."""
        # A lone surrogate in an exception text must not make the error itself unencodable.
        errmsg = errmsg.encode("utf-8", "backslashreplace").decode()
        document = {"ok": 0.0, "errmsg": errmsg, "code": code, "codeName": code_name}
        return self._encode(header, document)

    def _log_once(self, cause: str, msg: str, *args: object,
                  exc_info: BaseException | None = None) -> None:
        """Log at WARNING the first time a cause is seen, at DEBUG after that."""
        with self._lock:
            first = cause not in self._logged and len(self._logged) < _MAX_LOGGED_CAUSES
            self._logged.add(cause)
        logger.log(logging.WARNING if first else logging.DEBUG, msg, *args, exc_info=exc_info)


class _Receiver:
    """Reads a connection's bytes as asked for, with one ``recv`` per message where it can.

    A driver writes each message whole, so one read of up to ``_RECV_SIZE`` bytes usually
    returns all of it: the header and the body come from the buffer, where reading exactly
    16 bytes and then exactly the body cost two system calls (two GIL hand-offs) a message.
    """

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._buffer = bytearray()

    def take(self, size: int) -> bytes | None:
        """``size`` bytes, or None when the client closed the connection."""
        buffer = self._buffer
        if size - len(buffer) > _RECV_SIZE:
            return self._take_large(size)
        while len(buffer) < size:
            chunk = self._conn.recv(_RECV_SIZE)
            if not chunk:
                return self._closed(len(buffer), size)
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    def _take_large(self, size: int) -> bytes | None:
        # A large body goes straight into one buffer of its size, not through small reads.
        data = bytearray(size)
        view, got = memoryview(data), len(self._buffer)
        view[:got] = self._buffer
        self._buffer.clear()
        while got < size:
            count = self._conn.recv_into(view[got:])
            if count == 0:
                return self._closed(got, size)
            got += count
        return bytes(data)

    def _closed(self, got: int, size: int) -> None:
        if got:
            logger.debug("client closed mid-message (%d of %d bytes)", got, size)


def _awaitable_hello_wait(message: OpMsg | OpQuery) -> float:
    """Seconds to hold an awaitable (streaming-protocol) hello before answering it.

    A driver that saw ``topologyVersion`` in hello sends ``hello`` with ``topologyVersion`` and
    ``maxAwaitTimeMS`` and expects the server to wait that long unless the topology changes.
    Answered at once, pymongo asks again at once: a busy loop of thousands of hellos a second.
    """
    command = message.command
    wait = command.get("maxAwaitTimeMS")
    if message.command_name.lower() not in _HELLO_COMMANDS or "topologyVersion" not in command:
        return 0.0
    if not isinstance(wait, (int, float)) or not wait > 0:  # also refuses NaN
        return 0.0
    return min(float(wait) / 1000, _MAX_HELLO_HOLD)


def _wants_no_reply(header: wire.Header, body: bytes) -> bool:
    """Whether an OP_MSG too malformed to parse still said moreToCome: then stay silent."""
    return header.op_code == wire.OP_MSG and len(body) >= 4 and bool(body[0] & wire.MORE_TO_COME)


def _shutdown(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError as exc:  # already closed by its own thread or by the client
        logger.debug("shutdown of a wire connection: %s", exc)

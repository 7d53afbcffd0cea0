"""A loopback listener that counts connection attempts: stands where the database was."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ConnectionCounter:
    """Accepts and immediately closes connections, counting them."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.uri = f"mongodb://127.0.0.1:{self.port}/?serverSelectionTimeoutMS=2000"
        self.count = 0
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._closed:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.count += 1
            connection.close()

    def close(self) -> None:
        self._closed = True
        self._socket.close()


@contextmanager
def counting_listener() -> Iterator[ConnectionCounter]:
    """A listener on a free loopback port; the database the app is configured with in replay."""
    counter = ConnectionCounter()
    counter._thread.start()
    try:
        yield counter
    finally:
        counter.close()

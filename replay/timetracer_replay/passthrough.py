"""Hybrid replay: commands nobody recorded go to the real database the app named.

Each redirected client's original constructor arguments are kept; on a miss the command is run
on a real ``MongoClient`` built from them (one per distinct origin, reused), without the
driver's session fields, and the server's reply or error document is relayed as it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from timetracer_replay.normalize import normalized
from timetracer_replay.scope import ClientOrigin

_RAW = CodecOptions(document_class=RawBSONDocument)


class LiveDatabase:
    """Runs missed commands against the app's real database."""

    def __init__(self, bypass: Callable[[], AbstractContextManager[None]]) -> None:
        self._bypass = bypass
        self._clients: dict[str, MongoClient[Any]] = {}
        self._lock = threading.Lock()

    def _client(self, origin: ClientOrigin) -> MongoClient[Any]:
        key = repr((origin.args, sorted(origin.kwargs.items(), key=lambda kv: kv[0])))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                kwargs = {k: v for k, v in origin.kwargs.items() if k != "event_listeners"}
                with self._bypass():
                    client = MongoClient(*origin.args, **kwargs)
                self._clients[key] = client
            return client

    def run(self, origin: ClientOrigin, command: dict[str, Any]) -> bytes | dict[str, Any]:
        """The real server's answer to ``command`` (raw reply bytes, or its error document)."""
        database = str(command.get("$db", "admin"))
        body = {k: v for k, v in normalized(command).items() if k != "$db"}
        try:
            reply = self._client(origin)[database].command(body, codec_options=_RAW)
        except OperationFailure as error:
            return dict(error.details or {"ok": 0.0, "errmsg": str(error), "code": error.code})
        except PyMongoError as error:
            return {"ok": 0.0, "errmsg": f"timetracer passthrough: {error}", "code": 6}
        return reply.raw

    def close(self) -> None:
        """Close every real client."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __iter__(self) -> Iterator[MongoClient[Any]]:
        return iter(list(self._clients.values()))

"""A one-member "replica set" speaking the MongoDB wire protocol from memory.

nx-27017 is a standalone server and has no transactions; this toy answers like a replica-set
primary (hello with ``setName``) and supports the few commands a transaction test needs:
insert, update, find, commitTransaction, abortTransaction. It lets timetracer record a
transaction against a replica-set topology with no MongoDB installed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bson import ObjectId

from timetracer_replay.wire_server import WireServer

SET_NAME = "rs0"


class ToyReplicaSet:
    """The in-memory answerer; ``collections`` maps ``db.coll`` to documents."""

    def __init__(self) -> None:
        self.collections: dict[str, list[dict[str, Any]]] = {}
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self.commands: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, command: dict[str, Any], raw: bytes, message: Any) -> dict[str, Any]:
        name = next(iter(command))
        self.commands.append(name)
        me = f"{self.address[0]}:{self.address[1]}"
        if name.lower() in ("hello", "ismaster"):
            return {
                "isWritablePrimary": True, "ismaster": True, "helloOk": True,
                "setName": SET_NAME, "setVersion": 1, "hosts": [me], "primary": me, "me": me,
                "secondary": False, "electionId": ObjectId("7fffffff0000000000000001"),
                "maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
                "maxWriteBatchSize": 100000, "logicalSessionTimeoutMinutes": 30,
                "minWireVersion": 0, "maxWireVersion": 21,
                "localTime": dt.datetime.now(dt.timezone.utc), "ok": 1.0,
            }  # fmt: skip
        namespace = f"{command.get('$db')}.{command.get(name)}"
        with self._lock:
            documents = self.collections.setdefault(namespace, [])
            if name == "insert":
                documents.extend(command["documents"])
                return {"n": len(command["documents"]), "ok": 1.0}
            if name == "update":
                matched = 0
                for statement in command["updates"]:
                    for document in documents:
                        if all(document.get(k) == v for k, v in statement["q"].items()):
                            document.update(statement["u"].get("$set", {}))
                            matched += 1
                return {"n": matched, "nModified": matched, "ok": 1.0}
            if name == "find":
                query = command.get("filter", {})
                if any(key.startswith("$") for key in query):
                    bad = next(key for key in query if key.startswith("$"))
                    return {"ok": 0.0, "code": 2, "codeName": "BadValue",
                            "errmsg": f"unknown top level operator: {bad}"}  # fmt: skip
                found = [d for d in documents if all(d.get(k) == v for k, v in query.items())]
                return {"cursor": {"id": 0, "ns": namespace, "firstBatch": found}, "ok": 1.0}
        return {"ok": 1.0}


@contextmanager
def toy_replica_set() -> Iterator[ToyReplicaSet]:
    """Serve a toy replica set on a free loopback port."""
    toy = ToyReplicaSet()
    server = WireServer(toy).start()
    toy.address = server.address
    try:
        yield toy
    finally:
        server.stop()

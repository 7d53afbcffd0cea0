"""The ``hello`` reply replay sends: the recorded server's topology, at the responder's address.

A driver that meets a different kind of server changes what it sends (a replica-set member
gets transactions and read preferences, mongos gets different cursor handling), or waits for
server selection. So the responder mirrors what was recorded — standalone, replica-set primary
or mongos — and names itself as every host, so the driver never looks for the recorded hosts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from typing import Any

from bson import ObjectId

# What a recent standalone server says when nothing was recorded about the server.
_STANDALONE: dict[str, Any] = {
    "isWritablePrimary": True,
    "maxBsonObjectSize": 16 * 1024 * 1024,
    "maxMessageSizeBytes": 48_000_000,
    "maxWriteBatchSize": 100_000,
    "logicalSessionTimeoutMinutes": 30,
    "minWireVersion": 0,
    "maxWireVersion": 21,
    "readOnly": False,
}
_connection_ids = itertools.count(1)


def topology_of(server: Mapping[str, Any] | None) -> str:
    """``standalone``, ``replicaset`` or ``mongos`` for a recorded hello summary."""
    if not server:
        return "standalone"
    if server.get("msg") == "isdbgrid":
        return "mongos"
    if server.get("setName"):
        return "replicaset"
    return "standalone"


def hello_reply(
    server: Mapping[str, Any] | None, address: tuple[str, int], *, legacy: bool = False
) -> dict[str, Any]:
    """The hello document for a recorded server summary, served from ``address``."""
    me = f"{address[0]}:{address[1]}"
    reply = dict(_STANDALONE)
    for key, value in (server or {}).items():
        if key not in ("hosts", "primary", "me", "ismaster", "secondary", "arbiterOnly"):
            reply[key] = value
    kind = topology_of(server)
    if kind == "replicaset":
        reply.update(
            {
                "hosts": [me],
                "primary": me,
                "me": me,
                "secondary": False,
                "setVersion": reply.get("setVersion", 1),
                "electionId": ObjectId("7fffffff0000000000000001"),
            }
        )
    reply["isWritablePrimary"] = True
    if legacy:
        # Legacy handshakes (OP_QUERY isMaster) expect the old field name.
        reply["ismaster"] = True
        reply.pop("isWritablePrimary", None)
    reply["helloOk"] = True
    reply["localTime"] = dt.datetime.now(dt.timezone.utc)
    reply["connectionId"] = next(_connection_ids)
    reply["ok"] = 1.0
    return reply

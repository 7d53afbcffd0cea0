"""Answers for commands a replay may meet outside any recording.

Apps create indexes, ping the server and end sessions at start-up and shut-down, outside the
requests that were recorded. These commands are answered with a plausible success so such apps
start in replay mode; anything else that nobody recorded is a miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def generic_reply(command: Mapping[str, Any]) -> dict[str, Any] | None:
    """A success reply for an administrative command, or None if it is not one of them."""
    name = next(iter(command), "")
    database = str(command.get("$db", "admin"))
    if name in ("ping", "endSessions", "dropIndexes", "startSession", "refreshSessions"):
        return {"ok": 1.0}
    if name == "createIndexes":
        count = len(command.get("indexes", []))
        return {
            "ok": 1.0,
            "numIndexesBefore": 1,
            "numIndexesAfter": 1 + count,
            "createdCollectionAutomatically": False,
        }
    if name == "listIndexes":
        namespace = f"{database}.{command[name]}"
        index = {"v": 2, "key": {"_id": 1}, "name": "_id_"}
        return {"ok": 1.0, "cursor": {"id": 0, "ns": namespace, "firstBatch": [index]}}
    if name == "killCursors":
        return {"ok": 1.0, "cursorsKilled": list(command.get("cursors", [])), "cursorsNotFound": []}
    if name == "buildInfo" or name == "buildinfo":
        return {"ok": 1.0, "version": "7.0.0", "versionArray": [7, 0, 0, 0]}
    if name in ("getParameter", "getCmdLineOpts", "serverStatus"):
        return {"ok": 1.0}
    return None

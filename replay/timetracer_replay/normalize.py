"""What of a MongoDB command decides which recorded reply answers it.

Drivers add fields that change from run to run without changing what is asked: the session id,
cluster time, transaction counters, read preference, time limits. They are removed before two
commands are compared. Values the client generates itself — the ObjectIds of inserted documents,
``datetime.now()``, UUIDs such as session ids — also differ between recording and replay; a
second, looser key masks them so such a command still finds its recording, and the difference is
reported as noise.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import bson
from bson import Binary, ObjectId
from bson.binary import OLD_UUID_SUBTYPE, UUID_SUBTYPE

# Top-level fields a driver sets per session, per retry or per connection.
SESSION_FIELDS = frozenset(
    {
        "lsid",
        "$clusterTime",
        "txnNumber",
        "$readPreference",
        "autocommit",
        "startTransaction",
        "recoveryToken",
        "maxTimeMS",
        "$client",
    }
)
_OID_MASK = "\x00timetracer:objectid"
_DATE_MASK = "\x00timetracer:datetime"
_UUID_MASK = "\x00timetracer:uuid"
HOUSEKEEPING = frozenset({"endSessions"})
"""Commands the driver sends on its own schedule (when a pool closes); whether a replay sends
them is not the app's behaviour, so an unused recording of one is not a difference."""


def _id_first(document: Any) -> Any:
    if isinstance(document, Mapping) and "_id" in document:
        return {"_id": document["_id"], **{k: v for k, v in document.items() if k != "_id"}}
    return document


def normalized(command: Mapping[str, Any]) -> dict[str, Any]:
    """The command without session and transport fields (``readConcern.afterClusterTime`` too).

    Inserted documents get ``_id`` first: command monitoring (what was recorded) shows them in
    the app's key order with a generated ``_id`` appended, while on the wire (what replay
    receives) pymongo writes ``_id`` first.
    """
    result: dict[str, Any] = {}
    for key, value in command.items():
        if key in SESSION_FIELDS:
            continue
        if key == "readConcern" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if k != "afterClusterTime"}
            if not value:
                continue
        elif key == "documents" and isinstance(value, list):
            value = [_id_first(document) for document in value]
        result[key] = value
    return result


# Types that are never masked, checked by exact type first: most values of a command are these,
# and an exact type lookup costs far less than the isinstance checks (ABCs among them) below.
_PLAIN_TYPES = frozenset({str, int, float, bool, bytes, type(None)})


def _masked(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is dict:
        return {k: _masked(v) for k, v in value.items()}
    if kind is list:
        return [_masked(v) for v in value]
    if isinstance(value, ObjectId):
        return _OID_MASK
    if isinstance(value, dt.datetime):
        return _DATE_MASK
    if isinstance(value, uuid.UUID) or (
        isinstance(value, Binary) and value.subtype in (UUID_SUBTYPE, OLD_UUID_SUBTYPE)
    ):
        return _UUID_MASK
    if isinstance(value, Mapping):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


def exact_key(command: Mapping[str, Any]) -> bytes:
    """A hashable key equal for commands that ask exactly the same thing."""
    return key_of(normalized(command))


def loose_key(command: Mapping[str, Any]) -> bytes:
    """A key that also ignores ObjectId, datetime and UUID values (client-generated noise)."""
    return loose_key_of(normalized(command))


def key_of(normalized_command: Mapping[str, Any]) -> bytes:
    """:func:`exact_key` of a command already :func:`normalized` (normalize once, key twice)."""
    return bson.encode(normalized_command)


def loose_key_of(normalized_command: Mapping[str, Any]) -> bytes:
    """:func:`loose_key` of a command already :func:`normalized`."""
    return bson.encode(_masked(normalized_command))


def differences(live: Any, recorded: Any, path: str = "") -> list[str]:
    """Field paths where two documents differ, e.g. ``filter.sku: 'a' != 'b'``."""
    if type(live) in _PLAIN_TYPES and type(recorded) in _PLAIN_TYPES:
        return _leaf_differences(live, recorded, path)
    if isinstance(live, Mapping) and isinstance(recorded, Mapping):
        found: list[str] = []
        for key in dict.fromkeys([*live.keys(), *recorded.keys()]):
            where = f"{path}.{key}" if path else str(key)
            if key not in recorded:
                found.append(f"{where}: only in the live command ({live[key]!r})")
            elif key not in live:
                found.append(f"{where}: only in the recording ({recorded[key]!r})")
            else:
                found.extend(differences(live[key], recorded[key], where))
        return found
    if isinstance(live, (list, tuple)) and isinstance(recorded, (list, tuple)):
        if len(live) != len(recorded):
            return [f"{path}: {len(live)} items live, {len(recorded)} recorded"]
        found = []
        for index, (a, b) in enumerate(zip(live, recorded, strict=True)):
            found.extend(differences(a, b, f"{path}.{index}" if path else str(index)))
        return found
    return _leaf_differences(live, recorded, path)


def _leaf_differences(live: Any, recorded: Any, path: str) -> list[str]:
    if live != recorded or type(live) is not type(recorded):
        return [f"{path or '(document)'}: {live!r} live, {recorded!r} recorded"]
    return []

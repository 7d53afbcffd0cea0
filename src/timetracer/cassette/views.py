"""Plain-JSON views of a cassette, as ``timetracer list --json`` and ``show --json`` print them.

MongoDB documents are rendered as relaxed Extended JSON; bodies as JSON when they are JSON,
text when they are UTF-8, and ``{"base64": ...}`` otherwise.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from timetracer.cassette.model import Cassette, Headers, MongoCall
from timetracer.errors import CassetteFormatError


def relaxed_ejson(document: dict[str, Any] | None) -> Any:
    """A BSON document as relaxed Extended JSON (plain JSON types)."""
    if document is None:
        return None
    from bson import json_util

    return json.loads(json_util.dumps(document, json_options=json_util.RELAXED_JSON_OPTIONS))


def _content_type(headers: Headers) -> str:
    for name, value in headers:
        if name == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""


def body_view(body: bytes | None, headers: Headers, size: int) -> Any:
    """A recorded body as JSON-friendly data."""
    if body is None:
        return None
    kind = _content_type(headers)
    if size <= len(body) and (kind == "application/json" or kind.endswith("+json")):
        try:
            return json.loads(body)
        except ValueError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode()}


def summary(cassette: Cassette) -> dict[str, Any]:
    """One line of ``timetracer list --json``."""
    exchange = cassette.exchange
    return {
        "path": str(cassette.path) if cassette.path else None,
        "trace_id": cassette.trace_id,
        "method": exchange.method if exchange else None,
        "route": exchange.route if exchange else cassette.root_name,
        "url_path": exchange.path if exchange else None,
        "status": exchange.status if exchange else None,
        "duration_ms": round(cassette.duration_ms, 3),
        "recorded_at": cassette.recorded_at.isoformat(),
        "calls": cassette.call_counts(),
    }


def call_view(call: MongoCall) -> dict[str, Any]:
    """One recorded dependency call as plain JSON."""
    view: dict[str, Any] = {
        "system": call.system,
        "operation": call.command_name,
        "database": call.database,
        "collection": call.collection,
        "command": relaxed_ejson(call.command) if call.command_bson is not None else None,
    }
    if call.failed:
        view["failure"] = relaxed_ejson(call.failure)
    elif call.reply_bson is not None:
        view["reply"] = relaxed_ejson(call.reply)
    else:
        view["reply"] = None
    if call.command_size is not None or call.reply_size is not None:
        view["truncated"] = {"command_bytes": call.command_size, "reply_bytes": call.reply_size}
    view["duration_ms"] = round(call.duration_ms, 3)
    return view


def detail(cassette: Cassette) -> dict[str, Any]:
    """The whole of ``timetracer show --json``."""
    exchange = cassette.exchange
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    if exchange is not None:
        request = {
            "method": exchange.method,
            "route": exchange.route,
            "url_path": exchange.path,
            "query": exchange.query,
            "headers": [list(pair) for pair in exchange.request_headers],
            "body": body_view(
                exchange.request_body, exchange.request_headers, exchange.request_body_size
            ),
            "body_truncated": exchange.request_truncated,
        }
        response = {
            "status": exchange.status,
            "headers": [list(pair) for pair in exchange.response_headers],
            "body": body_view(
                exchange.response_body, exchange.response_headers, exchange.response_body_size
            ),
            "body_truncated": exchange.response_truncated,
        }
    try:
        calls = [call_view(call) for call in cassette.calls]
    except CassetteFormatError as error:  # a damaged document: say which file holds it
        raise error.at(cassette.path) from error.__cause__
    return {
        "path": str(cassette.path) if cassette.path else None,
        "trace_id": cassette.trace_id,
        "recorded_at": cassette.recorded_at.isoformat(),
        "duration_ms": round(cassette.duration_ms, 3),
        "error": cassette.error,
        "request": request,
        "response": response,
        "calls": calls,
    }

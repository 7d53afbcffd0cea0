"""Sending one HTTP request through an ASGI app in-process and collecting its response."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

logger = logging.getLogger(__name__)


@dataclass
class AsgiResponse:
    """What the app answered."""

    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


async def call_asgi(
    app: Any,
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    state: dict[str, Any] | None = None,
) -> AsgiResponse:
    """Run one ``http`` request through ``app`` the way an ASGI server would, in this task.

    Running in the caller's task keeps its context variables, which is how a replay scope set
    around the call reaches the database calls the request makes.
    """
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode("latin-1", "replace"),
        "root_path": "",
        "query_string": query.encode("latin-1", "replace"),
        "headers": [
            (b"host", b"replay"),
            *[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 0),
        "server": ("replay", 80),
    }
    if state is not None:
        scope["state"] = dict(state)
    response = AsgiResponse()
    chunks: list[bytes] = []
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response.status = int(message["status"])
            response.headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:
        # A server answers 500 for an app that raises before responding, and keeps the response
        # already sent by one that raises afterwards (Starlette re-raises after its 500 page).
        logger.debug("the app raised while replaying %s %s", method, path, exc_info=True)
        if response.status == 0:
            response.status = 500
            chunks = [b"Internal Server Error"]
    response.body = b"".join(chunks)
    return response

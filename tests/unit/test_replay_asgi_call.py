"""call_asgi: one request through an ASGI app in the caller's task, as a server would."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

import pytest

from timetracer_replay.asgi_call import call_asgi

marker: ContextVar[str] = ContextVar("marker", default="unset")


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with a JSON description of the request it received."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    description = {
        "method": scope["method"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode(),
        "query": scope["query_string"].decode(),
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "body": body.decode(),
        "marker": marker.get(),
        "state": scope.get("state"),
    }
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"x-echo", b"yes")],
        }
    )
    payload = json.dumps(description).encode()
    await send({"type": "http.response.body", "body": payload[:10], "more_body": True})
    await send({"type": "http.response.body", "body": payload[10:]})  # fmt: skip


@pytest.mark.anyio
async def test_the_request_reaches_the_app_and_its_response_is_collected() -> None:
    response = await call_asgi(
        echo, "post", "/items/a%20b", "page=2&q=x", [("Accept", "application/json")], b"{}"
    )

    assert response.status == 201
    assert ("x-echo", "yes") in response.headers
    seen = json.loads(response.body)
    assert seen["method"] == "POST"
    assert seen["path"] == "/items/a b"
    assert seen["raw_path"] == "/items/a%20b"
    assert seen["query"] == "page=2&q=x"
    assert seen["body"] == "{}"
    assert ["accept", "application/json"] in seen["headers"]
    assert ["content-length", "2"] in seen["headers"]
    assert ["host", "replay"] in seen["headers"]


@pytest.mark.anyio
async def test_the_callers_context_variables_are_visible_inside_the_app() -> None:
    token = marker.set("set by the caller")
    try:
        response = await call_asgi(echo, "GET", "/", "", [], b"")
    finally:
        marker.reset(token)

    assert json.loads(response.body)["marker"] == "set by the caller"


@pytest.mark.anyio
async def test_the_lifespan_state_is_given_to_the_request_as_a_copy() -> None:
    state = {"client": "the db client"}

    response = await call_asgi(echo, "GET", "/", "", [], b"", state)

    assert json.loads(response.body)["state"] == state


@pytest.mark.anyio
async def test_an_app_raising_before_responding_answers_500() -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("no database")

    response = await call_asgi(broken, "GET", "/", "", [], b"")

    assert response.status == 500
    assert response.body == b"Internal Server Error"


@pytest.mark.anyio
async def test_an_app_raising_after_responding_keeps_its_response() -> None:
    async def raises_late(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"text/plain")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"try later"})
        raise RuntimeError("re-raised after the error page, as Starlette does")

    response = await call_asgi(raises_late, "GET", "/", "", [], b"")

    assert response.status == 503
    assert response.body == b"try later"
    assert response.headers == [("content-type", "text/plain")]


@pytest.mark.anyio
async def test_a_second_receive_reports_a_disconnect() -> None:
    received: list[dict[str, Any]] = []

    async def reads_twice(scope: dict[str, Any], receive: Any, send: Any) -> None:
        received.extend([await receive(), await receive()])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    response = await call_asgi(reads_twice, "DELETE", "/items/a", "", [], b"abc")

    assert response.status == 204
    assert received == [
        {"type": "http.request", "body": b"abc", "more_body": False},
        {"type": "http.disconnect"},
    ]

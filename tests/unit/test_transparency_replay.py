"""Server-mode replay is as invisible as recording: recorded requests are matched and handed
to the app byte for byte, the app's answer reaches the client unchanged, and excluded paths,
websockets and lifespan events go straight to the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.apps.transparency import FRAMEWORKS, Observer, build_app
from tests.unit.transparency_support import (
    BODIES,
    BODY_CAP,
    ClientView,
    json_body,
    lifespan_cycle,
    recording,
    replaying,
    serve,
    websocket_session,
)
from timetracer.config import TraceConfig

pytestmark = pytest.mark.anyio


def replay_config(cassette_dir: Path, **options: object) -> TraceConfig:
    # MongoDB stays live: these apps make no MongoDB calls, and no wire responder is needed.
    return TraceConfig(
        mode="replay",
        cassette_dir=cassette_dir,
        max_body_bytes=BODY_CAP,
        live=frozenset({"mongodb"}),
        **options,  # type: ignore[arg-type]
    )


def is_miss(view: ClientView) -> bool:
    return view.status == 404 and (b"x-timetracer-replay", b"miss") in view.headers


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_recorded_requests_replay_with_the_same_bytes_on_both_sides(
    framework: str, tmp_path: Path
) -> None:
    cassettes = tmp_path / "cassettes"
    requests = [("POST", "/echo", b"", BODIES[kind]()) for kind in BODIES]
    requests.append(("POST", "/ignore", b"", json_body()))  # a body the app never reads
    requests.append(("GET", "/stream", b"size=5000&chunk=700", BODIES["empty"]()))

    async def send_all(app: object) -> list[ClientView]:
        return [
            await serve(app, method, path, query=query, headers=body.headers, chunks=body.chunks)
            for method, path, query, body in requests
        ]

    seen_off, seen_on = Observer(), Observer()
    off = await send_all(build_app(framework, seen_off))
    with recording(cassettes, TraceConfig(mode="record", max_body_bytes=BODY_CAP)) as on:
        await send_all(on.app(framework, Observer()))
    with replaying(replay_config(cassettes), tmp_path / "replayed") as replay:
        replayed = await send_all(replay.app(framework, seen_on))

    assert not [view for view in replayed if is_miss(view)]
    assert replayed == off
    assert seen_on.requests == seen_off.requests


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_excluded_paths_are_served_by_the_app_without_matching(
    framework: str, tmp_path: Path
) -> None:
    empty = tmp_path / "cassettes"
    empty.mkdir()
    seen = Observer()

    with replaying(replay_config(empty), tmp_path / "replayed") as replay:
        app = replay.app(framework, seen)
        health = await serve(app, "GET", "/health")
        echo = await serve(app, "POST", "/echo", chunks=[b"x"])

    assert (health.status, health.body) == (200, b"ok")
    assert is_miss(echo)
    assert [request.path for request in seen.requests] == ["/health"]


async def test_with_exclusion_off_every_path_is_matched(tmp_path: Path) -> None:
    empty = tmp_path / "cassettes"
    empty.mkdir()
    seen = Observer()

    with replaying(replay_config(empty, exclude_paths=()), tmp_path / "replayed") as replay:
        health = await serve(replay.app("starlette", seen), "GET", "/health")

    assert is_miss(health)
    assert seen.requests == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_websockets_and_lifespan_pass_through_replay(framework: str, tmp_path: Path) -> None:
    empty = tmp_path / "cassettes"
    empty.mkdir()
    seen_off, seen_on = Observer(), Observer()
    texts = ["hello", "wörld", ""]

    off_app = build_app(framework, seen_off)
    off = (await lifespan_cycle(off_app), await websocket_session(off_app, "/ws", texts))
    with replaying(replay_config(empty), tmp_path / "replayed") as replay:
        on_app = replay.app(framework, seen_on)
        on = (await lifespan_cycle(on_app), await websocket_session(on_app, "/ws", texts))

    assert on == off
    assert seen_on.websocket == seen_off.websocket == texts
    assert seen_on.lifespan == seen_off.lifespan == ["startup", "shutdown"]

"""``timetracer.dashboard.replay``: the live server's replay button runs the replay runner."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.replay_support import item_recording, shop_app, write_recording
from timetracer.dashboard.replay import ReplayAction
from timetracer_replay.session import ReplaySession


@pytest.fixture
def session() -> Iterator[ReplaySession]:
    started = ReplaySession().start()
    yield started
    started.stop()


def test_a_replay_returns_the_runner_report(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter, session: ReplaySession
) -> None:
    path = write_recording(
        tmp_path, tracer, memory, **item_recording("a", body=b'{"sku":"a","price":4}')
    )

    result = ReplayAction(shop_app(), "shop:app", session).run(path)

    assert result["path"] == str(path)
    assert result["passed"] is False
    assert result["differences"] == ["body.price: recorded 4, replayed 5"]


def test_ignored_paths_are_left_out_of_the_comparison(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter, session: ReplaySession
) -> None:
    path = write_recording(
        tmp_path, tracer, memory, **item_recording("a", body=b'{"sku":"a","price":4}')
    )

    result = ReplayAction(shop_app(), "shop:app", session, ignore=["body.price"]).run(path)

    assert result["passed"] is True


class Watched:
    """An ASGI app wrapper counting how many calls (lifespan or request) run at once."""

    def __init__(self, app: Any) -> None:
        self.app, self.active, self.most = app, 0, 0
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            await self.app(scope, receive, send)
        finally:
            with self.lock:
                self.active -= 1


def test_replays_from_several_threads_run_one_at_a_time(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter, session: ReplaySession
) -> None:
    path = write_recording(tmp_path, tracer, memory, **item_recording("a"))
    app = Watched(shop_app())
    action = ReplayAction(app, "shop:app", session)
    results: list[dict[str, Any]] = []

    threads = [threading.Thread(target=lambda: results.append(action.run(path))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [result["passed"] for result in results] == [True] * 4
    assert app.most == 2  # one replay's lifespan and its request; never two replays

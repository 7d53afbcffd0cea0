"""replay_cassettes / replay_one: recorded requests through a Starlette app, MongoDB answered
from each cassette by a real responder, responses compared with the recordings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.replay_support import (
    call_attributes,
    cassette_of,
    find_one_command,
    find_reply,
    item_recording,
    record,
    shop_app,
    write_recording,
)
from tests.unit.spans import START_NS
from timetracer import attributes as attr
from timetracer_replay.runner import CassetteResult, replay_cassettes, replay_one
from timetracer_replay.session import ReplaySession


@pytest.fixture
def session() -> Iterator[ReplaySession]:
    started = ReplaySession().start()
    try:
        yield started
    finally:
        started.stop()


class Shop:
    """Writes recordings of the shop app into one directory."""

    def __init__(self, directory: Path, tracer: Tracer, memory: InMemorySpanExporter) -> None:
        self.directory, self.tracer, self.memory = directory, tracer, memory
        self.count = 0

    def write(self, sku: str = "a", **recording: Any) -> Path:
        self.count += 1
        start = START_NS + self.count * 1_000_000_000  # names sort in writing order
        return write_recording(
            self.directory, self.tracer, self.memory,
            **item_recording(sku, start_ns=start, **recording),
        )  # fmt: skip


@pytest.fixture
def shop(tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter) -> Shop:
    return Shop(tmp_path, tracer, memory)


async def replay(session: ReplaySession, *paths: Path, **options: Any) -> list[CassetteResult]:
    return await replay_cassettes(shop_app(), list(paths), session=session, **options)


@pytest.mark.anyio
async def test_a_faithful_replay_passes(shop: Shop, session: ReplaySession) -> None:
    path = shop.write("a")

    [result] = await replay(session, path)

    assert result.to_dict()["differences"] == [] and result.misses == []
    assert result.passed
    assert (result.method, result.target, result.route) == ("GET", "/items/a", "/items/{sku}")
    assert (result.recorded_status, result.replayed_status) == (200, 200)
    assert result.unused_calls == [] and result.error is None
    assert result.path == str(path)


@pytest.mark.anyio
async def test_a_command_nobody_recorded_is_reported_as_a_miss_with_its_diagnosis(
    shop: Shop, session: ReplaySession
) -> None:
    path = shop.write("b", asked="a")  # the recording asked for sku a; the app asks for b

    [result] = await replay(session, path)

    assert not result.passed
    assert result.replayed_status == 500
    [miss] = result.misses
    assert "no recorded MongoDB call answers find on db.items" in miss
    assert f"cassette: {path}" in miss
    assert "filter.sku: 'b' live, 'a' recorded" in miss
    assert result.unused_calls == ["recorded call #2 find on db.items was not made"]
    assert "status: recorded 200, replayed 500" in [d.describe() for d in result.differences]


@pytest.mark.anyio
async def test_a_recorded_call_the_app_no_longer_makes_is_reported_unused(
    shop: Shop, session: ReplaySession
) -> None:
    extra = call_attributes(find_one_command("z"), reply=find_reply())
    path = shop.write("a", extra_calls=[extra])

    [result] = await replay(session, path)

    assert not result.passed
    assert result.misses == [] and result.differences == []
    assert result.unused_calls == ["recorded call #3 find on db.items was not made"]


@pytest.mark.anyio
async def test_a_different_response_is_reported_at_its_path(
    shop: Shop, session: ReplaySession
) -> None:
    path = shop.write("a", body=b'{"sku":"a","price":6}')

    [result] = await replay(session, path)

    assert not result.passed
    assert [d.describe() for d in result.differences] == ["body.price: recorded 6, replayed 5"]
    assert result.to_dict()["differences"] == ["body.price: recorded 6, replayed 5"]


@pytest.mark.anyio
async def test_ignored_paths_do_not_fail_the_replay(shop: Shop, session: ReplaySession) -> None:
    path = shop.write("a", body=b'{"sku":"a","price":6}')

    [result] = await replay(session, path, ignore=["body.price"])

    assert result.passed


@pytest.mark.anyio
async def test_a_cassette_whose_request_body_was_truncated_is_an_error(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter, session: ReplaySession
) -> None:
    path = write_recording(
        tmp_path, tracer, memory, method="POST", path="/items/a", request_body=b'{"sku": "a", ',
        overrides={attr.HTTP_REQUEST_BODY_SIZE: 4096},
    )  # fmt: skip

    [result] = await replay(session, path)

    assert not result.passed
    assert result.error is not None
    assert "cut at 13 of 4096 bytes" in result.error
    assert result.replayed_status is None


@pytest.mark.anyio
async def test_a_cassette_without_an_http_request_is_an_error(
    tracer: Tracer, memory: InMemorySpanExporter, session: ReplaySession
) -> None:
    cassette = cassette_of(memory, record(tracer, without_http=True))

    result = await replay_one(shop_app(), session, cassette, ())

    assert result.error == "the cassette holds no HTTP request (not recorded from a web app)"
    assert not result.passed


@pytest.mark.anyio
async def test_an_unreadable_cassette_is_reported_and_the_others_still_run(
    shop: Shop, session: ReplaySession, tmp_path: Path
) -> None:
    first = shop.write("a")
    broken = tmp_path / f"20231114T221321000Z_GET_broken_{1:032x}.cassette"
    broken.write_bytes(b"\x00not a cassette at all")
    last = shop.write("a")
    reported: list[CassetteResult] = []

    results = await replay(session, first, broken, last, on_result=reported.append)

    assert reported == results
    assert [r.path for r in results] == [str(first), str(broken), str(last)]
    assert [r.passed for r in results] == [True, False, True]
    assert results[1].error is not None and str(broken) in results[1].error


@pytest.mark.anyio
async def test_each_cassette_answers_only_its_own_requests_calls(
    shop: Shop, session: ReplaySession
) -> None:
    # Two recordings of the same request: each replay consumes only its own cassette's calls.
    paths = [shop.write("a"), shop.write("a")]

    results = await replay(session, *paths)

    assert [r.passed for r in results] == [True, True]


@pytest.mark.anyio
async def test_the_report_entry_is_json_ready(shop: Shop, session: ReplaySession) -> None:
    path = shop.write("b", asked="a")

    [result] = await replay(session, path)

    report = result.to_dict()
    assert report["passed"] is False
    assert report["recorded_status"] == 200 and report["replayed_status"] == 500
    assert len(report["misses"]) == 1
    assert report["unused_calls"] == ["recorded call #2 find on db.items was not made"]
    assert report["duration_ms"] >= 0

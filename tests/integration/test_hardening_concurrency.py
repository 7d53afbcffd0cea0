"""Concurrency: 200 requests in flight at once, under the real launcher and uvicorn, leave 200
cassettes, each holding exactly its own request's MongoDB calls: nothing lost, nothing mixed.

Both ways an app runs requests: async endpoints on the event loop (PyMongo's async API) and
sync endpoints in the thread pool (PyMongo).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.launcher import launched_app
from tests.integration.recordings import record_env
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette

APP = "tests.apps.shop:app"
IN_FLIGHT = 200


def request_of(index: int) -> tuple[str, str, dict[str, int] | None]:
    """Even requests read their own item, odd ones change their own item's quantity."""
    sku = f"sku-{index:04d}"
    if index % 2:
        return "PATCH", f"/items/{sku}", {"qty": 1000 + index}
    return "GET", f"/items/{sku}", None


async def send_all(base_url: str) -> list[int]:
    """Every request on its own connection, all started before any is awaited."""
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.request(method, url, json=body)
                for method, url, body in map(request_of, range(IN_FLIGHT))
            )
        )
    return [response.status_code for response in responses]


def most_in_flight(cassettes: list[Cassette]) -> int:
    """The largest number of recorded requests that were being served at the same moment."""
    events = sorted(
        [(c.start_ns, 1) for c in cassettes] + [(c.end_ns, -1) for c in cassettes],
        key=lambda event: (event[0], event[1]),
    )
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def check_own_calls(index: int, cassette: Cassette) -> None:
    method, url, body = request_of(index)
    sku = url.rsplit("/", 1)[1]
    exchange = cassette.exchange
    assert exchange is not None and (exchange.method, exchange.path) == (method, url)
    assert exchange.status == 200
    (call,) = cassette.calls
    if method == "GET":
        assert call.command_name == "find"
        assert call.command["filter"] == {"sku": sku}
        (found,) = call.reply["cursor"]["firstBatch"]
        assert found["sku"] == sku
        assert json.loads(exchange.response_body)["sku"] == sku
    else:
        assert call.command_name == "update"
        (update,) = call.command["updates"]
        assert update["q"] == {"sku": sku}
        assert update["u"] == {"$set": body}
        assert call.reply["n"] == 1
        assert json.loads(exchange.request_body) == body


@pytest.mark.parametrize("driver", ["async", "pymongo"], ids=["async-endpoints", "thread-pool"])
def test_200_requests_in_flight_leave_200_cassettes_each_with_only_its_own_calls(
    mongo: MongoEndpoint, tmp_path: Path, driver: str
) -> None:
    cassette_dir = tmp_path / "cassettes"
    env = record_env("starlette", driver, mongo, cassette_dir)
    env["TT_APP_DB"] = f"hardening_concurrency_{driver}"
    with launched_app(APP, env, tmp_path) as app:
        seeded = httpx.post(f"{app.base_url}/items/seed?n={IN_FLIGHT}", timeout=60)
        assert seeded.status_code == 200
        started = time.monotonic()
        statuses = asyncio.run(send_all(app.base_url))
        elapsed = time.monotonic() - started
    assert statuses == [200] * IN_FLIGHT, app.output()

    cassettes = [load_cassette(p) for p in iter_cassette_paths(cassette_dir)]
    by_path = {c.exchange.path: c for c in cassettes if c.exchange is not None}
    assert len(cassettes) == IN_FLIGHT + 1, app.output()  # the seed request is the extra one
    for index in range(IN_FLIGHT):
        check_own_calls(index, by_path[request_of(index)[1]])
    burst = [by_path[request_of(index)[1]] for index in range(IN_FLIGHT)]
    # The requests really overlapped: many were being served at the same moment.
    peak = most_in_flight(burst)
    assert peak >= 20, peak
    print(f"{driver}: {IN_FLIGHT} requests in {elapsed:.2f} s, at most {peak} in flight at once")


def test_requests_after_a_large_upload_on_one_connection_each_get_their_own_cassette(
    mongo: MongoEndpoint, tmp_path: Path
) -> None:
    # Over 64 KiB uvicorn pauses reading the connection, and its next requests used to start
    # inside the upload's trace (python/cpython#140947): they were silently never recorded.
    cassette_dir = tmp_path / "cassettes"
    env = record_env("starlette", "async", mongo, cassette_dir)
    env["TT_APP_DB"] = "hardening_keepalive"
    item = {"sku": "upload-1", "name": "n" * 200_000, "price": 1.0, "qty": 1}
    with launched_app(APP, env, tmp_path) as app, httpx.Client(timeout=30) as client:
        assert client.post(f"{app.base_url}/items", json=item).status_code == 201
        for _ in range(3):
            assert client.get(f"{app.base_url}/items/upload-1").status_code == 200
            assert client.get(f"{app.base_url}/stats").status_code == 200

    cassettes = [load_cassette(p) for p in iter_cassette_paths(cassette_dir)]
    assert [c.exchange.path for c in cassettes] == ["/items"] + ["/items/upload-1", "/stats"] * 3
    assert len({c.trace_id for c in cassettes}) == 7
    assert all(c.calls for c in cassettes)

"""The shop test app on every framework and driver, against nx-27017 (or ``MONGODB_URI``).

No OpenTelemetry here: these tests check that the app and the database behave, so the
record/replay tests built on them can trust both.
"""

from __future__ import annotations

import base64
import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest
from pymongo import monitoring
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.apps.shop import (
    DRIVERS,
    FRAMEWORKS,
    app_from_env,
    build_app,
    seed_documents,
)
from tests.support.asgi import LifespanError, running_app
from tests.support.nx_server import NxServer, mongo_server

SEEDED = 250
COMBOS = [(framework, driver) for framework in FRAMEWORKS for driver in DRIVERS]
NX_SCRIPT = Path(__file__).parent / "support" / "nx_server.py"


@pytest.fixture
def anyio_backend() -> str:
    """Motor only runs on asyncio."""
    return "asyncio"


@pytest.fixture(scope="module")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database server for the whole module (MONGODB_URI if set, else nx-27017)."""
    with mongo_server(tmp_path_factory.mktemp("nx")) as server:
        yield server.uri


@pytest.fixture(params=COMBOS, ids=[f"{f}-{d}" for f, d in COMBOS])
async def shop(request: pytest.FixtureRequest, mongo_uri: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a freshly seeded shop app on one framework x driver combination."""
    framework, driver = request.param
    # A database per combination, so a failure in one cannot leak data into another.
    app = build_app(framework, driver, mongo_uri, db_name=f"shop_{framework}_{driver}")
    async with running_app(app) as served:
        # Unhandled errors must come back as 500 responses, as from a server, not as raises.
        transport = httpx.ASGITransport(app=served, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            seeded = await client.post("/items/seed", params={"n": SEEDED})
            assert seeded.status_code == 200, seeded.text
            assert seeded.json() == {"inserted": SEEDED}
            yield client


# --- endpoints, for every framework x driver --------------------------------------------------


@pytest.mark.anyio
async def test_health(shop: httpx.AsyncClient) -> None:
    response = await shop.get("/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.anyio
async def test_list_reads_every_batch(shop: httpx.AsyncClient) -> None:
    response = await shop.get("/items")
    assert response.status_code == 200
    body = response.json()
    # 250 documents need a getMore after the first batch of 101.
    assert body["count"] == SEEDED
    assert body["skus"] == [f"sku-{i:04d}" for i in range(SEEDED)]


@pytest.mark.anyio
async def test_list_with_limit(shop: httpx.AsyncClient) -> None:
    response = await shop.get("/items", params={"limit": 5})
    assert response.json() == {"count": 5, "skus": [f"sku-{i:04d}" for i in range(5)]}


@pytest.mark.anyio
async def test_get_item_renders_bson_types(shop: httpx.AsyncClient) -> None:
    response = await shop.get("/items/sku-0007")
    assert response.status_code == 200
    item = response.json()
    expected = seed_documents(8)[7]
    assert len(item.pop("_id")) == 24  # an ObjectId as hex
    assert item == {
        "sku": "sku-0007",
        "name": "Item 7",
        "price": expected["price"],
        "qty": 7,
        "big": 2**40 + 7,
        "blob": base64.b64encode(bytes(expected["blob"])).decode("ascii"),
        "tags": ["tag-1", "odd"],
        "dims": {"w": 1, "h": 3, "grid": [[7, 8], [9, 10]]},
        "created": "2024-01-01T00:07:00.049000+00:00",
    }


@pytest.mark.anyio
async def test_get_missing_item(shop: httpx.AsyncClient) -> None:
    response = await shop.get("/items/no-such-sku")
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


@pytest.mark.anyio
async def test_create_item(shop: httpx.AsyncClient) -> None:
    new = {"sku": "new-0001", "name": "New", "price": 12.5, "qty": 4}
    response = await shop.post("/items", json=new)
    assert response.status_code == 201
    created_id = response.json()["id"]
    assert len(created_id) == 24
    stored = (await shop.get("/items/new-0001")).json()
    assert stored == {"_id": created_id, **new}


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [{"sku": "x"}, {"sku": "x", "name": "X", "price": "free", "qty": 1}, ["not", "an", "object"]],
)
async def test_create_item_rejects_bad_input(shop: httpx.AsyncClient, body: Any) -> None:
    response = await shop.post("/items", json=body)
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.anyio
async def test_update_item(shop: httpx.AsyncClient) -> None:
    response = await shop.patch("/items/sku-0003", json={"price": 99.0, "name": "Renamed"})
    assert response.status_code == 200
    assert response.json() == {"matched": 1, "modified": 1}
    item = (await shop.get("/items/sku-0003")).json()
    assert (item["price"], item["name"]) == (99.0, "Renamed")

    missing = await shop.patch("/items/no-such-sku", json={"price": 1.0})
    assert missing.json() == {"matched": 0, "modified": 0}


@pytest.mark.anyio
async def test_update_rejects_empty_changes(shop: httpx.AsyncClient) -> None:
    response = await shop.patch("/items/sku-0003", json={})
    assert response.status_code == 400


@pytest.mark.anyio
async def test_delete_item(shop: httpx.AsyncClient) -> None:
    first = await shop.delete("/items/sku-0004")
    assert (first.status_code, first.json()) == (200, {"deleted": 1})
    again = await shop.delete("/items/sku-0004")
    assert again.json() == {"deleted": 0}
    assert (await shop.get("/items/sku-0004")).status_code == 404


@pytest.mark.anyio
async def test_stats(shop: httpx.AsyncClient) -> None:
    docs = seed_documents(SEEDED)
    response = await shop.get("/stats")
    assert response.status_code == 200
    body = response.json()
    assert body["total_qty"] == sum(doc["qty"] for doc in docs)
    assert body["avg_price"] == pytest.approx(statistics.fmean(doc["price"] for doc in docs))
    assert body["qty_gt_5"] == sum(1 for doc in docs if doc["qty"] > 5)


@pytest.mark.anyio
async def test_bulk_write(shop: httpx.AsyncClient) -> None:
    response = await shop.post("/items/bulk")
    assert response.status_code == 200
    assert response.json() == {
        "inserted": 1,
        "matched": 1,
        "modified": 1,
        "deleted": 1,
        "upserted": 0,
    }
    assert (await shop.get("/items/bulk-0001")).status_code == 200
    assert (await shop.get("/items/sku-0001")).json()["qty"] == 11
    assert (await shop.get("/items/sku-0002")).status_code == 404
    assert (await shop.get("/items")).json()["count"] == SEEDED


@pytest.mark.anyio
async def test_duplicate_key_is_409(shop: httpx.AsyncClient) -> None:
    response = await shop.post("/items/dup")
    assert response.status_code == 409
    assert response.json() == {"error": "duplicate", "code": 11000}


@pytest.mark.anyio
async def test_unhandled_error_is_500(shop: httpx.AsyncClient) -> None:
    response = await shop.get("/boom")
    assert response.status_code == 500


@pytest.mark.anyio
async def test_seed_rejects_bad_count(shop: httpx.AsyncClient) -> None:
    for bad in ("0", "many"):
        response = await shop.post("/items/seed", params={"n": bad})
        assert response.status_code == 400, bad


# --- app construction -------------------------------------------------------------------------


def test_app_from_env_picks_framework_and_driver() -> None:
    env = {"TT_APP_FRAMEWORK": "litestar", "TT_APP_DRIVER": "motor", "TT_APP_DB": "x"}
    assert type(app_from_env(env)).__name__ == "Litestar"
    assert type(app_from_env({"TT_APP_FRAMEWORK": "fastapi"})).__name__ == "FastAPI"
    assert type(app_from_env({})).__name__ == "Starlette"


@pytest.mark.parametrize("env", [{"TT_APP_FRAMEWORK": "flask"}, {"TT_APP_DRIVER": "odm"}])
def test_app_from_env_rejects_unknown_values(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="expected one of"):
        app_from_env(env)


@pytest.mark.anyio
async def test_running_app_reports_failed_startup() -> None:
    async def refusing_app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(LifespanError, match="no database"):
        async with running_app(refusing_app):
            pass


@pytest.mark.anyio
async def test_running_app_reports_a_crashing_app() -> None:
    async def crashing_app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("lifespan not supported")

    with pytest.raises(LifespanError, match="lifespan not supported"):
        async with running_app(crashing_app):
            pass


@pytest.mark.anyio
async def test_running_app_shares_lifespan_state_and_always_shuts_down() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    async def greet(request: Request) -> JSONResponse:
        return JSONResponse({"greeting": request.state.greeting})

    app = Starlette(routes=[Route("/", greet)], lifespan=lifespan)
    with pytest.raises(KeyError, match="raised in the body"):
        async with running_app(app) as served:
            transport = httpx.ASGITransport(app=served)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/")).json() == {"greeting": "hello"}
            # The body's own exception must come out as itself, not as an ExceptionGroup.
            raise KeyError("raised in the body")
    assert events == ["startup", "shutdown"]


# --- nx-27017 itself --------------------------------------------------------------------------


class _CommandNames(monitoring.CommandListener):
    """Collects the names of the commands a client sends."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def test_nx_pages_large_results_with_get_more(mongo_uri: str) -> None:
    listener = _CommandNames()
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongo_uri, event_listeners=[listener]
    )
    try:
        items = client["nx_paging"]["items"]
        items.drop()
        items.insert_many(seed_documents(SEEDED))
        listener.names.clear()
        assert len(list(items.find({}).sort("sku", 1))) == SEEDED
    finally:
        client.close()
    assert listener.names[0] == "find"
    assert listener.names.count("getMore") >= 1


def test_nx_server_start_stop_is_idempotent(tmp_path: Path) -> None:
    server = NxServer(tmp_path / "a").start()
    try:
        pid = int(server.pid_file.read_text())
        assert server.uri == f"mongodb://127.0.0.1:{server.port}/"
        assert server.startup_seconds is not None and server.startup_seconds < 20
    finally:
        server.stop()
    server.stop()
    assert not server.pid_file.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_two_nx_servers_run_side_by_side(tmp_path: Path) -> None:
    with NxServer(tmp_path / "one") as one, NxServer(tmp_path / "two") as two:
        assert one.port != two.port
        for server in (one, two):
            client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(server.uri)
            try:
                client["side"]["by"].insert_one({"port": server.port})
                assert client["side"]["by"].count_documents({}) == 1
            finally:
                client.close()


def test_nx_server_refuses_a_workdir_in_use(tmp_path: Path) -> None:
    # A pid file naming a live process (this one): start must refuse and signal nobody.
    (tmp_path / "nx.pid").write_text(str(os.getpid()))
    server = NxServer(tmp_path)
    with pytest.raises(RuntimeError, match="names running process"):
        server.start()
    with pytest.raises(RuntimeError, match="this process"):
        server.stop()  # the file names this very process: stop() must not signal it


def _fake_nx(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-nx"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_nx_server_reports_an_early_exit_with_its_output(tmp_path: Path) -> None:
    fake = _fake_nx(tmp_path, "echo 'kaboom: cannot open database' >&2; exit 3")
    with pytest.raises(RuntimeError, match=r"(?s)exited with code 3.*kaboom"):
        NxServer(tmp_path / "work", executable=fake).start()


def test_nx_server_times_out_and_cleans_up(tmp_path: Path) -> None:
    fake = _fake_nx(tmp_path, "exec sleep 60")
    server = NxServer(tmp_path / "work", executable=fake, start_timeout=1, stop_timeout=5)
    with pytest.raises(RuntimeError, match="did not answer ping"):
        server.start()
    assert server._proc is None  # stopped and reaped


def _script(*args: str) -> list[str]:
    return [sys.executable, str(NX_SCRIPT), *args]


def _env_without_uri() -> dict[str, str]:
    # The CLI must start its own server here even when the suite runs against MONGODB_URI.
    return {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}


def test_cli_run_passes_uri_and_exit_code(tmp_path: Path) -> None:
    probe = (
        "import os, sys, pymongo;"
        "c = pymongo.MongoClient(os.environ['MONGODB_URI'], serverSelectionTimeoutMS=5000);"
        "c.admin.command('ping'); sys.exit(7)"
    )
    done = subprocess.run(
        [*_script("run", "--workdir", str(tmp_path)), "--", sys.executable, "-c", probe],
        env=_env_without_uri(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 7
    assert not (tmp_path / "nx.pid").exists()


def test_cli_start_then_stop(tmp_path: Path) -> None:
    started = subprocess.run(
        _script("start", "--workdir", str(tmp_path)),
        env=_env_without_uri(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int((tmp_path / "nx.pid").read_text())
    try:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(started.stdout.strip())
        try:
            assert client.admin.command("ping")["ok"] == 1
        finally:
            client.close()
    finally:
        subprocess.run(_script("stop", "--workdir", str(tmp_path)), timeout=60, check=True)
    assert not (tmp_path / "nx.pid").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

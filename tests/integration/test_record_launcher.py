"""Recording under the real launcher: ``opentelemetry-instrument uvicorn`` for every framework and
MongoDB driver, against nx-27017 (or MONGODB_URI), checked cassette by cassette."""

from __future__ import annotations

import concurrent.futures
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.integration.launcher import launched_app
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette

COMBOS = [
    (framework, driver)
    for framework in ("starlette", "litestar", "fastapi")
    for driver in ("pymongo", "async", "motor")
]
CONCURRENT = 20
SEEDED = 250


def record_env(
    framework: str, driver: str, mongo: MongoEndpoint, cassettes: Path
) -> dict[str, str]:
    return {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "OTEL_SERVICE_NAME": f"shop-{framework}-{driver}",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": str(cassettes),
        "TT_APP_FRAMEWORK": framework,
        "TT_APP_DRIVER": driver,
        "TT_APP_DB": f"rec_{framework}_{driver}",
        "MONGODB_URI": mongo.uri,
    }


def drive_scenario(base_url: str) -> int:
    """Send the scenario's requests; return how many were sent."""
    sent = 0
    with httpx.Client(base_url=base_url, timeout=30) as client:
        steps = [
            ("POST", f"/items/seed?n={SEEDED}", None, 200),
            ("GET", "/items", None, 200),
            ("GET", "/items/sku-0001", None, 200),
            ("POST", "/items", {"sku": "new-1", "name": "New", "price": 9.5, "qty": 3}, 201),
            ("PATCH", "/items/sku-0002", {"qty": 99}, 200),
            ("DELETE", "/items/sku-0003", None, 200),
            ("GET", "/stats", None, 200),
            ("POST", "/items/bulk", None, 200),
            ("POST", "/items/dup", None, 409),
            ("GET", "/boom", None, 500),
        ]
        for method, url, body, status in steps:
            response = client.request(
                method, url, json=body, headers={"Authorization": "Bearer s3cret-token"}
            )
            assert response.status_code == status, (method, url, response.text)
            sent += 1

    def get_one(index: int) -> int:
        with httpx.Client(base_url=base_url, timeout=30) as one:
            return one.get(f"/items/sku-{index:04d}").status_code

    with concurrent.futures.ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(get_one, range(10, 10 + CONCURRENT)))
    assert statuses == [200] * CONCURRENT
    return sent + CONCURRENT


def by_request(cassettes: list[Cassette]) -> dict[tuple[str, str], Cassette]:
    keyed = {}
    for cassette in cassettes:
        assert cassette.exchange is not None
        keyed[(cassette.exchange.method, cassette.exchange.path)] = cassette
    return keyed


def batches(cassette: Cassette) -> list[int]:
    sizes = []
    for call in cassette.calls:
        reply = call.reply or {}
        cursor = reply.get("cursor", {})
        batch = cursor.get("firstBatch", cursor.get("nextBatch"))
        if batch is not None:
            sizes.append(len(batch))
    return sizes


@pytest.mark.parametrize(("framework", "driver"), COMBOS)
def test_launcher_records_one_cassette_per_request(
    framework: str, driver: str, mongo: MongoEndpoint, tmp_path: Path
) -> None:
    cassette_dir = tmp_path / "cassettes"
    env = record_env(framework, driver, mongo, cassette_dir)
    with launched_app("tests.apps.shop:app", env, tmp_path) as app:
        sent = drive_scenario(app.base_url)
    cassettes = [load_cassette(p) for p in iter_cassette_paths(cassette_dir)]
    assert len(cassettes) == sent, app.output()
    recorded = by_request(cassettes)

    listing = recorded[("GET", "/items")]
    assert listing.exchange.route == "/items"
    assert [c.command_name for c in listing.calls][0] == "find"
    assert "getMore" in [c.command_name for c in listing.calls]
    assert sum(batches(listing)) == SEEDED
    assert json.loads(listing.exchange.response_body)["count"] == SEEDED

    one = recorded[("GET", "/items/sku-0001")]
    assert one.exchange.route in ("/items/{sku}", "/items/{sku:str}")
    assert [c.command_name for c in one.calls] == ["find"]
    assert one.calls[0].command["filter"] == {"sku": "sku-0001"}
    assert dict(one.exchange.request_headers)["authorization"] == "[REDACTED]"

    created = recorded[("POST", "/items")]
    assert json.loads(created.exchange.request_body)["sku"] == "new-1"
    assert created.exchange.status == 201
    assert created.calls[0].command["documents"][0]["sku"] == "new-1"

    assert [c.command_name for c in recorded[("PATCH", "/items/sku-0002")].calls] == ["update"]
    assert [c.command_name for c in recorded[("DELETE", "/items/sku-0003")].calls] == ["delete"]
    assert Counter(c.command_name for c in recorded[("GET", "/stats")].calls)["aggregate"] == 2
    bulk_ops = {c.command_name for c in recorded[("POST", "/items/bulk")].calls}
    assert {"insert", "update", "delete"} <= bulk_ops

    duplicate = recorded[("POST", "/items/dup")]
    second = duplicate.calls[-1]
    codes = [e["code"] for e in (second.reply or {}).get("writeErrors", [])]
    if second.failed:
        codes.append(second.failure["code"])
    assert 11000 in codes
    assert duplicate.exchange.status == 409

    assert recorded[("GET", "/boom")].is_error

    for index in range(10, 10 + CONCURRENT):
        sku = f"sku-{index:04d}"
        cassette = recorded[("GET", f"/items/{sku}")]
        assert [c.command_name for c in cassette.calls] == ["find"], sku
        assert cassette.calls[0].command["filter"] == {"sku": sku}
        assert json.loads(cassette.exchange.response_body)["sku"] == sku

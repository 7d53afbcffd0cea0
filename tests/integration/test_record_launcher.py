"""Recording under the real launcher: ``opentelemetry-instrument uvicorn`` for every framework and
MongoDB driver, against nx-27017 (or MONGODB_URI), checked cassette by cassette."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.integration.recordings import COMBOS, CONCURRENT, SEEDED, Recordings
from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette


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
    framework: str, driver: str, recordings: Recordings
) -> None:
    recording = recordings.get(framework, driver)
    cassettes = [load_cassette(p) for p in iter_cassette_paths(recording.cassette_dir)]
    assert len(cassettes) == recording.sent, recording.log
    recorded = by_request(cassettes)

    listing = recorded[("GET", "/items")]
    assert listing.exchange.route == "/items"
    assert listing.calls[0].command_name == "find"
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

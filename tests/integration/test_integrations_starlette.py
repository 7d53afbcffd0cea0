"""``timetracer.integrations.starlette.auto_setup`` on the shop app (AsyncMongoClient), each
scenario in its own process (see ``auto_setup_cases``)."""

from __future__ import annotations

import pytest

from tests.integration.auto_setup_cases import (
    RECORDED_PATHS,
    RECORDED_REQUESTS,
    cassette_for,
    recorded_paths,
    replay_differences,
    responses_by_request,
    run_framework,
)
from tests.integration.scenario_runner import Result
from tests.support.nx_server import MongoEndpoint


@pytest.fixture(scope="module")
def results(mongo: MongoEndpoint, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    return run_framework("starlette", mongo.uri, tmp_path_factory.mktemp("starlette"))


def test_record_mode_writes_one_cassette_per_request(results: dict[str, Result]) -> None:
    record = results["record"]
    assert [r["status"] for r in record["responses"]] == [200, 200, 200, 201, 200, 500]
    assert len(record["cassettes"]) == RECORDED_REQUESTS
    assert recorded_paths(record) == RECORDED_PATHS


def test_cassettes_hold_route_templates_and_mongodb_replies(results: dict[str, Result]) -> None:
    item = cassette_for(results["record"], "GET", "/items/sku-0001")
    assert item["route"] == "/items/{sku}"
    assert item["calls"] == ["find"]
    assert item["replies"] == 1
    assert cassette_for(results["record"], "POST", "/items/seed")["calls"] == ["drop", "insert"]


def test_cassettes_are_written_when_the_app_shuts_down(results: dict[str, Result]) -> None:
    # uvicorn may end the process right after the lifespan shutdown, before atexit runs.
    assert results["record"]["written_at_shutdown"] == RECORDED_REQUESTS


def test_auto_setup_returns_the_app_it_was_given(results: dict[str, Result]) -> None:
    assert results["record"]["same_app"] is True
    assert results["record"]["instrumented"] is True


def test_calling_auto_setup_twice_records_each_request_once(results: dict[str, Result]) -> None:
    twice = results["twice"]
    assert recorded_paths(twice) == RECORDED_PATHS
    assert all(len(c["calls"]) == len(set(c["calls"])) for c in twice["cassettes"])


def test_replay_answers_recorded_requests_with_the_database_down(
    results: dict[str, Result],
) -> None:
    replay = results["replay"]
    assert replay_differences(results["record"], replay) == []
    assert replay["database_connections"] == 0


def test_replay_answers_an_unrecorded_request_with_a_miss(results: dict[str, Result]) -> None:
    miss = responses_by_request(results["replay"])[("GET", "/items/sku-9999")]
    assert miss["status"] == 404
    assert miss["replay"] == "miss"


def test_a_users_tracer_provider_is_extended_not_replaced(results: dict[str, Result]) -> None:
    with_provider = results["user_provider"]
    assert with_provider["provider_is_users"] is True
    assert recorded_paths(with_provider) == RECORDED_PATHS
    # The user's exporter sees every request's server span and the MongoDB spans.
    assert with_provider["user_spans"]["server_spans"] == len(with_provider["responses"])
    assert with_provider["user_spans"]["mongo"] >= 5


def test_an_app_instrumented_by_the_user_is_recorded_through_its_middleware(
    results: dict[str, Result],
) -> None:
    pre = results["preinstrumented"]
    assert recorded_paths(pre) == RECORDED_PATHS
    assert pre["user_spans"]["server_spans"] == len(pre["responses"])
    body = cassette_for(pre, "POST", "/items")["request_body"]
    assert '"sku":"new-1"' in body


def test_mode_off_leaves_the_app_and_opentelemetry_untouched(results: dict[str, Result]) -> None:
    off = results["off"]
    assert off["instrumented"] is False
    assert off["cassettes"] == []
    assert off["provider_type"] == "ProxyTracerProvider"
    assert off["http_capture"] is False
    assert off["pymongo_instrumented"] is False


def test_under_opentelemetry_instrument_each_request_is_recorded_once(
    results: dict[str, Result],
) -> None:
    launched = results["launched"]
    assert launched["statuses"] == [200, 200, 200, 201, 200, 500]
    assert recorded_paths(launched) == RECORDED_PATHS
    assert cassette_for(launched, "GET", "/items/sku-0001")["calls"] == ["find"]

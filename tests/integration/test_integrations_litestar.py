"""``timetracer.integrations.litestar.auto_setup`` on the shop app (Motor), each scenario in its
own process (see ``auto_setup_cases``)."""

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
    extra = {
        "errors_only": {"options": {"errors_only": True}},
        "compressed_none": {"options": {"compression": "none", "sample_rate": 1.0}},
    }
    return run_framework("litestar", mongo.uri, tmp_path_factory.mktemp("litestar"), extra)


def test_record_mode_writes_one_cassette_per_request(results: dict[str, Result]) -> None:
    record = results["record"]
    assert [r["status"] for r in record["responses"]] == [200, 200, 200, 201, 200, 500]
    assert len(record["cassettes"]) == RECORDED_REQUESTS
    assert recorded_paths(record) == RECORDED_PATHS


def test_cassettes_hold_the_route_template_not_the_raw_path(results: dict[str, Result]) -> None:
    # Litestar's own http.route is the raw path; the template comes from scope["path_template"].
    item = cassette_for(results["record"], "GET", "/items/sku-0001")
    assert item["route"] == "/items/{sku}"
    assert (item["calls"], item["replies"]) == (["find"], 1)


def test_request_and_response_are_recorded(results: dict[str, Result]) -> None:
    created = cassette_for(results["record"], "POST", "/items")
    assert created["status"] == 201
    assert '"sku":"new-1"' in created["request_body"]
    assert cassette_for(results["record"], "GET", "/boom")["status"] == 500


def test_cassettes_are_written_when_the_app_shuts_down(results: dict[str, Result]) -> None:
    # uvicorn may end the process right after the lifespan shutdown, before atexit runs.
    assert results["record"]["written_at_shutdown"] == RECORDED_REQUESTS


def test_auto_setup_returns_the_app_it_was_given(results: dict[str, Result]) -> None:
    assert results["record"]["same_app"] is True
    assert results["record"]["instrumented"] is True


def test_calling_auto_setup_twice_records_each_request_once(results: dict[str, Result]) -> None:
    twice = results["twice"]
    assert recorded_paths(twice) == RECORDED_PATHS
    assert cassette_for(twice, "POST", "/items/seed")["calls"] == ["drop", "insert"]


def test_replay_answers_recorded_requests_with_the_database_down(
    results: dict[str, Result],
) -> None:
    replay = results["replay"]
    assert replay_differences(results["record"], replay) == []
    assert replay["database_connections"] == 0


def test_replay_answers_an_unrecorded_request_with_a_miss(results: dict[str, Result]) -> None:
    miss = responses_by_request(results["replay"])[("GET", "/items/sku-9999")]
    assert (miss["status"], miss["replay"]) == (404, "miss")


def test_a_users_tracer_provider_is_extended_not_replaced(results: dict[str, Result]) -> None:
    with_provider = results["user_provider"]
    assert with_provider["provider_is_users"] is True
    assert recorded_paths(with_provider) == RECORDED_PATHS
    assert with_provider["user_spans"]["server_spans"] == len(with_provider["responses"])
    assert with_provider["user_spans"]["mongo"] >= 5


def test_an_app_with_its_own_opentelemetry_plugin_is_recorded_through_it(
    results: dict[str, Result],
) -> None:
    pre = results["preinstrumented"]
    assert recorded_paths(pre) == RECORDED_PATHS
    # One server span per request: the plugin's middleware was kept, not doubled.
    assert pre["user_spans"]["server_spans"] == len(pre["responses"])
    assert '"sku":"new-1"' in cassette_for(pre, "POST", "/items")["request_body"]


def test_mode_off_leaves_the_app_and_opentelemetry_untouched(results: dict[str, Result]) -> None:
    off = results["off"]
    assert (off["instrumented"], off["cassettes"]) == (False, [])
    assert off["provider_type"] == "ProxyTracerProvider"
    assert (off["http_capture"], off["pymongo_instrumented"]) == (False, False)


def test_under_opentelemetry_instrument_each_request_is_recorded_once(
    results: dict[str, Result],
) -> None:
    launched = results["launched"]
    assert launched["statuses"] == [200, 200, 200, 201, 200, 500]
    assert recorded_paths(launched) == RECORDED_PATHS
    assert cassette_for(launched, "GET", "/items/sku-0001")["calls"] == ["find"]


def test_trace_config_errors_only_keeps_only_failing_requests(results: dict[str, Result]) -> None:
    assert recorded_paths(results["errors_only"]) == ["/boom"]


def test_trace_config_compression_none_writes_uncompressed_cassettes(
    results: dict[str, Result],
) -> None:
    assert recorded_paths(results["compressed_none"]) == RECORDED_PATHS
    assert {c["codec"] for c in results["compressed_none"]["cassettes"]} == {"none"}
    assert {c["codec"] for c in results["record"]["cassettes"]} == {"zstd"}  # the default

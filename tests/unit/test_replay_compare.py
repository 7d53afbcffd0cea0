"""Comparing a replayed response with the recorded one: status, headers, JSON or text bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from timetracer.cassette import HttpExchange
from timetracer_replay.compare import Difference, compare_response, json_differences

JSON = (("content-type", "application/json"),)
TEXT = (("content-type", "text/plain; charset=utf-8"),)
OID_A, OID_B = "65a000000000000000000001", "65b0000000000000000000ff"


def recorded(
    status: int | None = 200,
    body: Any = None,
    headers: tuple[tuple[str, str], ...] = JSON,
    *,
    raw: bytes | None = None,
    size: int | None = None,
) -> HttpExchange:
    stored = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
    return HttpExchange(
        method="GET", route="/items/{sku}", path="/items/a", query="", request_headers=(),
        request_body=b"", request_body_size=0, status=status, response_headers=headers,
        response_body=stored, response_body_size=len(stored) if size is None else size,
    )  # fmt: skip


def live_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def real(differences: list[Difference]) -> list[Difference]:
    return [d for d in differences if not d.noise]


def test_identical_responses_have_no_differences() -> None:
    body = {"sku": "a", "price": 5}

    assert compare_response(recorded(body=body), 200, list(JSON), live_json(body)) == []


def test_a_different_status_is_a_difference() -> None:
    found = compare_response(recorded(body={}), 404, list(JSON), b"{}")

    assert found == [Difference("status", 200, 404)]
    assert found[0].describe() == "status: recorded 200, replayed 404"


def test_json_bodies_are_compared_as_data_not_as_text() -> None:
    found = compare_response(
        recorded(body={"a": 1, "b": [1, 2]}), 200, list(JSON), b'{ "b" : [1, 2], "a" : 1 }'
    )

    assert found == []


def test_json_differences_are_reported_at_their_paths() -> None:
    before = {"items": [{"sku": "a", "price": 5}, {"sku": "b", "price": 7}], "total": 2}
    after = {"items": [{"sku": "a", "price": 5}, {"sku": "b", "price": 8}], "count": 2}

    found = compare_response(recorded(body=before), 200, list(JSON), live_json(after))

    assert [(d.where, d.noise) for d in found] == [
        ("body.items.1.price", False),
        ("body.total", False),
        ("body.count", False),
    ]
    assert found[1].describe() == "body.total: recorded 2, replayed (absent)"


def test_a_list_of_another_length_reports_the_extra_items() -> None:
    found = json_differences([1, 2], [1, 2, 3], "body", ())

    assert [(d.where, d.live) for d in found] == [("body.2", 3)]


def test_json_values_of_different_types_differ() -> None:
    found = json_differences({"n": 1}, {"n": 1.0}, "body", ())

    assert found == [Difference("body.n", 1, 1.0)]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (OID_A, OID_B),
        ("0f8fad5b-d9cb-469f-a165-70867728950e", "7C9E6679-7425-40DE-944B-E07FC1F90AE7"),
        ("2023-11-14T22:13:20.123Z", "2025-01-02T03:04:05+00:00"),
        ("2023-11-14 22:13", "2025-01-02 03:04:05.999999"),
    ],
    ids=["objectid", "uuid", "iso-timestamp", "iso-with-space"],
)
def test_generated_identifiers_and_timestamps_are_noise(before: str, after: str) -> None:
    found = compare_response(
        recorded(body={"id": before}), 200, list(JSON), live_json({"id": after})
    )

    assert [(d.where, d.noise) for d in found] == [("body.id", True)]
    assert found[0].describe().endswith("[noise]")


def test_a_generated_value_against_an_ordinary_one_is_a_real_difference() -> None:
    found = compare_response(
        recorded(body={"id": OID_A}), 200, list(JSON), live_json({"id": "not-an-id"})
    )

    assert real(found) == found and len(found) == 1


@pytest.mark.parametrize(
    ("pattern", "left"),
    [
        ("body.created", ["body.items.0.id", "body.items.1.id"]),
        ("body.items.*.id", ["body.created"]),
        ("body.*", []),
        ("body", []),
    ],
)
def test_ignore_patterns_leave_matching_paths_out(pattern: str, left: list[str]) -> None:
    before = {"created": 1, "items": [{"id": 1}, {"id": 2}]}
    after = {"created": 2, "items": [{"id": 3}, {"id": 4}]}

    found = compare_response(recorded(body=before), 200, list(JSON), live_json(after), [pattern])

    assert [d.where for d in found] == left


def test_status_and_headers_can_be_ignored_too() -> None:
    found = compare_response(
        recorded(body={}), 201, [("content-type", "text/html")], b"{}",
        ["status", "headers.content-type", "body"],
    )  # fmt: skip

    assert found == []


def test_the_content_type_header_is_compared() -> None:
    found = compare_response(recorded(raw=b"hello", headers=JSON), 200, list(TEXT), b"hello")

    assert found == [
        Difference("headers.content-type", "application/json", "text/plain; charset=utf-8")
    ]


def test_header_names_are_compared_case_insensitively() -> None:
    found = compare_response(recorded(body={}), 200, [("Content-Type", "application/json")], b"{}")

    assert found == []


def test_a_missing_location_header_is_a_difference() -> None:
    headers = (*JSON, ("location", "/items/a"))

    found = compare_response(recorded(body={}, headers=headers), 201, list(JSON), b"{}")

    assert [(d.where, d.noise) for d in found] == [("status", False), ("headers.location", False)]
    assert "replayed (absent)" in found[1].describe()


def test_a_location_differing_only_in_a_generated_id_is_noise() -> None:
    headers = (*JSON, ("location", f"/items/{OID_A}"))

    found = compare_response(
        recorded(body={}, headers=headers), 200, [*JSON, ("location", f"/items/{OID_B}")], b"{}"
    )

    assert [(d.where, d.noise) for d in found] == [("headers.location", True)]


def test_a_location_pointing_elsewhere_is_a_real_difference() -> None:
    headers = (*JSON, ("location", f"/items/{OID_A}"))

    found = compare_response(
        recorded(body={}, headers=headers), 200, [*JSON, ("location", f"/orders/{OID_B}")], b"{}"
    )

    assert [(d.where, d.noise) for d in found] == [("headers.location", False)]


def test_a_truncated_recorded_body_is_compared_by_its_prefix_and_full_size() -> None:
    full = b'{"items": [' + b'{"sku": "a"}, ' * 20 + b'{"sku": "z"}]}'
    exchange = recorded(raw=full[:32], size=len(full))

    assert compare_response(exchange, 200, list(JSON), full) == []


def test_a_truncated_recorded_body_reports_a_different_size() -> None:
    full = b'{"items": [' + b'{"sku": "a"}, ' * 20 + b'{"sku": "z"}]}'
    exchange = recorded(raw=full[:32], size=len(full))

    found = compare_response(exchange, 200, list(JSON), full + b" ")

    assert found == [Difference("body size", len(full), len(full) + 1)]


def test_a_truncated_recorded_body_reports_a_different_prefix() -> None:
    full = b'{"items": [' + b'{"sku": "a"}, ' * 20 + b'{"sku": "z"}]}'
    exchange = recorded(raw=full[:32], size=len(full))
    changed = full.replace(b'"a"', b'"b"', 1)

    found = compare_response(exchange, 200, list(JSON), changed)

    assert [d.where for d in found] == ["body (first bytes)"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_recorded_error_without_a_response_passes_when_the_replay_answers_5xx(
    status: int,
) -> None:
    exchange = recorded(status=None, raw=b"")

    assert compare_response(exchange, status, [], b"boom", recorded_error=True) == []


@pytest.mark.parametrize("status", [200, 404, 499])
def test_a_recorded_error_without_a_response_fails_when_the_replay_does_not_fail(
    status: int,
) -> None:
    exchange = recorded(status=None, raw=b"")

    found = compare_response(exchange, status, list(JSON), b"{}", recorded_error=True)

    assert found == [Difference("status", "5xx (the app raised)", status)]


def test_non_json_bodies_are_compared_as_text() -> None:
    found = compare_response(recorded(raw=b"hello", headers=TEXT), 200, list(TEXT), b"hullo")

    assert found == [Difference("body", "hello", "hullo")]


def test_invalid_json_under_a_json_content_type_is_compared_as_text() -> None:
    exchange = recorded(raw=b"{not json", headers=JSON)

    assert compare_response(exchange, 200, list(JSON), b"{not json") == []
    assert [d.where for d in compare_response(exchange, 200, list(JSON), b"{not jsoN")] == ["body"]


def test_a_json_suffix_content_type_is_compared_as_json() -> None:
    headers = (("content-type", "application/problem+json"),)
    exchange = recorded(raw=b'{"title": "Not Found"}', headers=headers)

    assert compare_response(exchange, 200, list(headers), b'{"title":"Not Found"}') == []

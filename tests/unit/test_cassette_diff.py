"""``diff_cassettes``: request, response and call differences between two recordings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import bson
import pytest
from bson import Int64, ObjectId
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import JSON_HEADERS, mongo_attributes, record_request, spans_of
from timetracer.cassette import Cassette
from timetracer.cassette.diff import diff_cassettes
from timetracer.cassette.encoding import spans_to_traces_data
from timetracer.cassette.jsondiff import ABSENT

Recorder = Callable[..., Cassette]


def find(sku: str = "a", db: str = "shop") -> dict[str, Any]:
    return {"find": "items", "filter": {"sku": sku}, "limit": 1, "$db": db}


def found(*documents: dict[str, Any]) -> dict[str, Any]:
    return {
        "cursor": {"firstBatch": list(documents), "id": Int64(0), "ns": "shop.items"},
        "ok": 1.0,
    }


PING = mongo_attributes({"ping": 1, "$db": "shop"}, reply={"ok": 1.0})
FIND_A = mongo_attributes(find("a"), reply=found({"sku": "a", "price": 5}))


@pytest.fixture
def recorded(tracer: Tracer, memory: InMemorySpanExporter) -> Recorder:
    """Record one request (``record_request`` arguments) and decode it as a cassette."""

    def record(**request: Any) -> Cassette:
        request.setdefault("calls", [PING, FIND_A])
        trace_id = record_request(tracer, **request)
        spans = spans_of(memory.get_finished_spans(), trace_id)
        return Cassette.from_traces_data(spans_to_traces_data(spans))

    return record


def test_two_recordings_of_the_same_request_are_identical_timings_aside(
    recorded: Recorder,
) -> None:
    diff = diff_cassettes(recorded(duration_ms=25), recorded(duration_ms=40))

    assert diff.identical
    assert diff.differences == 0
    assert [(c.status, c.before, c.after, c.operation) for c in diff.calls] == [
        ("same", 1, 1, "ping"),
        ("same", 2, 2, "find"),
    ]
    assert diff.calls[1].target == "shop.items"
    assert diff.calls[1].delta_ms == pytest.approx(0.0)
    assert (diff.before["duration_ms"], diff.after["duration_ms"]) == (25.0, 40.0)


def test_response_status_and_body_fields_are_reported_at_their_paths(recorded: Recorder) -> None:
    diff = diff_cassettes(
        recorded(status=200, response_body=b'{"sku": "a", "price": 5}'),
        recorded(status=500, response_body=b'{"sku": "a", "price": 6, "error": "x"}'),
    )

    assert not diff.identical
    described = [(c.where, c.before, c.after, c.kind) for c in diff.response]
    assert ("response.status", 200, 500, "changed") in described
    assert ("response.body.price", 5, 6, "changed") in described
    assert ("response.body.error", ABSENT, "x", "added") in described
    assert diff.differences == 3


def test_request_query_headers_and_body_are_compared_field_by_field(recorded: Recorder) -> None:
    diff = diff_cassettes(
        recorded(
            method="POST",
            query="sku=a&page=1",
            request_headers=[("content-type", "application/json"), ("x-tenant", "t1")],
            request_body=b'{"qty": 1}',
        ),
        recorded(
            method="POST",
            query="sku=b&page=1",
            request_headers=[("content-type", "application/json"), ("x-tenant", "t2")],
            request_body=b'{"qty": 2}',
        ),
    )

    assert {c.where: (c.before, c.after) for c in diff.request} == {
        "request.query.sku": ("a", "b"),
        "request.headers.x-tenant": ("t1", "t2"),
        "request.body.qty": (1, 2),
    }
    assert diff.response == ()


def test_generated_ids_times_and_noisy_headers_are_noise_not_differences(
    recorded: Recorder,
) -> None:
    def body(oid: str, when: str) -> bytes:
        return json.dumps({"id": oid, "created": when, "sku": "a"}).encode()

    diff = diff_cassettes(
        recorded(
            response_body=body("65a000000000000000000001", "2026-11-26T14:37:04Z"),
            response_headers=[*JSON_HEADERS, ("date", "Thu, 26 Nov 2026 14:37:04 GMT")],
        ),
        recorded(
            response_body=body("65a000000000000000000002", "2026-11-27T09:00:00.5+01:00"),
            response_headers=[*JSON_HEADERS, ("date", "Fri, 27 Nov 2026 08:00:00 GMT")],
        ),
    )

    assert diff.identical
    assert {c.where for c in diff.response} == {
        "response.body.id",
        "response.body.created",
        "response.headers.date",
    }
    assert all(c.noise for c in diff.response)


def test_a_call_made_only_in_the_second_recording_is_added_in_its_place(
    recorded: Recorder,
) -> None:
    insert = mongo_attributes({"insert": "log", "documents": [{"n": 1}], "$db": "shop"})
    diff = diff_cassettes(recorded(calls=[PING, FIND_A]), recorded(calls=[PING, insert, FIND_A]))

    assert [(c.status, c.before, c.after, c.operation) for c in diff.calls] == [
        ("same", 1, 1, "ping"),
        ("added", None, 2, "insert"),
        ("same", 2, 3, "find"),
    ]
    assert diff.calls[1].target == "shop.log"
    assert diff.differences == 1


def test_a_call_no_longer_made_is_removed(recorded: Recorder) -> None:
    diff = diff_cassettes(recorded(calls=[PING, FIND_A]), recorded(calls=[FIND_A]))

    assert [(c.status, c.before, c.after) for c in diff.calls] == [
        ("removed", 1, None),
        ("same", 2, 1),
    ]
    assert diff.calls[0].after_ms is None
    assert diff.calls[0].delta_ms is None


def test_the_same_command_asking_something_else_is_changed_with_its_field_differences(
    recorded: Recorder,
) -> None:
    find_b = mongo_attributes(find("b"), reply=found({"sku": "b", "price": 7}))
    diff = diff_cassettes(recorded(calls=[PING, FIND_A]), recorded(calls=[PING, find_b]))

    changed = diff.calls[1]
    assert (changed.status, changed.before, changed.after) == ("changed", 2, 2)
    assert {c.where: (c.before, c.after) for c in changed.changes} == {
        "command.filter.sku": ("a", "b"),
        "reply.cursor.firstBatch.0.sku": ("a", "b"),
        "reply.cursor.firstBatch.0.price": (5, 7),
    }


def test_a_different_reply_to_the_same_command_is_a_changed_call(recorded: Recorder) -> None:
    cheaper = mongo_attributes(find("a"), reply=found({"sku": "a", "price": 4}))
    diff = diff_cassettes(recorded(calls=[FIND_A]), recorded(calls=[cheaper]))

    [call] = diff.calls
    assert call.status == "changed"
    assert [c.describe() for c in call.changes] == ["reply.cursor.firstBatch.0.price: 5 -> 4"]


def test_inserted_object_ids_cursor_ids_and_cluster_times_do_not_make_calls_differ(
    recorded: Recorder,
) -> None:
    def calls(oid: str, cursor: int, clock: int) -> list[dict[str, Any]]:
        clocks = {"$clusterTime": {"clusterTime": bson.Timestamp(clock, 1)},
                  "operationTime": bson.Timestamp(clock, 1)}  # fmt: skip
        insert = {"insert": "items", "documents": [{"_id": ObjectId(oid), "sku": "a"}],
                  "$db": "shop"}  # fmt: skip
        more = {"getMore": Int64(cursor), "collection": "items", "$db": "shop"}
        next_batch = {"cursor": {"nextBatch": [], "id": Int64(0), "ns": "shop.items"}, "ok": 1.0}
        return [
            mongo_attributes(insert, reply={"n": 1, "ok": 1.0, **clocks}),
            mongo_attributes(more, reply={**next_batch, **clocks}),
        ]

    diff = diff_cassettes(
        recorded(calls=calls("65a000000000000000000001", 111, 10)),
        recorded(calls=calls("65a000000000000000000002", 222, 20)),
    )

    assert diff.identical
    assert [c.status for c in diff.calls] == ["same", "same"]
    assert [c.where for c in diff.calls[0].changes] == ["command.documents.0._id"]
    assert [c.where for c in diff.calls[1].changes] == ["command.getMore"]


def test_ignore_patterns_leave_request_response_and_call_paths_out(recorded: Recorder) -> None:
    find_b = mongo_attributes(find("b"), reply=found({"sku": "a", "price": 5}))
    diff = diff_cassettes(
        recorded(status=200, response_body=b'{"price": 5, "seen": 1}', calls=[FIND_A]),
        recorded(status=200, response_body=b'{"price": 5, "seen": 2}', calls=[find_b]),
        ignore=["response.body.seen", "calls.find.command.filter.*"],
    )

    assert diff.identical
    assert diff.response == ()
    assert diff.calls[0].changes == ()


def test_a_request_against_a_recording_without_one_differs_as_a_whole(
    recorded: Recorder, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("nightly-job") as root:
        pass
    spans = spans_of(memory.get_finished_spans(), root.get_span_context().trace_id)
    script = Cassette.from_traces_data(spans_to_traces_data(spans))

    diff = diff_cassettes(recorded(), script)

    assert [(c.where, c.kind) for c in diff.request] == [("request", "removed")]
    assert [(c.where, c.kind) for c in diff.response] == [("response", "removed")]
    assert diff.after["route"] == "nightly-job"
    assert [c.status for c in diff.calls] == ["removed", "removed"]


def test_the_json_report_is_plain_json(recorded: Recorder) -> None:
    diff = diff_cassettes(recorded(status=200), recorded(status=404, calls=[PING]))

    document = json.loads(json.dumps(diff.to_dict()))

    assert document["identical"] is False
    assert document["differences"] == 2
    assert document["response"] == [
        {"where": "response.status", "kind": "changed", "noise": False, "before": 200,
         "after": 404}
    ]  # fmt: skip
    assert document["calls"][1]["status"] == "removed"
    assert "after" in document["calls"][1]
    assert set(document["before"]) == {
        "path", "trace_id", "method", "route", "status", "duration_ms", "calls"
    }  # fmt: skip


def test_calls_that_did_not_align_are_listed_in_the_second_recordings_order(
    recorded: Recorder,
) -> None:
    insert = mongo_attributes({"insert": "log", "documents": [{"n": 1}], "$db": "shop"})
    find_b = mongo_attributes(find("b"), reply=found())

    diff = diff_cassettes(recorded(calls=[PING, FIND_A]), recorded(calls=[insert, find_b]))

    assert [(c.status, c.operation, c.before, c.after) for c in diff.calls] == [
        ("removed", "ping", 1, None),
        ("added", "insert", None, 1),
        ("changed", "find", 2, 2),
    ]


def test_a_call_that_failed_in_one_recording_only_is_changed(recorded: Recorder) -> None:
    failure = {"ok": 0.0, "errmsg": "unknown operator: $bogus", "code": 2}
    failed = mongo_attributes(find("a"), failure=failure)

    [call] = diff_cassettes(recorded(calls=[FIND_A]), recorded(calls=[failed])).calls

    assert call.status == "changed"
    assert {(c.where, c.kind) for c in call.changes} == {
        ("reply", "removed"),
        ("failure", "added"),
    }


def test_two_recordings_without_requests_compare_only_their_calls(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    def script() -> Cassette:
        with tracer.start_as_current_span("nightly-job") as root:
            pass
        spans = spans_of(memory.get_finished_spans(), root.get_span_context().trace_id)
        return Cassette.from_traces_data(spans_to_traces_data(spans))

    diff = diff_cassettes(script(), script())

    assert (diff.request, diff.response, diff.calls) == ((), (), ())
    assert diff.identical


def test_generated_values_include_extended_json_uuids_but_not_chosen_values() -> None:
    from timetracer.cassette.jsondiff import generated

    assert generated({"$binary": {"base64": "AAAA", "subType": "04"}})
    assert generated({"$oid": "65a000000000000000000001"})
    assert generated("2026-11-26 14:37")
    assert not generated({"$binary": {"base64": "AAAA", "subType": "00"}})
    assert not generated("sku-0001")
    assert not generated(42)
    assert repr(ABSENT) == "(absent)"

"""RecordedRequests: matching live requests to recordings in server-mode replay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.replay_support import cassette_of, record, write_recording
from tests.unit.spans import START_NS
from timetracer.cassette import Cassette
from timetracer.config import TraceConfig
from timetracer_replay.requests import RecordedRequests, RequestMiss

JSON_REQUEST = (("content-type", "application/json"),)
Recorder = Callable[..., Cassette]


@pytest.fixture
def recorded(tracer: Tracer, memory: InMemorySpanExporter) -> Recorder:
    """Records one request (``http_attributes`` arguments) and returns its cassette."""
    count = iter(range(1000))

    def make(**http: Any) -> Cassette:
        start = START_NS + next(count) * 1_000_000_000
        return cassette_of(memory, record(tracer, start_ns=start, **http))

    return make


def requests_of(*cassettes: Cassette, pinned: bool = False) -> RecordedRequests:
    return RecordedRequests(cassettes, TraceConfig(), pinned=pinned)


def test_a_request_is_matched_by_method_path_query_and_body(recorded: Recorder) -> None:
    wanted = recorded(method="POST", path="/items", query="dry=1", request_body=b"sku=a",
                      request_headers=(("content-type", "text/plain"),))  # fmt: skip
    requests = requests_of(
        recorded(method="PUT", path="/items", query="dry=1", request_body=b"sku=a"),
        recorded(method="POST", path="/items/", query="dry=1", request_body=b"sku=a"),
        recorded(method="POST", path="/items", query="dry=0", request_body=b"sku=a"),
        recorded(method="POST", path="/items", query="dry=1", request_body=b"sku=b"),
        wanted,
    )

    found = requests.match("post", "/items", "dry=1", [("content-type", "text/plain")], b"sku=a")

    assert found is wanted


def test_json_bodies_are_matched_as_data(recorded: Recorder) -> None:
    wanted = recorded(method="POST", path="/items", request_headers=JSON_REQUEST,
                      request_body=b'{"sku":"a","price":5}')  # fmt: skip
    requests = requests_of(wanted)

    found = requests.match(
        "POST", "/items", "", list(JSON_REQUEST), b'{\n  "price": 5,\n  "sku": "a"\n}'
    )

    assert found is wanted


def test_a_json_body_with_other_data_does_not_match(recorded: Recorder) -> None:
    requests = requests_of(
        recorded(method="POST", path="/items", request_headers=JSON_REQUEST,
                 request_body=b'{"sku":"a","price":5}')
    )  # fmt: skip

    found = requests.match("POST", "/items", "", list(JSON_REQUEST), b'{"sku":"a","price":6}')

    assert isinstance(found, RequestMiss)


def test_an_invalid_json_body_is_matched_byte_for_byte(recorded: Recorder) -> None:
    wanted = recorded(method="POST", path="/items", request_headers=JSON_REQUEST,
                      request_body=b'{"sku": "a",')  # fmt: skip
    requests = requests_of(wanted)

    assert requests.match("POST", "/items", "", list(JSON_REQUEST), b'{"sku": "a",') is wanted
    assert isinstance(
        requests.match("POST", "/items", "", list(JSON_REQUEST), b'{"sku":"a",'), RequestMiss
    )


def test_repeated_recordings_are_served_in_order_then_the_last_one_again(
    recorded: Recorder,
) -> None:
    first, second = recorded(path="/items/7"), recorded(path="/items/7")
    requests = requests_of(first, second)

    served = [requests.match("GET", "/items/7", "", [], b"") for _ in range(4)]

    assert served == [first, second, second, second]


def test_a_redacted_query_matches_a_request_carrying_the_real_secret(
    recorded: Recorder,
) -> None:
    wanted = recorded(path="/export", route="/export", query="token=[REDACTED]&page=2")
    requests = requests_of(wanted)

    assert requests.match("GET", "/export", "token=abc123&page=2", [], b"") is wanted


def test_a_redacted_json_password_matches_a_request_carrying_the_real_one(
    recorded: Recorder,
) -> None:
    wanted = recorded(method="POST", path="/login", route="/login", request_headers=JSON_REQUEST,
                      request_body=b'{"user":"ann","password":"[REDACTED]"}')  # fmt: skip
    requests = requests_of(wanted)

    body = b'{"user": "ann", "password": "hunter2"}'

    assert requests.match("POST", "/login", "", list(JSON_REQUEST), body) is wanted


def test_a_pinned_cassette_answers_any_request(recorded: Recorder) -> None:
    pinned = recorded(path="/items/7")
    requests = requests_of(pinned, pinned=True)

    assert requests.match("DELETE", "/anything/else", "x=1", [], b"body") is pinned
    assert requests.match("GET", "/", "", [], b"") is pinned


def test_a_miss_lists_recorded_paths_of_the_same_method(recorded: Recorder) -> None:
    requests = requests_of(
        recorded(path="/items/7"),
        recorded(path="/items/8"),
        recorded(method="POST", path="/items", route="/items"),
    )

    miss = requests.match("get", "/items/9", "full=1", [], b"")

    assert isinstance(miss, RequestMiss)
    assert (miss.method, miss.path, miss.query) == ("GET", "/items/9", "full=1")
    assert miss.similar == ["/items/7", "/items/8"]
    report = miss.to_dict()
    assert report["error"] == "timetracer replay: no recording of GET /items/9?full=1"
    assert report["recorded_similar"] == ["/items/7", "/items/8"]
    assert report["looked_for"] == {"method": "GET", "path": "/items/9", "query": "full=1"}


def test_cassettes_without_an_http_request_are_not_offered(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    background = cassette_of(memory, record(tracer, without_http=True))
    requests = requests_of(background)

    assert len(requests) == 0
    assert isinstance(requests.match("GET", "/", "", [], b""), RequestMiss)


def test_load_reads_every_cassette_of_the_directory_and_skips_unreadable_ones(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    write_recording(tmp_path, tracer, memory, path="/items/7")
    (tmp_path / f"20240101T000000000Z_GET_broken_{0:032x}.cassette").write_bytes(b"garbage")

    requests = RecordedRequests.load(TraceConfig(cassette_dir=tmp_path))

    assert len(requests) == 1
    found = requests.match("GET", "/items/7", "", [], b"")
    assert isinstance(found, Cassette) and found.exchange is not None
    assert found.exchange.path == "/items/7"


def test_load_with_a_pinned_cassette_serves_it_for_everything(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    path = write_recording(tmp_path, tracer, memory, path="/items/7")

    requests = RecordedRequests.load(TraceConfig(cassette=path))

    found = requests.match("POST", "/other", "", [], b"")
    assert isinstance(found, Cassette) and found.path == path

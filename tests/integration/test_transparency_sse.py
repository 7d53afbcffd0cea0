"""Server-sent events under the real launcher while recording: ``opentelemetry-instrument uvicorn``.

For each framework: the first event reaches the client while the stream is still open (the
app holds the stream until the test releases it); a never-ending stream keeps streaming past
the body cap and, once the client leaves, is a cassette holding the first
``TIMETRACER_MAX_BODY_BYTES`` marked truncated, in one span rather than one per chunk; health
checks are not recorded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.apps.transparency import FRAMEWORKS
from tests.integration.launcher import launched_app
from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette

CAP = 1024


def record_env(framework: str, cassettes: Path) -> dict[str, str]:
    return {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "OTEL_SERVICE_NAME": f"sse-{framework}",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": str(cassettes),
        "TIMETRACER_MAX_BODY_BYTES": str(CAP),
        "TT_APP_FRAMEWORK": framework,
    }


def wait_for_cassettes(directory: Path, count: int, timeout: float = 15.0) -> list[Cassette]:
    """The cassettes in ``directory`` once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        paths = list(iter_cassette_paths(directory)) if directory.is_dir() else []
        if len(paths) >= count or time.monotonic() > deadline:
            return [load_cassette(path) for path in paths]
        time.sleep(0.05)


def span_names(cassette: Cassette) -> list[str]:
    return [
        span.name
        for resource in cassette.data.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def read_first_event(chunks: Iterator[bytes]) -> tuple[bytes, float]:
    """Bytes read up to the end of the first event, and when it was complete."""
    received = b""
    for chunk in chunks:
        received += chunk
        if b"\n\n" in received:
            return received, time.monotonic()
    raise AssertionError(f"the stream ended before its first event: {received!r}")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_events_stream_live_while_recording_and_endless_streams_are_recorded_to_the_cap(
    framework: str, tmp_path: Path
) -> None:
    cassettes = tmp_path / "cassettes"
    release = tmp_path / "release"
    env = record_env(framework, cassettes)
    with (
        launched_app("tests.apps.transparency:app", env, tmp_path) as app,
        httpx.Client(base_url=app.base_url, timeout=30) as client,
    ):
        assert client.get("/health").text == "ok"

        with client.stream("GET", "/sse", params={"release": str(release), "wait": 20}) as sse:
            chunks = sse.iter_raw()
            first, first_at = read_first_event(chunks)
            # The app sends its last event only once the release file exists, so the stream
            # is still open here: the first event was not held back until the end.
            assert not release.exists()
            release.touch()
            released_at = time.monotonic()
            rest = b"".join(chunks)
            ended_at = time.monotonic()
        assert first.startswith(b"event: first\ndata: hello\n\n")
        assert (first + rest).endswith(b"event: last\ndata: released\n\n")
        assert first_at < released_at <= ended_at

        received = b""
        with client.stream("GET", "/forever", params={"interval": 0.001}) as endless:
            for chunk in endless.iter_raw():
                received += chunk
                if len(received) >= 8 * CAP:
                    break  # the client leaves; the server sees a disconnect
        assert client.get("/health").text == "ok", app.output()

        recorded = wait_for_cassettes(cassettes, 2)

    by_path = {c.exchange.path: c.exchange for c in recorded if c.exchange is not None}
    assert sorted(by_path) == ["/forever", "/sse"], app.output()
    # One server span per request, not one span per streamed chunk.
    assert [len(span_names(c)) for c in recorded] == [1, 1]

    sse_exchange = by_path["/sse"]
    assert sse_exchange.status == 200
    assert sse_exchange.response_body == first + rest
    assert not sse_exchange.response_truncated

    forever = by_path["/forever"]
    assert forever.status == 200
    assert forever.response_body == received[:CAP]
    assert forever.response_body_size >= len(received)
    assert forever.response_truncated

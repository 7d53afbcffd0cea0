"""``timetracer serve``'s HTTP server: fixed routes, names confined to DIR, read-only, one
token-guarded same-origin POST. Raw HTTP, so paths reach the server exactly as written."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.support.dashboard_cassettes import NESTED, UNREADABLE, build_directory
from tests.unit.replay_support import item_recording, shop_app, write_recording
from timetracer.cassette.store import write_atomic
from timetracer.dashboard import CassetteCatalog, DashboardServer
from timetracer.dashboard.handler import TOKEN_HEADER, host_allowed
from timetracer.dashboard.page import LIVE_CSP
from timetracer.dashboard.replay import ReplayAction
from timetracer.errors import DashboardError
from timetracer_replay.session import ReplaySession

Answer = tuple[int, dict[str, str], bytes]


def request(
    server: DashboardServer,
    method: str,
    path: str,
    headers: dict[str, str | None] | None = None,
    body: bytes = b"",
) -> Answer:
    """Send one request as written: no path normalization, Host unless told otherwise."""
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in {"Host": f"127.0.0.1:{port}", **(headers or {})}.items():
        if value is not None:
            connection.putheader(name, value)
    if body or method == "POST":
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body or None)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def served_directory(tmp_path: Path) -> Path:
    root = build_directory(tmp_path / "served" / "cassettes").root
    (root / "notes.json").write_text('{"secret": "in DIR but not a cassette"}')
    # A real cassette just outside DIR: a path that escaped would find something to serve.
    some = next(root.glob("*_GET_stats_*.cassette"))
    (tmp_path / "served" / "outside.cassette").write_bytes(some.read_bytes())
    return root


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests that only read; a test that writes makes its own."""
    return served_directory(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(scope="module")
def server(directory: Path) -> Iterator[DashboardServer]:
    served = DashboardServer(("127.0.0.1", 0), CassetteCatalog(directory)).start()
    yield served
    served.close()


def names(server: DashboardServer) -> list[str]:
    status, _, body = request(server, "GET", "/api/cassettes")
    assert status == 200
    return [row["name"] for row in json.loads(body)["rows"]]


def test_the_page_is_served_with_its_security_headers(server: DashboardServer) -> None:
    status, headers, body = request(server, "GET", "/")

    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"] == LIVE_CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "Python" not in headers["server"]
    assert server.token in body.decode()


@pytest.mark.parametrize(
    ("name", "kind"),
    [("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")],
)
def test_the_assets_come_from_the_package(server: DashboardServer, name: str, kind: str) -> None:
    status, headers, body = request(server, "GET", f"/static/{name}")

    assert status == 200
    assert headers["content-type"].startswith(kind)
    assert body


def test_the_listing_has_every_readable_cassette_and_what_was_skipped(
    server: DashboardServer, directory: Path
) -> None:
    status, headers, body = request(server, "GET", "/api/cassettes")

    listing = json.loads(body)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert listing["directory"] == str(directory)
    assert len(listing["rows"]) == 14
    assert [item["name"] for item in listing["skipped"]] == [UNREADABLE]


def test_an_unchanged_listing_answers_304_and_a_new_cassette_changes_it(tmp_path: Path) -> None:
    directory = served_directory(tmp_path)
    server = DashboardServer(("127.0.0.1", 0), CassetteCatalog(directory)).start()
    try:
        check_etag(server, directory)
    finally:
        server.close()


def check_etag(server: DashboardServer, directory: Path) -> None:
    _, headers, _ = request(server, "GET", "/api/cassettes")
    etag = headers["etag"]

    status, _, body = request(server, "GET", "/api/cassettes", {"If-None-Match": etag})
    assert (status, body) == (304, b"")

    copy = next(directory.glob("*_GET_stats_*.cassette"))
    write_atomic(directory / "new", copy.name, copy.read_bytes())
    status, headers, _ = request(server, "GET", "/api/cassettes", {"If-None-Match": etag})
    assert status == 200
    assert headers["etag"] != etag
    assert f"new/{copy.name}" in names(server)


@pytest.mark.parametrize("encode", [False, True])
def test_a_detail_is_served_by_its_name(server: DashboardServer, encode: bool) -> None:
    name = next(n for n in names(server) if n.startswith(f"{NESTED}/"))

    status, _, body = request(
        server, "GET", f"/api/cassettes/{quote(name, safe='') if encode else name}"
    )

    detail = json.loads(body)
    assert status == 200
    assert detail["name"] == name
    assert detail["request"]["route"] == "/health"
    assert detail["waterfall"]["spans"][0]["name"] == "request"


def test_an_unreadable_cassette_in_dir_answers_422_with_the_reason(
    server: DashboardServer,
) -> None:
    status, _, body = request(server, "GET", f"/api/cassettes/{UNREADABLE}")

    assert status == 422
    assert UNREADABLE in json.loads(body)["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/cassettes/../outside.cassette",
        "/api/cassettes/..%2Foutside.cassette",
        "/api/cassettes/%2e%2e%2foutside.cassette",
        "/api/cassettes/%2E%2E/outside.cassette",
        "/api/cassettes/nested/../../outside.cassette",
        "/api/cassettes/..%5Coutside.cassette",
        "/api/cassettes/../../../../etc/passwd",
        "/api/cassettes//etc/passwd",
        "/api/cassettes/%2Fetc%2Fpasswd",
        "/api/cassettes/{outside}",
        "/api/cassettes/{outside_quoted}",
        "/api/cassettes/notes.json",
        "/api/cassettes/nested",
        "/api/cassettes/",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e%2fdashboard.html",
        "/static/dashboard.html",
        "/../../../../etc/passwd",
        "/%2e%2e/outside.cassette",
        "/outside.cassette",
        "/notes.json",
    ],
)
def test_nothing_outside_the_fixed_routes_and_the_scanned_cassettes_is_served(
    server: DashboardServer, directory: Path, path: str
) -> None:
    outside = directory.parent / "outside.cassette"
    path = path.format(outside=outside, outside_quoted=quote(str(outside), safe=""))

    status, _, body = request(server, "GET", path)

    assert status == 404
    assert set(json.loads(body)) == {"error"}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_the_server_is_read_only(server: DashboardServer, method: str) -> None:
    status, headers, _ = request(server, method, "/api/cassettes")

    assert status == 405
    assert headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io", "", None]
)
def test_requests_naming_another_host_are_refused(
    server: DashboardServer, host: str | None
) -> None:
    status, _, body = request(server, "GET", "/api/cassettes", {"Host": host})

    assert status == 403
    assert "Host" in json.loads(body)["error"]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [("localhost:8765", True), ("127.0.0.1", True), ("[::1]:8765", True),
     ("192.168.1.20:8765", True), ("rebind.example:8765", False), ("[::1", False)],
)  # fmt: skip
def test_host_allowed(host: str, allowed: bool) -> None:
    assert host_allowed(host) is allowed


def test_replay_is_refused_when_no_app_was_given(server: DashboardServer) -> None:
    name = names(server)[0]

    status, _, body = request(server, "POST", f"/api/replay/{name}", {TOKEN_HEADER: server.token})

    assert status == 403
    assert "--app" in json.loads(body)["error"]


def test_posting_anywhere_else_changes_nothing(server: DashboardServer) -> None:
    for path in ("/api/cassettes", "/api/cassettes/x.cassette", "/"):
        status, _, _ = request(server, "POST", path, {TOKEN_HEADER: server.token}, b"{}")
        assert status in (404, 405)


@pytest.fixture
def replay_server(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> Iterator[DashboardServer]:
    directory = tmp_path / "cassettes"
    write_recording(directory, tracer, memory, **item_recording("a"))
    session = ReplaySession().start()
    replay = ReplayAction(shop_app(), "shop:app", session)
    served = DashboardServer(("127.0.0.1", 0), CassetteCatalog(directory), replay=replay)
    served.start()
    yield served
    served.close()
    session.stop()


def origin(server: DashboardServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_replay_with_the_token_from_the_page_replays_the_cassette(
    replay_server: DashboardServer,
) -> None:
    name = names(replay_server)[0]

    status, _, body = request(
        replay_server,
        "POST",
        f"/api/replay/{name}",
        {TOKEN_HEADER: replay_server.token, "Origin": origin(replay_server),
         "Sec-Fetch-Site": "same-origin"},
    )  # fmt: skip

    result = json.loads(body)
    assert status == 200
    assert result["passed"] is True
    assert (result["recorded_status"], result["replayed_status"]) == (200, 200)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {TOKEN_HEADER: "wrong"},
        {TOKEN_HEADER: "{token}", "Origin": "http://evil.example"},
        {TOKEN_HEADER: "{token}", "Origin": "null"},
        {TOKEN_HEADER: "{token}", "Sec-Fetch-Site": "cross-site"},
        {TOKEN_HEADER: "{token}", "Sec-Fetch-Site": "same-site"},
    ],
)
def test_replay_without_the_token_or_from_another_origin_is_refused(
    replay_server: DashboardServer, headers: dict[str, str]
) -> None:
    name = names(replay_server)[0]
    sent = {key: value.format(token=replay_server.token) for key, value in headers.items()}

    status, _, _ = request(replay_server, "POST", f"/api/replay/{name}", sent)

    assert status == 403


@pytest.mark.parametrize("name", ["../x.cassette", "%2Fetc%2Fpasswd", "missing.cassette"])
def test_replay_of_a_name_that_is_not_a_scanned_cassette_is_refused(
    replay_server: DashboardServer, name: str
) -> None:
    status, _, _ = request(
        replay_server, "POST", f"/api/replay/{name}", {TOKEN_HEADER: replay_server.token}
    )

    assert status == 404


def test_an_address_in_use_is_a_dashboard_error(directory: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(DashboardError, match=f"cannot listen on 127.0.0.1:{port}") as caught:
            DashboardServer(("127.0.0.1", port), CassetteCatalog(directory))

    assert isinstance(caught.value, OSError)  # the builtin a caller would catch


def test_the_url_names_the_bound_port(server: DashboardServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.server_address[1]}/"


def test_close_is_idempotent(directory: Path) -> None:
    served: Any = DashboardServer(("127.0.0.1", 0), CassetteCatalog(directory)).start()

    served.close()
    served.close()


def test_a_directory_removed_while_serving_answers_404_not_a_crash(tmp_path: Path) -> None:
    directory = served_directory(tmp_path)
    served = DashboardServer(("127.0.0.1", 0), CassetteCatalog(directory)).start()
    try:
        shutil.rmtree(directory)

        status, _, body = request(served, "GET", "/api/cassettes")

        assert status == 404
        assert "no such cassette" in json.loads(body)["error"]
        assert request(served, "GET", "/")[0] == 200  # still serving
    finally:
        served.close()

"""``timetracer serve``: serves until SIGTERM, loopback by default, replay only with --app."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.replay_support import item_recording, write_recording
from timetracer.cli import serve_cmd
from timetracer.cli.main import main
from timetracer.dashboard.handler import TOKEN_HEADER
from timetracer_replay import session as session_module


@pytest.fixture(autouse=True)
def own_global_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """--app starts the process-wide replay session: each test gets its own, stopped after."""
    monkeypatch.setattr(session_module, "_session", None)
    yield
    if session_module._session is not None:
        session_module._session.stop()


@pytest.fixture
def directory(tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter) -> Path:
    root = tmp_path / "cassettes"
    write_recording(root, tracer, memory, **item_recording("a"))
    return root


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_while(argv: list[str], port: int, visit: Callable[[str], Any]) -> tuple[int, Any]:
    """Run ``timetracer serve`` here, ``visit(base_url)`` from a thread, then SIGTERM."""
    outcome: list[Any] = []
    base = f"http://127.0.0.1:{port}"

    def client() -> None:
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{base}/api/cassettes", timeout=5)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            outcome.append(visit(base))
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=client)
    thread.start()
    code = main(argv)
    thread.join(10)
    return code, outcome[0] if outcome else None


def test_it_serves_until_sigterm_and_says_where(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    before = signal.getsignal(signal.SIGTERM)

    code, rows = serve_while(
        ["serve", str(directory), "--listen", f"127.0.0.1:{port}"],
        port,
        lambda base: httpx.get(f"{base}/api/cassettes").json()["rows"],
    )

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(rows) == 1
    assert out == [
        f"timetracer serve: {directory} (1 cassette(s)) on http://127.0.0.1:{port}/",
        "timetracer serve: stopped",
    ]
    assert signal.getsignal(signal.SIGTERM) is before


def test_open_shows_the_page_in_the_browser(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    port = free_port()

    serve_while(["serve", str(directory), "--listen", f"127.0.0.1:{port}", "--open"], port, str)

    assert opened == [f"http://127.0.0.1:{port}/"]


def test_listening_beyond_loopback_warns(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()

    code, _ = serve_while(["serve", str(directory), "--listen", f"0.0.0.0:{port}"], port, str)

    assert code == 0
    assert "anyone who can reach this port can read every recorded request" in (
        capsys.readouterr().err
    )


def test_the_default_address_is_loopback() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    serve_cmd.add_parser(commands)

    args = parser.parse_args(["serve", "cassettes"])

    assert args.listen == ("127.0.0.1", 8765)


@pytest.fixture
def app_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``module:app`` of a fresh importable module holding the replay tests' shop app."""
    module = f"serveshop_{uuid.uuid4().hex}"
    code = tmp_path / "code"
    code.mkdir()
    (code / f"{module}.py").write_text(
        "from tests.unit.replay_support import shop_app\n\napp = shop_app()\n"
    )
    monkeypatch.syspath_prepend(str(code))
    return f"{module}:app"


def test_with_an_app_the_page_carries_a_token_that_replays(
    directory: Path, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()

    def replay(base: str) -> tuple[int, dict[str, Any]]:
        page = httpx.get(f"{base}/").text
        config = re.search(r'id="tt-config">(.*?)</script>', page, re.S)
        assert config is not None
        token = json.loads(config.group(1))["token"]
        name = httpx.get(f"{base}/api/cassettes").json()["rows"][0]["name"]
        answer = httpx.post(f"{base}/api/replay/{name}", headers={TOKEN_HEADER: token})
        return answer.status_code, answer.json()

    code, (status, result) = serve_while(
        ["serve", str(directory), "--listen", f"127.0.0.1:{port}", "--app", app_spec],
        port,
        replay,
    )

    assert code == 0
    assert status == 200
    assert result["passed"] is True
    assert f"replaying through {app_spec}" in capsys.readouterr().out


def test_a_bad_app_exits_2_and_stops_the_replay_session(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(directory), "--app", "no_such_module_x:app"]) == 2

    assert "cannot import no_such_module_x" in capsys.readouterr().err
    assert session_module._session is not None
    assert not session_module._session._started


def test_a_file_or_a_missing_directory_exits_2(
    directory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = next(directory.iterdir())

    assert main(["serve", str(a_file)]) == 2
    assert main(["serve", str(tmp_path / "nowhere")]) == 2

    assert capsys.readouterr().err.count("not a directory") == 2


def test_an_address_in_use_exits_2(directory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        assert main(["serve", str(directory), "--listen", f"127.0.0.1:{port}"]) == 2

    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err

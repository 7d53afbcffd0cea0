"""Failure isolation: a full disk, a read-only or missing directory, a capture hook that raises.
The app's requests still succeed; each cause is logged once and every occurrence counted."""

from __future__ import annotations

import asyncio
import contextvars
import errno
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.unit.hardening_support import recording
from timetracer.cassette import iter_cassette_paths, load_cassette, store
from timetracer.config import TraceConfig
from timetracer.redaction import Redactor

pytestmark = pytest.mark.anyio

EXPORTER_LOG = "timetracer_exporter.exporter"
CAPTURE_LOG = "timetracer.capture.http"
REQUESTS = 5


class _Os:
    """``os`` as the store module sees it, with some calls replaced: nothing else is touched."""

    def __init__(self, **replaced: Any) -> None:
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced.get(name, getattr(os, name))


def disk_full(monkeypatch: pytest.MonkeyPatch, directory: Path) -> Path:
    """Every write runs out of space after the file was created, as a full disk does."""

    def no_space(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store, "os", _Os(write=no_space))
    return directory


def read_only(monkeypatch: pytest.MonkeyPatch, directory: Path) -> Path:
    """Creating a file fails as on a read-only mount (chmod cannot do this for root)."""

    def refuse(path: Any, flags: int, mode: int = 0o777) -> int:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(store, "os", _Os(open=refuse))
    return directory


def under_a_file(monkeypatch: pytest.MonkeyPatch, directory: Path) -> Path:
    """The directory cannot exist: a regular file holds its parent's name."""
    directory.parent.joinpath("blocker").write_bytes(b"")
    return directory.parent / "blocker" / "cassettes"


@pytest.mark.parametrize(
    ("make_broken", "cause"),
    [
        (disk_full, "write:OSError:28"),
        (read_only, "write:OSError:30"),
        (under_a_file, "write:NotADirectoryError:20"),
    ],
    ids=["disk-full", "read-only", "parent-is-a-file"],
)
async def test_a_broken_disk_never_fails_a_request_and_is_logged_once_and_counted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    make_broken: Any,
    cause: str,
) -> None:
    directory = make_broken(monkeypatch, tmp_path / "cassettes")
    config = TraceConfig(mode="record", cassette_dir=directory)

    with caplog.at_level(logging.WARNING), recording(config) as recorded:
        answers = [await recorded.call("GET", f"/items/{n}") for n in range(REQUESTS)]
        exporter = recorded.exporter

    assert [(a.status, a.body) for a in answers] == [
        (200, f'{{"sku":"{n}"}}'.encode()) for n in range(REQUESTS)
    ]
    assert exporter.failures.counts == {cause: REQUESTS}
    assert exporter.stats.failed == REQUESTS and exporter.stats.written == 0
    warnings = [r for r in caplog.records if r.name == EXPORTER_LOG]
    assert len(warnings) == 1
    assert f"could not write a cassette to {directory}" in warnings[0].getMessage()
    # Nothing half-written is left behind either.
    assert not directory.exists() or list(directory.iterdir()) == []


async def test_after_the_disk_recovers_cassettes_are_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = disk_full(monkeypatch, tmp_path / "cassettes")
    config = TraceConfig(mode="record", cassette_dir=directory)

    with recording(config) as recorded:
        await recorded.call("GET", "/items/lost")
        monkeypatch.undo()
        await recorded.call("GET", "/items/kept")
        exporter = recorded.exporter

    assert (exporter.stats.failed, exporter.stats.written) == (1, 1)
    assert [p.name.split("_")[2] for p in directory.iterdir()] == ["items-sku"]


def exploding(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("the redactor broke")


async def test_a_capture_hook_that_raises_never_reaches_the_app_or_the_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(Redactor, "body", exploding)
    config = TraceConfig(mode="record", cassette_dir=tmp_path / "cassettes")
    payload = b'{"sku": "a", "qty": 2}'

    with caplog.at_level(logging.WARNING), recording(config) as recorded:
        answers = [
            await recorded.call(
                "POST", "/echo", payload, headers=[(b"content-type", b"application/json")]
            )
            for _ in range(REQUESTS)
        ]
        capture = recorded.capture

    assert [(a.status, a.body) for a in answers] == [(200, payload)] * REQUESTS
    assert capture.failures.counts == {"http-request-body:RuntimeError": REQUESTS}
    (warning,) = [r for r in caplog.records if r.name == CAPTURE_LOG]
    assert "could not record http request body" in warning.getMessage()
    assert warning.exc_info is not None  # the first one carries its traceback


async def test_a_hook_that_raises_at_the_start_of_a_request_is_isolated_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(Redactor, "headers", exploding)
    config = TraceConfig(mode="record", cassette_dir=tmp_path / "cassettes")

    with caplog.at_level(logging.WARNING), recording(config) as recorded:
        answers = [await recorded.call("GET", "/items/a") for _ in range(REQUESTS)]
        capture, exporter = recorded.capture, recorded.exporter

    assert [a.status for a in answers] == [200] * REQUESTS
    assert capture.failures.counts == {"http-request:RuntimeError": REQUESTS}
    assert len([r for r in caplog.records if r.name == CAPTURE_LOG]) == 1
    # An exchange that could not be recorded makes no cassette rather than a wrong one.
    assert exporter.stats.written == 0


async def test_a_request_started_from_an_earlier_requests_context_is_its_own_trace(
    tmp_path: Path,
) -> None:
    # What uvicorn does after a large body (python/cpython#140947): the next request's task
    # starts from a copy of the context that was current inside the previous request.
    left_behind: list[contextvars.Context] = []

    async def upload(request: Request) -> JSONResponse:
        left_behind.append(contextvars.copy_context())
        return JSONResponse({"size": len(await request.body())})

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"sku": request.path_params["sku"]})

    app = Starlette(
        routes=[Route("/upload", upload, methods=["POST"]), Route("/items/{sku}", item)]
    )
    config = TraceConfig(mode="record", cassette_dir=tmp_path)
    with recording(config, app) as recorded:
        await recorded.call("POST", "/upload", b"x" * 100_000)
        (earlier,) = left_behind
        task = earlier.run(asyncio.ensure_future, recorded.call("GET", "/items/a"))
        assert (await task).status == 200
        exporter = recorded.exporter

    assert (exporter.stats.written, exporter.stats.late_spans) == (2, 0)
    cassettes = [load_cassette(path) for path in iter_cassette_paths(tmp_path)]
    assert sorted(c.exchange.path for c in cassettes) == ["/items/a", "/upload"]
    assert len({c.trace_id for c in cassettes}) == 2

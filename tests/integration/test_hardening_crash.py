"""Crash safety: ``kill -9`` of an app recording under load leaves only whole cassettes.

What a write interrupted by the kill leaves behind (a hidden ``.partial`` file) is never listed
or replayed, and the next start removes it; cassettes written before the crash stay intact.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.integration.launcher import BIN, REPO, launched_app
from tests.integration.recordings import record_env
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import iter_cassette_paths, load_cassette

APP = "tests.apps.shop:app"
SEEDED = 50
WORKERS = 16


def keep_sending(base_url: str, stop: threading.Event) -> None:
    """Requests back to back until ``stop``; errors once the app is gone are expected."""
    index = 0
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while not stop.is_set():
            index += 1
            try:
                client.get(f"/items/sku-{index % SEEDED:04d}")
            except httpx.TransportError:
                time.sleep(0.01)


def digests(directory: Path) -> dict[str, str]:
    paths = iter_cassette_paths(directory)
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def partials(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.endswith(".partial")]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "timetracer"), *args],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_kill_9_under_load_leaves_whole_cassettes_and_the_next_start_sweeps_leftovers(
    mongo: MongoEndpoint, tmp_path: Path
) -> None:
    cassette_dir = tmp_path / "cassettes"
    env = record_env("starlette", "pymongo", mongo, cassette_dir)
    env["TT_APP_DB"] = "hardening_crash"
    with launched_app(APP, env, tmp_path) as app:
        assert httpx.post(f"{app.base_url}/items/seed?n={SEEDED}", timeout=30).status_code == 200
        stop = threading.Event()
        senders = [
            threading.Thread(target=keep_sending, args=(app.base_url, stop)) for _ in range(WORKERS)
        ]
        for sender in senders:
            sender.start()
        try:
            deadline = time.monotonic() + 30
            # The directory appears with the first cassette.
            while not cassette_dir.is_dir() or len(list(iter_cassette_paths(cassette_dir))) < 40:
                assert time.monotonic() < deadline, app.output()
                time.sleep(0.05)
            before = digests(cassette_dir)
            app.process.send_signal(signal.SIGKILL)  # mid-traffic: requests and writes in flight
            app.process.wait(timeout=10)
        finally:
            stop.set()
            for sender in senders:
                sender.join(10)
    assert app.process.returncode == -signal.SIGKILL

    # Only whole cassettes are listed, and every one of them loads.
    after_crash = digests(cassette_dir)
    assert all(after_crash[name] == digest for name, digest in before.items())
    for path in iter_cassette_paths(cassette_dir):
        assert load_cassette(path).exchange.status == 200
    # What a write cut by the kill leaves (planted here, as the kill rarely lands mid-write:
    # half a cassette under the dead writer's pid), beside whatever the kill really left.
    some = next(iter_cassette_paths(cassette_dir))
    leftover = cassette_dir / f".{some.name}.{app.process.pid}.0badc0de.partial"
    leftover.write_bytes(some.read_bytes()[: some.stat().st_size // 2])
    left = partials(cassette_dir)
    listed = cli("list", str(cassette_dir), env={})
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == len(after_crash)
    assert ".partial" not in listed.stdout + listed.stderr
    replay_env = {**env, "TIMETRACER_MODE": "off"}
    replayed = cli("replay", str(cassette_dir), "--app", APP, env=replay_env)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replayed.stdout.splitlines()[-1] == f"{len(after_crash)} passed, 0 failed"
    assert ".partial" not in replayed.stdout + replayed.stderr

    # The next start removes the leftovers before its first write; nothing else changes.
    with launched_app(APP, env, tmp_path) as again:
        assert httpx.get(f"{again.base_url}/stats", timeout=30).status_code == 200
    assert partials(cassette_dir) == []
    final = digests(cassette_dir)
    assert len(final) == len(after_crash) + 1
    assert all(final[name] == digest for name, digest in after_crash.items())
    print(f"{len(after_crash)} whole cassettes after the kill, {len(left)} leftover(s) swept")

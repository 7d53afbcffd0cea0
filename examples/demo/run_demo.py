"""Record the demo app with timetracer against an embedded nx-27017, then replay it without.

Run it with ``scripts/demo.sh``. Steps:
1. start nx-27017 (a MongoDB wire-protocol server) on a free loopback port;
2. start ``timetracer run --mode record -- uvicorn examples.demo.app:app``;
3. send a few requests, stop the app (its last spans are flushed on SIGTERM);
4. ``timetracer list`` the cassettes and ``timetracer show`` one of them;
5. stop the database and ``timetracer replay`` every request through the app: each one is
   answered from its cassette, with nothing listening where the database was.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.support.nx_server import mongo_server  # noqa: E402

BIN = Path(sys.executable).parent
CASSETTES = REPO / "demo-cassettes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the demo app exited early with status {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("the demo app did not start within 30 s")


def send_requests(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        first = client.post("/notes", json={"title": "Buy milk", "tags": ["home"]}).json()
        client.post("/notes", json={"title": "Ship timetracer", "tags": ["work"]})
        client.get("/notes")
        client.get("/notes", params={"tag": "work"})
        client.get(f"/notes/{first['id']}")
        client.get("/notes/not-an-id")
        print(f"sent 6 requests to {base_url}")


def main() -> int:
    shutil.rmtree(CASSETTES, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="timetracer-demo-") as work, mongo_server(
        Path(work) / "mongo"
    ) as mongo:
        print(f"MongoDB (nx-27017 unless MONGODB_URI is set): {mongo.uri}")
        port = free_port()
        env = {**os.environ, "MONGODB_URI": mongo.uri, "PYTHONPATH": str(REPO)}
        command = [
            str(BIN / "timetracer"), "run", "--mode", "record", "--dir", str(CASSETTES), "--",
            str(BIN / "uvicorn"), "examples.demo.app:app", "--port", str(port), "--log-level",
            "warning",
        ]  # fmt: skip
        app = subprocess.Popen(command, env=env, cwd=REPO)
        try:
            wait_listening(port, app)
            send_requests(f"http://127.0.0.1:{port}")
        finally:
            app.send_signal(signal.SIGTERM)
            app.wait(timeout=30)
        stopped_uri = mongo.uri
    print(f"\n$ timetracer list {CASSETTES.relative_to(REPO)}")
    subprocess.run([str(BIN / "timetracer"), "list", str(CASSETTES)], check=True, cwd=REPO)
    cassettes = sorted(CASSETTES.glob("*.cassette"))
    if len(cassettes) != 6:
        print(f"expected 6 cassettes, found {len(cassettes)}", file=sys.stderr)
        return 1
    shown = cassettes[-2]
    print(f"\n$ timetracer show {shown.relative_to(REPO)}")
    subprocess.run([str(BIN / "timetracer"), "show", str(shown)], check=True, cwd=REPO)
    print(f"\nThe database is stopped now ({stopped_uri}).")
    print(f"$ timetracer replay {CASSETTES.relative_to(REPO)} --app examples.demo.app:app")
    replay = subprocess.run(
        [str(BIN / "timetracer"), "replay", str(CASSETTES), "--app", "examples.demo.app:app"],
        cwd=REPO,
        env={**os.environ, "MONGODB_URI": stopped_uri, "PYTHONPATH": str(REPO)},
    )
    return replay.returncode


if __name__ == "__main__":
    raise SystemExit(main())

"""Start an app the way users do: ``opentelemetry-instrument uvicorn ...`` on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningApp:
    """A launched app: where it listens and where its output goes."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    stdout: Path

    def output(self) -> str:
        """Everything the app wrote to stderr (uvicorn's and Python's logs) so far."""
        return self.log.read_text(errors="replace")


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited with {process.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            # uvicorn binds only after the lifespan start-up finished, so a connection means ready.
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"app did not listen on {port} within 30 s:\n{log.read_text()}")


def run_to_exit(
    app: str, env: Mapping[str, str], workdir: Path
) -> subprocess.CompletedProcess[str]:
    """Run the launcher with ``env`` and wait: for apps that must refuse to start."""
    command = [str(BIN / "opentelemetry-instrument"), str(BIN / "uvicorn"), app, "--port", "0"]
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        command, env=full_env, cwd=workdir, capture_output=True, text=True, timeout=60
    )


@contextmanager
def launched_app(
    app: str, env: Mapping[str, str], workdir: Path, *, launcher: bool = True
) -> Iterator[RunningApp]:
    """Run ``[opentelemetry-instrument] uvicorn APP`` with ``env``; stop it (SIGTERM) on exit.

    Stopping is graceful, so the SDK's shutdown flushes the span processors before exit.
    """
    port = free_port()
    log = workdir / f"app-{port}.log"
    stdout = workdir / f"app-{port}.out"
    command = [str(BIN / "uvicorn"), app, "--host", "127.0.0.1", "--port", str(port)]
    if launcher:
        command = [str(BIN / "opentelemetry-instrument"), *command]
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    with log.open("wb") as err, stdout.open("wb") as out:
        process = subprocess.Popen(command, env=full_env, stdout=out, stderr=err, cwd=workdir)
    try:
        _wait_listening(port, process, log)
        yield RunningApp(f"http://127.0.0.1:{port}", process, log, stdout)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

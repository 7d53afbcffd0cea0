"""Run an ``nx-27017`` server (MongoDB wire protocol on SQLite) for tests and local demos.

Library use::

    with NxServer(tmp_path) as server:
        client = pymongo.MongoClient(server.uri)

    with mongo_server(tmp_path) as server:  # honours MONGODB_URI: then nothing is started
        ...

Command line (works from a checkout without installing anything but the dev extras)::

    python tests/support/nx_server.py run [--workdir DIR] -- CMD ARGS...
    python tests/support/nx_server.py start --workdir DIR    # prints the URI, leaves it running
    python tests/support/nx_server.py stop --workdir DIR

This module only uses absolute imports so that it also runs as a plain script path.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

import pymongo
from pymongo.errors import PyMongoError

__all__ = [
    "ExternalMongo",
    "MongoEndpoint",
    "NxServer",
    "find_nx_executable",
    "main",
    "mongo_server",
]

URI_ENV = "MONGODB_URI"
LOOPBACK = "127.0.0.1"
DEFAULT_START_TIMEOUT = 20.0
DEFAULT_STOP_TIMEOUT = 10.0
_PING_TIMEOUT_MS = 2000
_LOG_TAIL_LINES = 30


class MongoEndpoint(Protocol):
    """Anything tests can connect to: it only has to say where."""

    @property
    def uri(self) -> str:
        """The ``mongodb://`` connection string."""
        ...


@dataclass(frozen=True)
class ExternalMongo:
    """A MongoDB that somebody else runs (named by ``MONGODB_URI``)."""

    uri: str


def find_nx_executable() -> str:
    """Return the path of the ``nx-27017`` script, preferring the running interpreter's venv."""
    # The venv's bin/ is often not on PATH (tests run as .venv/bin/python), so look there first.
    beside_python = Path(sys.executable).with_name("nx-27017")
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("nx-27017")
    if found is None:
        raise RuntimeError(
            "nx-27017 is not installed: install the dev extras (pip install -e '.[dev]') "
            f"or set {URI_ENV} to a running MongoDB"
        )
    return found


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # The pid exists but belongs to someone else: not ours to stop, but it is alive.
        return True
    return True


class NxServer:
    """One ``nx-27017`` process with its own port, data directory, pid file and logs.

    Every file lives in ``workdir``: ``data/`` (one SQLite file per database), ``nx.pid``,
    ``nx.log`` (the server's log) and ``nx.console`` (its stdout/stderr, where tracebacks go).
    Each instance needs its own ``workdir`` because nx-27017 refuses to start while its pid
    file names a live process.
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        *,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        detached: bool = False,
        executable: str | None = None,
    ) -> None:
        """Prepare (but do not start) a server in ``workdir``.

        ``detached`` puts the server in its own session so that it outlives this process and
        ignores the terminal's Ctrl-C; it then has to be stopped explicitly. ``executable``
        replaces the ``nx-27017`` script (default: ``find_nx_executable()``).
        """
        self.executable = executable
        self.workdir = Path(workdir).resolve()
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.detached = detached
        self._host = LOOPBACK
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None

    @property
    def data_dir(self) -> Path:
        """Directory holding one SQLite database file per MongoDB database."""
        return self.workdir / "data"

    @property
    def pid_file(self) -> Path:
        """This instance's pid file (written by nx-27017 itself, removed on clean exit)."""
        return self.workdir / "nx.pid"

    @property
    def log_file(self) -> Path:
        """The server's own log file."""
        return self.workdir / "nx.log"

    @property
    def console_file(self) -> Path:
        """The server's stdout and stderr (crash tracebacks end up here)."""
        return self.workdir / "nx.console"

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The TCP port the server listens on; only known once started."""
        if self._port is None:
            raise RuntimeError("NxServer has not been started")
        return self._port

    @property
    def uri(self) -> str:
        """The ``mongodb://`` connection string of the running server."""
        return f"mongodb://{self.host}:{self.port}/"

    def start(self) -> NxServer:
        """Launch nx-27017 on a free loopback port and wait until it answers ``ping``."""
        if self._proc is not None and self._proc.poll() is None:
            raise RuntimeError(f"NxServer is already running at {self.uri}")
        self._check_pid_file()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        self._port = _free_loopback_port()
        self._proc = self._launch(self._port)
        try:
            self._wait_until_ready(began + self.start_timeout)
        except BaseException:
            # Never leave a half-started server behind, also not on Ctrl-C.
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _check_pid_file(self) -> None:
        pid = self._pid_from_file()
        if pid is None:
            return
        if _pid_alive(pid):
            # nx-27017 would refuse to start anyway; say why, and never signal that process.
            raise RuntimeError(
                f"{self.pid_file} names running process {pid}: stop that server first "
                f"(nx_server.py stop --workdir {self.workdir}) or use another workdir"
            )
        # Left behind by a server that was killed; nx-27017 would ignore it too.
        self.pid_file.unlink(missing_ok=True)

    def _launch(self, port: int) -> subprocess.Popen[bytes]:
        command = [
            self.executable or find_nx_executable(),
            "--host",
            self._host,
            "-p",
            str(port),
            "--data-dir",
            str(self.data_dir),
            "--pid-file",
            str(self.pid_file),
            "--log-file",
            str(self.log_file),
        ]
        with self.console_file.open("ab") as console:
            # Popen duplicates the descriptor, so closing our copy right away is fine.
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=self.detached,
            )

    def _wait_until_ready(self, deadline: float) -> None:
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(self._failure(f"exited with code {self._proc.returncode}"))
            try:
                # A plain connect fails fast while nothing listens; pymongo would keep
                # retrying for its whole server selection timeout instead.
                socket.create_connection((self._host, self.port), timeout=0.2).close()
                self._ping()
            except (OSError, PyMongoError) as exc:
                last_error = exc
                time.sleep(0.02)
            else:
                return
        raise RuntimeError(
            self._failure(f"did not answer ping within {self.start_timeout:.0f} s ({last_error})")
        )

    def _ping(self) -> None:
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            self.uri, serverSelectionTimeoutMS=_PING_TIMEOUT_MS, connectTimeoutMS=_PING_TIMEOUT_MS
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()

    def _failure(self, what: str) -> str:
        return (
            f"nx-27017 on port {self._port} {what}.\n"
            f"--- tail of {self.console_file} ---\n{_tail(self.console_file)}\n"
            f"--- tail of {self.log_file} ---\n{_tail(self.log_file)}"
        )

    def _pid_from_file(self) -> int | None:
        try:
            text = self.pid_file.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return int(text) if text.isdigit() else None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``stop_timeout``); safe to call twice.

        Without a child process of its own (``stop`` on the command line), the pid comes from
        this instance's pid file, so a server started by another process with the same
        ``workdir`` can be stopped too.
        """
        file_pid = self._pid_from_file()
        # Our own child wins over the file: a file we did not write may name a stranger.
        pid = self._proc.pid if self._proc is not None else file_pid
        if pid == os.getpid():
            raise RuntimeError(f"{self.pid_file} names this process; refusing to signal it")
        if pid is not None:
            self._terminate(pid)
        self._proc = None
        if file_pid is not None and file_pid == pid:
            # nx-27017 removes its pid file on a clean exit, but not after SIGKILL.
            self.pid_file.unlink(missing_ok=True)

    def _terminate(self, pid: int) -> None:
        if not _pid_alive(pid):
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if self._wait_for_exit(pid, self.stop_timeout):
                return
        raise RuntimeError(f"nx-27017 (pid {pid}) survived SIGKILL for {self.stop_timeout} s")

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            # Our child: wait() also reaps it, so no zombie is left behind.
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        # Started by an earlier command, so not our child: all we can do is poll.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def __enter__(self) -> NxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def mongo_server(
    workdir: str | os.PathLike[str], *, detached: bool = False
) -> Iterator[MongoEndpoint]:
    """Yield a MongoDB to test against: ``MONGODB_URI`` if set, else a fresh NxServer.

    Setting ``MONGODB_URI`` runs the same tests against a real MongoDB; nothing is started
    or stopped then.
    """
    external = os.environ.get(URI_ENV)
    if external:
        yield ExternalMongo(external)
        return
    with NxServer(workdir, detached=detached) as server:
        yield server


def _exit_code(returncode: int) -> int:
    # A child killed by a signal reports -N; shells report that as 128 + N.
    return 128 - returncode if returncode < 0 else returncode


def _wait_for_child(proc: subprocess.Popen[bytes], grace: float = DEFAULT_STOP_TIMEOUT) -> int:
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # The terminal sent SIGINT to the child as well; let it shut down, then insist.
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def _run_command(command: Sequence[str], workdir: Path) -> int:
    # The server gets its own session so that Ctrl-C reaches only the command: it can still
    # talk to the database while it shuts down, and we stop the server afterwards.
    with mongo_server(workdir, detached=True) as server:
        env = {**os.environ, URI_ENV: server.uri}
        proc = subprocess.Popen(list(command), env=env)

        def forward(signum: int, _frame: object) -> None:
            proc.send_signal(signum)

        # Without a handler SIGTERM would end us at once, skipping the server shutdown.
        previous = signal.signal(signal.SIGTERM, forward)
        try:
            return _exit_code(_wait_for_child(proc))
        finally:
            signal.signal(signal.SIGTERM, previous)
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _cmd_run(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("nx_server run: missing the command to run (after --)", file=sys.stderr)
        return 2
    if args.workdir is not None:
        return _run_command(command, Path(args.workdir))
    with tempfile.TemporaryDirectory(prefix="nx-27017-") as tmp:
        return _run_command(command, Path(tmp))


def _cmd_start(args: argparse.Namespace) -> int:
    external = os.environ.get(URI_ENV)
    if external:
        # Same contract as mongo_server(): a configured MongoDB wins, nothing is started.
        print(external)
        return 0
    server = NxServer(args.workdir, detached=True).start()
    print(server.uri)
    print(
        f"started in {server.startup_seconds:.2f} s (pid file {server.pid_file})", file=sys.stderr
    )
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    NxServer(args.workdir).stop()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nx_server.py", description="Run nx-27017 (MongoDB on SQLite) for timetracer tests."
    )
    commands = parser.add_subparsers(dest="action", required=True)

    run = commands.add_parser(
        "run", help="start a server, run a command with MONGODB_URI set, stop the server"
    )
    run.add_argument("--workdir", help="keep server files here (default: a temporary directory)")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    run.set_defaults(handler=_cmd_run)

    start = commands.add_parser("start", help="start a server in the background, print its URI")
    start.add_argument("--workdir", required=True, help="directory for data, pid file and logs")
    start.set_defaults(handler=_cmd_start)

    stop = commands.add_parser("stop", help="stop the server started with the same --workdir")
    stop.add_argument("--workdir", required=True)
    stop.set_defaults(handler=_cmd_stop)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except RuntimeError as exc:
        print(f"nx_server: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

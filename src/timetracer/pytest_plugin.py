"""The ``timetracer`` pytest plugin (``pytest11`` entry point): recorded requests as tests, and
recorded database calls for hand-written tests.

- ``pytest --timetracer-cassettes DIR --timetracer-app module:app`` collects one test per
  cassette under DIR that replays its request through the app and fails with the differences.
- ``@pytest.mark.timetracer`` (or the ``timetracer_cassette`` fixture) replays a test's own
  MongoDB calls from ``cassettes/<module>/<test>.cassette`` beside the test file, or records
  them there, as the record mode says (``none``, ``once``, ``new_episodes``, ``all``; default
  ``none`` when ``CI`` is set, else ``once``). ``cassette=`` names another cassette.
- ``timetracer_replay("path.cassette")`` replays one cassette inside a ``with`` block.

Everything heavy is imported inside hooks and fixtures: a run that does not use timetracer
pays for this module and nothing else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from timetracer.testing import keys
from timetracer.testing.modes import RECORD_MODES, running_in_ci

if TYPE_CHECKING:
    from timetracer.testing.replay_blocks import ReplayBlocks
    from timetracer.testing.use import CassetteUse
    from timetracer_replay.session import ReplaySession

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``timetracer`` option group."""
    group = parser.getgroup(
        "timetracer", "timetracer: replay recorded requests; record or replay database calls"
    )
    group.addoption(
        "--timetracer-cassettes",
        metavar="DIR",
        help="collect one test per cassette under DIR: its request is replayed through "
        "--timetracer-app with MongoDB answered from the cassette, and compared",
    )
    group.addoption(
        "--timetracer-app", metavar="MODULE:ATTR", help="the ASGI app the requests replay through"
    )
    group.addoption(
        "--timetracer-ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="leave a response path out of the comparison, e.g. body.created (repeatable; "
        "also TIMETRACER_IGNORE)",
    )
    group.addoption(
        "--timetracer-record-mode",
        choices=RECORD_MODES,
        default=None,
        help="what @pytest.mark.timetracer tests do with their cassette: none (replay only), "
        "once (record if missing), new_episodes (replay, record new calls), all (record "
        "again); default none when CI is set, else once",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; with ``--timetracer-cassettes``, add its directory to collect."""
    config.addinivalue_line(
        "markers",
        "timetracer(cassette=None): replay the test's MongoDB calls from its cassette or "
        "record them, as --timetracer-record-mode says (default cassette: "
        "cassettes/<module>/<test>.cassette beside the test file)",
    )
    directory = config.getoption("timetracer_cassettes", None)
    if directory is None:
        return
    app = config.getoption("timetracer_app")
    if not app:
        raise pytest.UsageError(
            "--timetracer-cassettes needs --timetracer-app MODULE:ATTR, the ASGI app that the "
            "recorded requests are replayed through"
        )
    path = (config.invocation_params.dir / directory).resolve()
    if not path.is_dir():
        raise pytest.UsageError(f"--timetracer-cassettes {directory}: no such directory")
    from timetracer.testing.app_replayer import AppReplayer

    ignore = list(config.getoption("timetracer_ignore"))
    ignore += [p.strip() for p in os.environ.get("TIMETRACER_IGNORE", "").split(",") if p.strip()]
    config.stash[keys.CASSETTES_DIR] = path
    config.stash[keys.APP_REPLAYER] = AppReplayer(app, ignore)
    if not _covered(path, config):
        config.args.append(str(path))


def _covered(path: Path, config: pytest.Config) -> bool:
    """Whether a collection argument already reaches ``path`` (then adding it would collect
    every cassette twice)."""
    for arg in config.args:
        target = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if target == path or target in path.parents:
            return True
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A cassette under ``--timetracer-cassettes`` is a file holding one test."""
    directory = parent.config.stash.get(keys.CASSETTES_DIR, None)
    name = file_path.name
    if directory is None or not name.endswith(".cassette") or name.startswith("."):
        return None
    if directory not in file_path.resolve().parents:
        return None
    from timetracer.testing.items import CassetteFile

    return CassetteFile.from_parent(parent, path=file_path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test that passed but made a MongoDB call its cassette does not answer fails."""
    result = yield
    use = item.stash.get(keys.CASSETTE_USE, None)
    if use is not None:
        use.check()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Remember whether the test itself passed: only a passing test's recording is written."""
    report = yield
    if report.when == "call":
        item.stash[keys.CALL_PASSED] = bool(report.passed)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Shut the replayed app down (lifespan) and stop its replay session."""
    replayer = session.config.stash.get(keys.APP_REPLAYER, None)
    if replayer is None:
        return
    from timetracer.errors import ReplayError

    try:
        replayer.close()
    except ReplayError as error:
        # The app failed to shut down: say so and fail the run, as a server would show it.
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"timetracer: {error}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _shared_session(config: pytest.Config) -> ReplaySession | None:
    replayer = config.stash.get(keys.APP_REPLAYER, None)
    return replayer.session if replayer is not None else None


def cassette_path(request: pytest.FixtureRequest) -> Path:
    """The test's cassette: the marker's ``cassette`` (relative to the test file's directory),
    else ``cassettes/<module>/<test>.cassette`` beside the test file."""
    base = request.path.parent
    marker = request.node.get_closest_marker("timetracer")
    given = None
    if marker is not None:
        given = marker.kwargs.get("cassette", marker.args[0] if marker.args else None)
    if given is not None:
        chosen = Path(given)
        return chosen if chosen.is_absolute() else base / chosen
    name = request.node.name
    if request.cls is not None:
        name = f"{request.cls.__name__}.{name}"
    safe = _UNSAFE.sub("-", name).strip("-.") or "test"
    return base / "cassettes" / request.path.stem / f"{safe}.cassette"


@pytest.fixture
def timetracer_record_mode(request: pytest.FixtureRequest) -> str:
    """The record mode in force: ``--timetracer-record-mode``, else ``none`` under CI, else
    ``once``."""
    from timetracer.testing.modes import resolve_record_mode

    return resolve_record_mode(request.config.getoption("timetracer_record_mode"), os.environ)


@pytest.fixture
def timetracer_cassette(
    request: pytest.FixtureRequest, timetracer_record_mode: str
) -> Iterator[CassetteUse]:
    """Replay or record the test's MongoDB calls (see :mod:`timetracer.testing.modes`).

    Create clients inside the test or in function-scoped fixtures: they are redirected to the
    replay responder, or heard by the recorder, only from this fixture on.
    """
    from timetracer.errors import CassetteNotFoundError, TimetracerError
    from timetracer.testing.use import cassette_use

    path = cassette_path(request)
    node = request.node
    with ExitStack() as stack:
        try:
            use = stack.enter_context(
                cassette_use(
                    path,
                    timetracer_record_mode,
                    name=node.nodeid,
                    passed=lambda: node.stash.get(keys.CALL_PASSED, False),
                    shared_session=_shared_session(request.config),
                )
            )
        except CassetteNotFoundError:
            why = " (the default when CI is set)" if running_in_ci(os.environ) else ""
            pytest.fail(
                f"timetracer: {path} does not exist and the record mode is "
                f"{timetracer_record_mode}{why}: record it with --timetracer-record-mode=once "
                "against a real database and commit it",
                pytrace=False,
            )
        except TimetracerError as error:
            pytest.fail(f"timetracer: {error}", pytrace=False)
        node.stash[keys.CASSETTE_USE] = use
        yield use


@pytest.fixture(autouse=True)
def _timetracer_marker(request: pytest.FixtureRequest) -> None:
    """``@pytest.mark.timetracer`` puts the test under ``timetracer_cassette``."""
    if request.node.get_closest_marker("timetracer") is not None:
        request.getfixturevalue("timetracer_cassette")


@pytest.fixture
def timetracer_replay(request: pytest.FixtureRequest) -> Iterator[ReplayBlocks]:
    """``with timetracer_replay("cassettes/x.cassette") as scope:`` answers the block's MongoDB
    calls from that cassette (a relative path is read from the test file's directory)."""
    from timetracer.testing.replay_blocks import ReplayBlocks

    blocks = ReplayBlocks(request.path.parent, _shared_session(request.config))
    yield blocks
    blocks.close()

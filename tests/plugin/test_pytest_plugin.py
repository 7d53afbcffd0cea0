"""The pytest plugin without a database: recorded requests as tests, replay around tests,
options and errors. Every test runs pytest inside pytest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.replay_support import (
    ITEM_A,
    call_attributes,
    find_one_command,
    find_reply,
    item_recording,
    write_recording,
)
from tests.unit.spans import START_NS
from timetracer import attributes as attr
from timetracer.cassette import load_cassette

SECOND = 1_000_000_000


def write_item(
    directory: Path,
    tracer: Tracer,
    memory: InMemorySpanExporter,
    index: int,
    sku: str = "a",
    **recording: object,
) -> Path:
    """``GET /items/<sku>`` recorded against the shop (ping, then find_one answered ITEM_A)."""
    arguments = item_recording(sku, start_ns=START_NS + index * SECOND, **recording)  # type: ignore[arg-type]
    return write_recording(directory, tracer, memory, **arguments)


@pytest.fixture
def cassette_dir(pytester: pytest.Pytester, tracer: Tracer, memory: InMemorySpanExporter) -> Path:
    """Two recordings: GET /items/a as the app still answers it, and GET /items/b recorded
    when the app answered differently (price 6): one passes, one fails."""
    directory = pytester.path / "cassettes"
    write_item(directory, tracer, memory, 0)
    write_item(directory, tracer, memory, 1, "b", asked="b", body=b'{"sku":"b","price":6}')
    return directory


def run_cassettes(pytester: pytest.Pytester, app: str, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--timetracer-cassettes", "cassettes", "--timetracer-app", app, *extra
    )


def test_each_cassette_is_a_test_that_replays_its_request_and_fails_with_the_diff(
    pytester: pytest.Pytester, cassette_dir: Path, shop_app: str
) -> None:
    result = run_cassettes(pytester, shop_app, "-v")

    result.assert_outcomes(passed=1, failed=1)
    [first, second] = [load_cassette(p) for p in sorted(cassette_dir.iterdir())]
    result.stdout.fnmatch_lines(
        [
            f"cassettes/*.cassette::GET /items/{{sku}} {first.trace_id} PASSED*",
            f"cassettes/*.cassette::GET /items/{{sku}} {second.trace_id} FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "GET /items/b  (recorded 200, replayed 200)",
            "  body.sku: recorded 'b', replayed 'a'",
            "  body.price: recorded 6, replayed 5",
            f"  cassette: {second.path}",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_the_app_is_imported_after_replay_started_and_its_lifespan_runs_once(
    pytester: pytest.Pytester, tracer: Tracer, memory: InMemorySpanExporter, shop_app: str
) -> None:
    for index in range(3):
        write_item(pytester.path / "cassettes", tracer, memory, index)

    result = run_cassettes(pytester, shop_app)

    # The shop's client was made at import time for db.invalid: it was redirected.
    result.assert_outcomes(passed=3)
    assert (pytester.path / "events.log").read_text().split() == ["startup", "shutdown"]


def test_ignore_leaves_response_paths_out(
    pytester: pytest.Pytester, cassette_dir: Path, shop_app: str
) -> None:
    result = run_cassettes(
        pytester, shop_app, "--timetracer-ignore", "body.sku", "--timetracer-ignore", "body.price"
    )

    result.assert_outcomes(passed=2)


def test_keyword_selection_and_collect_only_see_method_route_and_trace_id(
    pytester: pytest.Pytester, cassette_dir: Path, shop_app: str
) -> None:
    trace_id = load_cassette(sorted(cassette_dir.iterdir())[1]).trace_id

    listed = run_cassettes(pytester, shop_app, "--collect-only", "-q")
    selected = run_cassettes(pytester, shop_app, "-k", trace_id[:12])

    listed.stdout.fnmatch_lines(["cassettes/*::GET /items/{sku} *", "2 tests collected*"])
    selected.assert_outcomes(failed=1, deselected=1)


def test_last_failed_runs_only_the_failing_cassette_again(
    pytester: pytest.Pytester, cassette_dir: Path, shop_app: str
) -> None:
    run_cassettes(pytester, shop_app).assert_outcomes(passed=1, failed=1)

    again = run_cassettes(pytester, shop_app, "--lf")

    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*GET /items/b  (recorded 200, replayed 200)*"])


def test_a_cassette_directory_given_as_an_argument_too_is_collected_once(
    pytester: pytest.Pytester, cassette_dir: Path, shop_app: str
) -> None:
    result = run_cassettes(pytester, shop_app, "cassettes", "--timetracer-ignore", "body.*")

    result.assert_outcomes(passed=2)


def test_ordinary_tests_still_run_beside_the_cassettes(
    pytester: pytest.Pytester, cassette_dir: Path, shop_app: str
) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")

    result = run_cassettes(pytester, shop_app, "test_plain.py", "--timetracer-ignore", "body.*")

    result.assert_outcomes(passed=3)


def test_a_corrupt_cassette_is_a_collection_error_naming_it(
    pytester: pytest.Pytester, cassette_dir: Path, shop_app: str
) -> None:
    corrupt = cassette_dir / "zz_corrupt.cassette"
    corrupt.write_bytes(os.urandom(200))

    result = run_cassettes(pytester, shop_app)

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*ERROR collecting cassettes/zz_corrupt.cassette*", f"timetracer: {corrupt}: *"]
    )


def test_an_app_that_cannot_be_imported_fails_every_cassette_saying_why(
    pytester: pytest.Pytester, cassette_dir: Path
) -> None:
    result = run_cassettes(pytester, "no_such_module_zz9:app")

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["*--app 'no_such_module_zz9:app': cannot import no_such_module_zz9*"]
    )


def test_a_request_that_cannot_be_replayed_fails_saying_why(
    pytester: pytest.Pytester, tracer: Tracer, memory: InMemorySpanExporter, shop_app: str
) -> None:
    # Only the first 8 bytes of a 4096-byte body were stored (over TIMETRACER_MAX_BODY_BYTES).
    recording = {
        **item_recording("a"),
        "request_body": b'{"sku": ',
        "overrides": {attr.HTTP_REQUEST_BODY_SIZE: 4096},
    }
    write_recording(pytester.path / "cassettes", tracer, memory, **recording)

    result = run_cassettes(pytester, shop_app)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the request body was cut at 8 of 4096 bytes*cannot be replayed"])


def test_a_recording_without_a_request_is_skipped(
    pytester: pytest.Pytester, tracer: Tracer, memory: InMemorySpanExporter, shop_app: str
) -> None:
    write_recording(
        pytester.path / "cassettes",
        tracer,
        memory,
        without_http=True,
        calls=[call_attributes(find_one_command("a"), reply=find_reply(ITEM_A))],
    )

    result = run_cassettes(pytester, shop_app, "-rs")

    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*holds no HTTP request*"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--timetracer-cassettes", "cassettes"],
            "*--timetracer-cassettes needs --timetracer-app*",
        ),
        (
            ["--timetracer-cassettes", "nowhere", "--timetracer-app", "m:app"],
            "*--timetracer-cassettes nowhere: no such directory*",
        ),
        (["--timetracer-record-mode", "sometimes"], "*invalid choice: 'sometimes'*"),
    ],
    ids=["no-app", "no-directory", "bad-record-mode"],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, cassette_dir: Path, argv: list[str], message: str
) -> None:
    result = pytester.runpytest(*argv)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_options_are_in_one_group_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")

    result.stdout.fnmatch_lines(
        [
            "timetracer: replay recorded requests; record or replay database calls:",
            "*--timetracer-cassettes=DIR*",
            "*--timetracer-app=MODULE:ATTR*",
            "*--timetracer-ignore=PATH*",
            "*--timetracer-record-mode={none,once,new_episodes,all}*",
        ]
    )


HAND_WRITTEN = """
import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure


@pytest.mark.timetracer(cassette="recorded/item.cassette")
def test_reads_the_item():
    client = MongoClient("mongodb://db.invalid:27017/", serverSelectionTimeoutMS=2000)
    assert client.db.items.find_one({"sku": "a"})["price"] == 5
    client.close()


@pytest.mark.timetracer(cassette="recorded/item.cassette")
def test_asks_for_something_never_recorded():
    client = MongoClient("mongodb://db.invalid:27017/", serverSelectionTimeoutMS=2000)
    client.db.items.find_one({"sku": "zz"})


@pytest.mark.timetracer(cassette="recorded/item.cassette")
def test_swallows_the_miss():
    client = MongoClient("mongodb://db.invalid:27017/", serverSelectionTimeoutMS=2000)
    try:
        client.db.items.find_one({"sku": "zz"})
    except OperationFailure:
        pass


def test_with_blocks(timetracer_replay):
    with timetracer_replay("recorded/item.cassette") as scope:
        client = MongoClient("mongodb://db.invalid:27017/", serverSelectionTimeoutMS=2000)
        assert client.db.items.find_one({"sku": "a"})["sku"] == "a"
    assert scope.answered >= 1


def test_a_with_block_raises_on_leaving_when_a_call_missed(timetracer_replay):
    from timetracer.errors import ReplayMissError

    with pytest.raises(ReplayMissError, match="no recorded MongoDB call answers find"):
        with timetracer_replay("recorded/item.cassette"):
            client = MongoClient("mongodb://db.invalid:27017/", serverSelectionTimeoutMS=2000)
            with pytest.raises(OperationFailure):
                client.db.items.find_one({"sku": "zz"})
"""


@pytest.fixture
def item_cassette(pytester: pytest.Pytester, tracer: Tracer, memory: InMemorySpanExporter) -> Path:
    calls = [call_attributes(find_one_command("a"), reply=find_reply(ITEM_A))]
    written = write_recording(pytester.path / "recorded", tracer, memory, calls=calls)
    return written.rename(written.with_name("item.cassette"))


def test_a_marked_test_is_answered_from_its_cassette_and_fails_on_a_miss(
    pytester: pytest.Pytester, item_cassette: Path
) -> None:
    pytester.makepyfile(test_hand=HAND_WRITTEN)

    result = pytester.runpytest("--timetracer-record-mode", "none")

    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_asks_for_something_never_recorded*",
            "*no recorded MongoDB call answers find on db.items*",
            f"*cassette: {item_cassette}*",
        ]
    )
    result.stdout.fnmatch_lines(["*test_swallows_the_miss*", "*ReplayMissError*"])


def test_under_ci_a_missing_cassette_is_an_error_saying_how_to_record_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(
        test_new="import pytest\n\n@pytest.mark.timetracer\ndef test_new_thing():\n    pass\n"
    )

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    expected = pytester.path / "cassettes" / "test_new" / "test_new_thing.cassette"
    result.stdout.fnmatch_lines(
        [
            f"*timetracer: {expected} does not exist and the record mode is none (the default when "
            "CI is set): record it with --timetracer-record-mode=once*"
        ]
    )
    assert not expected.exists()


def test_a_corrupt_cassette_of_a_marked_test_is_an_error_naming_it(
    pytester: pytest.Pytester,
) -> None:
    cassette = pytester.path / "cassettes" / "test_broken" / "test_it.cassette"
    cassette.parent.mkdir(parents=True)
    cassette.write_bytes(os.urandom(100))
    pytester.makepyfile(
        test_broken="import pytest\n\n@pytest.mark.timetracer\ndef test_it():\n    pass\n"
    )

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*timetracer: {cassette}: *"])


def test_the_record_mode_fixture_follows_ci_and_the_option(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_mode="import os\n\ndef test_mode(timetracer_record_mode):\n"
        "    assert timetracer_record_mode == os.environ['EXPECTED']\n"
    )
    monkeypatch.setenv("EXPECTED", "once")
    pytester.runpytest().assert_outcomes(passed=1)
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv("EXPECTED", "none")
    pytester.runpytest().assert_outcomes(passed=1)
    monkeypatch.setenv("EXPECTED", "all")
    pytester.runpytest("--timetracer-record-mode", "all").assert_outcomes(passed=1)


NAMED = """
import os

import pytest


class TestShop:
    @pytest.mark.timetracer
    @pytest.mark.parametrize("sku", ["a", "b/c"])
    def test_find(self, sku, timetracer_cassette):
        assert timetracer_cassette.action.value == os.environ["EXPECTED"]
"""


def test_a_test_without_database_calls_records_an_empty_cassette_named_after_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_names=NAMED)
    monkeypatch.setenv("EXPECTED", "record")

    pytester.runpytest().assert_outcomes(passed=2)

    directory = pytester.path / "cassettes" / "test_names"
    assert sorted(p.name for p in directory.iterdir()) == [
        "TestShop.test_find-a.cassette",
        "TestShop.test_find-b-c.cassette",
    ]
    cassette = load_cassette(directory / "TestShop.test_find-a.cassette")
    assert cassette.calls == ()
    assert cassette.root_name == "test_names.py::TestShop::test_find[a]"
    monkeypatch.setenv("EXPECTED", "replay")
    pytester.runpytest("--timetracer-record-mode", "none").assert_outcomes(passed=2)


AFTER_CASSETTES = """
import pytest
from pymongo import MongoClient


@pytest.mark.timetracer(cassette="recorded/item.cassette")
def test_replayed_beside_cassette_tests():
    client = MongoClient("mongodb://db.invalid:27017/", serverSelectionTimeoutMS=2000)
    assert client.db.items.find_one({"sku": "a"})["price"] == 5


@pytest.mark.timetracer
def test_that_would_record():
    pass
"""


def test_after_cassette_tests_marked_tests_replay_but_cannot_record(
    pytester: pytest.Pytester, cassette_dir: Path, item_cassette: Path, shop_app: str
) -> None:
    pytester.makepyfile(test_after=AFTER_CASSETTES)

    result = run_cassettes(
        pytester, shop_app, "cassettes", "test_after.py", "--timetracer-ignore", "body.*"
    )

    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        ["*cannot record * while --timetracer-cassettes replay runs in this process*"]
    )


BAD_SHUTDOWN = """
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


@asynccontextmanager
async def lifespan(app):
    yield
    raise RuntimeError("could not flush the outbox")


async def item(request):
    return JSONResponse({"sku": "a", "price": 5})


app = Starlette(routes=[Route("/items/{sku}", item)], lifespan=lifespan)
"""


def test_an_app_whose_shutdown_fails_fails_the_run_saying_why(
    pytester: pytest.Pytester, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    recording = {**item_recording("a"), "calls": []}  # the app answers without MongoDB
    write_recording(pytester.path / "cassettes", tracer, memory, **recording)
    pytester.makepyfile(badshutdown_app=BAD_SHUTDOWN)

    result = run_cassettes(pytester, "badshutdown_app:app")

    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*timetracer: *could not flush the outbox*"])

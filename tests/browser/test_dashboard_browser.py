"""The dashboard in headless Chromium: the written file and the live server, on one recorded
directory, checked against ``timetracer list --json``; planted script never runs."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.browser.conftest import ARTIFACTS
from tests.browser.page import DashboardPage
from tests.support.dashboard_cassettes import (
    IMG,
    PLANTED_PATH,
    SCRIPT,
    UNREADABLE,
    RecordedDirectory,
    build_directory,
    write_many,
)
from tests.unit.replay_support import item_recording, shop_app, write_recording
from tests.unit.spans import START_NS, local_provider
from timetracer.cli.main import main
from timetracer.dashboard import CassetteCatalog, DashboardServer
from timetracer.dashboard.replay import ReplayAction
from timetracer_replay.session import ReplaySession

Rows = list[dict[str, Any]]


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(argv))
    return code, out.getvalue()


def list_json(directory: Path, *flags: str) -> Rows:
    """What ``timetracer list DIR --json`` prints."""
    _, out = run_cli("list", str(directory), "--json", *flags)
    return json.loads(out)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> RecordedDirectory:
    return build_directory(tmp_path_factory.mktemp("dashboard") / "cassettes")


@pytest.fixture(scope="module")
def listed(recorded: RecordedDirectory) -> Rows:
    return list_json(recorded.root)


def name_of(row: dict[str, Any], root: Path) -> str:
    return Path(row["path"]).relative_to(root).as_posix()


@pytest.fixture(scope="module")
def static_url(recorded: RecordedDirectory) -> str:
    out = recorded.root.parent / "dashboard.html"
    code, _ = run_cli("dashboard", str(recorded.root), "--out", str(out))
    assert code == 0
    return out.as_uri()


@pytest.fixture(scope="module")
def live_url(recorded: RecordedDirectory) -> Iterator[str]:
    server = DashboardServer(("127.0.0.1", 0), CassetteCatalog(recorded.root)).start()
    yield server.url
    server.close()


Opener = Callable[[], DashboardPage]


@pytest.fixture(params=["static", "live"])
def dashboard(request: pytest.FixtureRequest, browser: Any) -> Opener:
    """Opens the dashboard, as the written file or from the live server."""
    url = request.getfixturevalue("static_url" if request.param == "static" else "live_url")
    return lambda: DashboardPage(browser, url)


@pytest.fixture
def static_dashboard(browser: Any, static_url: str) -> Opener:
    """Opens the written file. Sorting and filtering run the same script on the same rows in
    both modes, so their many cases run on the file and one check runs on the server."""
    return lambda: DashboardPage(browser, static_url)


def by_name(listed: Rows, root: Path, method: str, route: str) -> str:
    return next(
        name_of(row, root) for row in listed if (row["method"], row["route"]) == (method, route)
    )


# ---- rows -----------------------------------------------------------------------------------


def test_rows_and_counts_match_timetracer_list_json(
    dashboard: Opener, recorded: RecordedDirectory, listed: Rows
) -> None:
    page = dashboard()

    assert len(listed) == recorded.readable
    assert page.count == f"{len(listed)} cassettes"
    assert page.names() == [name_of(row, recorded.root) for row in listed]
    for cells, row in zip(page.cells(), listed, strict=True):
        time, method, route, status, duration, calls = cells
        assert time == row["recorded_at"][:23].replace("T", " ")
        assert method == row["method"]
        assert route.splitlines()[0] == row["route"]
        assert status.split()[0] == str(row["status"])
        assert duration == f"{row['duration_ms']:.1f} ms"
        assert calls == (", ".join(f"{n} {s}" for s, n in row["calls"].items()) or "\N{EN DASH}")
    assert page.errors() == []


def test_error_rows_stand_out(dashboard: Opener, recorded: RecordedDirectory) -> None:
    page = dashboard()

    flagged = page.script(
        "return [...document.querySelectorAll('#rows tbody tr.error')].map(r => r.dataset.name)"
    )
    expected = [name_of(row, recorded.root) for row in list_json(recorded.root, "--errors")]
    assert flagged == expected
    assert len(expected) == 2  # the 500 with an exception and the 503
    background = page.script(
        "return getComputedStyle(document.querySelector('#rows tbody tr.error')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")


def test_unreadable_files_are_reported(dashboard: Opener) -> None:
    page = dashboard()

    notice = page.find("#notice")
    assert notice.is_displayed()
    assert "1 file(s) skipped as unreadable" in notice.text
    page.find("#notice summary").click()
    assert UNREADABLE in page.find("#notice").text


# ---- sorting ----------------------------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "time": lambda row: row["recorded_at"],
    "method": lambda row: row["method"],
    "route": lambda row: row["route"],
    "status": lambda row: row["status"],
    "duration": lambda row: row["duration_ms"],
    "calls": lambda row: sum(row["calls"].values()),
}


@pytest.mark.parametrize("key", list(SORT_KEYS))
def test_each_column_sorts_both_ways(
    static_dashboard: Opener, recorded: RecordedDirectory, listed: Rows, key: str
) -> None:
    page = static_dashboard()
    names = [name_of(row, recorded.root) for row in listed]
    ranked = [(SORT_KEYS[key](row), name) for row, name in zip(listed, names, strict=True)]

    # Ties stay in recorded order both ways; Python's sort is stable with reverse=True too.
    ascending = [name for _, name in sorted(ranked, key=lambda pair: pair[0])]
    descending = [name for _, name in sorted(ranked, key=lambda pair: pair[0], reverse=True)]
    header = page.find(f"#rows th[data-key='{key}']")
    # The page opens sorted by time, ascending: a click on Time turns it around first.
    first, second = ("descending", "ascending") if key == "time" else ("ascending", "descending")

    page.sort_by(key)
    assert header.get_attribute("aria-sort") == first
    assert page.names() == (ascending if first == "ascending" else descending)

    page.sort_by(key)
    assert header.get_attribute("aria-sort") == second
    assert page.names() == (ascending if second == "ascending" else descending)


# ---- filters ----------------------------------------------------------------------------------

Expect = Callable[[RecordedDirectory, Rows], Rows]
FILTERS: dict[str, tuple[Callable[[DashboardPage], None], Expect]] = {
    "method": (
        lambda page: page.choose("f-method", "POST"),
        lambda rec, rows: list_json(rec.root, "--method", "POST"),
    ),
    "status 4xx": (
        lambda page: page.choose("f-status", "4xx"),
        lambda rec, rows: [r for r in rows if 400 <= r["status"] < 500],
    ),
    "status 5xx": (
        lambda page: page.choose("f-status", "5xx"),
        lambda rec, rows: [r for r in rows if r["status"] >= 500],
    ),
    "route text": (
        lambda page: page.type_into("f-route", "STATS"),
        lambda rec, rows: list_json(rec.root, "--route", "stats"),
    ),
    "path text": (
        lambda page: page.type_into("f-route", "/items/a-1"),
        lambda rec, rows: [r for r in rows if r["url_path"] == "/items/a-1"],
    ),
    "minimum duration": (
        lambda page: page.type_into("f-min-ms", "20"),
        lambda rec, rows: [r for r in rows if r["duration_ms"] >= 20],
    ),
    "maximum duration": (
        lambda page: page.type_into("f-max-ms", "9"),
        lambda rec, rows: [r for r in rows if r["duration_ms"] <= 9],
    ),
    "from": (
        lambda page: page.type_into("f-from", "2023-11-15"),
        lambda rec, rows: [r for r in rows if r["recorded_at"] >= "2023-11-15"],
    ),
    "to": (
        lambda page: page.type_into("f-to", "2023-11-14T22:13:25"),
        lambda rec, rows: [r for r in rows if r["recorded_at"][:19] <= "2023-11-14T22:13:25"],
    ),
    "errors only": (
        lambda page: page.click("#f-errors"),
        lambda rec, rows: list_json(rec.root, "--errors"),
    ),
}


@pytest.mark.parametrize("case", list(FILTERS))
def test_each_filter_keeps_only_matching_rows(
    static_dashboard: Opener, recorded: RecordedDirectory, listed: Rows, case: str
) -> None:
    apply, expect = FILTERS[case]
    page = static_dashboard()

    apply(page)

    expected = [name_of(row, recorded.root) for row in expect(recorded, listed)]
    assert 0 < len(expected) < len(listed)  # the case really filters
    assert page.names() == expected
    assert page.count == f"{len(expected)} of {len(listed)} cassettes"


def test_the_live_page_sorts_and_filters_like_the_file(
    browser: Any, live_url: str, recorded: RecordedDirectory, listed: Rows
) -> None:
    page = DashboardPage(browser, live_url)

    page.sort_by("duration")
    page.choose("f-method", "GET")

    gets = [row for row in listed if row["method"] == "GET"]
    expected = sorted(gets, key=lambda row: row["duration_ms"])
    assert page.names() == [name_of(row, recorded.root) for row in expected]
    assert page.count == f"{len(gets)} of {len(listed)} cassettes"


def test_filters_combine_and_clear(dashboard: Opener, recorded: RecordedDirectory) -> None:
    page = dashboard()

    page.choose("f-method", "GET")
    page.click("#f-errors")
    assert page.names() == [recorded.boom.name]

    page.click("#f-clear")
    assert page.count == f"{recorded.readable} cassettes"


def test_a_time_that_is_not_a_date_is_marked_and_ignored(
    static_dashboard: Opener, recorded: RecordedDirectory
) -> None:
    page = static_dashboard()

    field = page.find("#f-from")
    field.send_keys("yesterday")

    page.wait(lambda: "invalid" in (field.get_attribute("class") or ""))
    assert page.script("return document.body.dataset.pending") == "false"
    assert page.count == f"{recorded.readable} cassettes"


# ---- detail -----------------------------------------------------------------------------------


def test_detail_shows_request_response_calls_and_waterfall(
    dashboard: Opener, recorded: RecordedDirectory, listed: Rows
) -> None:
    page = dashboard()
    name = by_name(listed, recorded.root, "GET", "/stats")

    detail = page.open(name)

    assert detail.find_element("css selector", "h2").text == "GET /stats 200"
    assert "accept" in detail.find_element("css selector", "table.headers").text
    commands = detail.find_element("css selector", ".commands").text
    assert f"timetracer replay {recorded.root.absolute() / name} --app MODULE:APP" in commands
    assert f"timetracer show {recorded.root.absolute() / name}" in commands
    summaries = [s.text for s in detail.find_elements("css selector", "details.call summary")]
    assert [s.split()[:3] for s in summaries] == [
        ["1.", "mongodb", "aggregate"],
        ["2.", "mongodb", "find"],
    ]
    # Waterfall: the request and both calls, on one time axis.
    labels = [
        e.text for e in detail.find_elements("css selector", ".wf-row:not(.wf-head) .wf-label")
    ]
    assert labels == ["request", "aggregate shop.items", "find shop.orders"]
    bars = page.script(
        "return [...document.querySelectorAll('#detail .wf-bar')]"
        ".map(b => [parseFloat(b.style.left), parseFloat(b.style.width)])"
    )
    assert bars[0] == [0, 100]
    assert 0 < bars[1][0] < bars[2][0] < 100
    assert [tick.text for tick in detail.find_elements("css selector", ".wf-tick")][-1] == (
        "120.0 ms"
    )
    # A call's row in the waterfall opens that call, pretty-printed Extended JSON inside.
    detail.find_elements("css selector", ".wf-row.clickable")[0].click()
    page.wait(lambda: page.script("return document.getElementById('call-0').open"))
    command, reply = [pre.text for pre in page.find_all("#call-0 pre")]
    assert json.loads(command)["aggregate"] == "items"
    assert json.loads(reply)["cursor"]["firstBatch"] == [{"_id": None, "n": 3}]
    assert page.errors() == []


def test_failed_calls_and_failed_requests_are_marked(
    dashboard: Opener, recorded: RecordedDirectory, listed: Rows
) -> None:
    page = dashboard()

    detail = page.open(by_name(listed, recorded.root, "POST", "/orders"))
    (call,) = page.open_all_calls()
    assert "failed" in (call.get_attribute("class") or "")
    assert "Failure" in call.text
    assert "DuplicateKey" in call.text
    assert detail.find_elements("css selector", ".wf-bar.call.error")

    detail = page.open(recorded.boom.name)
    assert "RuntimeError: division by zero" in detail.text
    assert "No headers recorded." not in detail.find_element("css selector", ".meta").text


def test_a_detail_is_linkable_by_its_address(
    dashboard: Opener, recorded: RecordedDirectory, browser: Any
) -> None:
    page = dashboard()
    page.open(recorded.boom.name)

    url = browser.current_url
    reopened = DashboardPage(browser, url)

    reopened.wait(
        lambda: (
            reopened.script("return document.getElementById('detail').dataset.name")
            == recorded.boom.name
        )
    )


# ---- safety -----------------------------------------------------------------------------------


def test_planted_script_in_header_body_path_and_document_never_runs(
    dashboard: Opener, recorded: RecordedDirectory
) -> None:
    page = dashboard()
    planted = recorded.planted.name
    assert PLANTED_PATH in page.find(f"#rows tbody tr[data-name='{planted}']").text

    detail = page.open(planted)
    calls = page.open_all_calls()

    headers = [
        [cell.text for cell in row.find_elements("css selector", "th, td")]
        for row in detail.find_elements("css selector", "table.headers tr")
    ]
    assert ["x-planted", SCRIPT] in headers
    assert [IMG, IMG] in headers
    bodies = [pre.text for pre in detail.find_elements("css selector", ".body pre")]
    assert json.loads(bodies[0]) == {"term": SCRIPT, "html": IMG}
    assert json.loads(bodies[1]) == {"found": [SCRIPT, IMG]}
    reply = json.loads(calls[0].find_elements("css selector", "pre")[1].text)
    assert reply["cursor"]["firstBatch"][0]["name"] == SCRIPT
    assert reply["cursor"]["firstBatch"][0]["note"] == IMG
    # The text is there as text; no element was made from it and nothing ran.
    assert page.script("return document.querySelectorAll('img').length") == 0
    assert page.script("return document.querySelectorAll('script:not([type])').length") <= 1
    assert page.pwned() is None
    assert page.errors() == []


def test_the_page_forbids_inline_script_and_html_sinks(dashboard: Opener) -> None:
    page = dashboard()

    # Script slipped in the ways a bug in the page could: each is refused by the policy.
    outcomes = page.script(
        """
        const attempts = [
          () => { document.getElementById('detail').innerHTML = '<b>x</b>'; },
          () => {
            const script = document.createElement('script');
            script.append('window.__pwned = 1');
            document.body.append(script);
          },
          () => {
            const img = document.createElement('img');
            img.setAttribute('onerror', 'window.__pwned = 1');
            img.src = 'data:,not-an-image';
            document.body.append(img);
          },
        ];
        return attempts.map((attempt) => {
          try { attempt(); return 'ran'; } catch (error) { return error.name; }
        });
        """
    )
    page.driver.execute_async_script("setTimeout(arguments[0], 300)")  # let an onerror fire

    assert outcomes[0] == "TypeError"  # Trusted Types: no HTML from strings at all
    assert page.pwned() is None
    assert page.errors()  # each refusal is reported on the console


# ---- live server ------------------------------------------------------------------------------


@pytest.fixture
def replay_server(tmp_path: Path) -> Iterator[tuple[DashboardServer, Path]]:
    """A live dashboard that replays through the replay tests' Starlette shop: one recording
    that replays as recorded and one whose recorded body differs from what the app answers."""
    directory = tmp_path / "cassettes"
    memory = InMemorySpanExporter()
    provider = local_provider(memory)
    tracer = provider.get_tracer("tests.browser")
    write_recording(directory, tracer, memory, **item_recording("a", start_ns=START_NS))
    write_recording(
        directory,
        tracer,
        memory,
        **item_recording("a", body=b'{"sku":"a","price":4}', start_ns=START_NS + 10**9),
    )
    session = ReplaySession().start()
    replay = ReplayAction(shop_app(), "replayshop:app", session)
    server = DashboardServer(("127.0.0.1", 0), CassetteCatalog(directory), replay=replay)
    server.start()
    try:
        yield server, directory
    finally:
        server.close()
        session.stop()
        provider.shutdown()


def replay_result(page: DashboardPage) -> str:
    """Click the replay button; the text of what it showed (a result, or why there is none)."""
    page.find("#detail button.replay").click()
    shown = page.wait(lambda: page.find_all("#detail .replay-result, #detail .replay-out .problem"))
    return str(shown[0].text)


def test_replay_button_replays_for_real_and_shows_the_differences(
    browser: Any, replay_server: tuple[DashboardServer, Path]
) -> None:
    server, _ = replay_server
    page = DashboardPage(browser, server.url)
    first, second = page.names()

    page.open(first)
    result = replay_result(page)
    assert "PASSED" in result
    assert "recorded 200, replayed 200" in result

    page.open(second)
    result = replay_result(page)
    assert "FAILED" in result
    assert "body.price: recorded 4, replayed 5" in result
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "dashboard-replay.png"))
    assert page.errors() == []


def test_the_live_page_picks_up_new_cassettes(
    browser: Any, replay_server: tuple[DashboardServer, Path]
) -> None:
    server, directory = replay_server
    page = DashboardPage(browser, server.url)
    assert page.count == "2 cassettes"
    memory = InMemorySpanExporter()
    provider = local_provider(memory)
    write_recording(
        directory,
        provider.get_tracer("tests.browser"),
        memory,
        **item_recording("b", start_ns=START_NS + 5 * 10**9),
    )

    # The page may also notice it on its own (it asks every 5 s); either way it shows up.
    page.find("#refresh").click()

    page.wait(lambda: page.count == "3 cassettes")
    assert page.cells()[-1][2].splitlines() == ["/items/{sku}", "/items/b"]


def test_no_replay_button_without_an_app(dashboard: Opener, recorded: RecordedDirectory) -> None:
    page = dashboard()

    page.open(recorded.boom.name)

    assert page.find_all("#detail button.replay") == []


# ---- screenshot and scale ---------------------------------------------------------------------


def test_screenshot_of_the_page(
    browser: Any, static_url: str, recorded: RecordedDirectory, listed: Rows
) -> None:
    page = DashboardPage(browser, static_url)
    page.open(by_name(listed, recorded.root, "GET", "/stats"))
    page.find("#detail details.call summary").click()
    page.script("window.scrollTo(0, 0); document.getElementById('detail').scrollTop = 0;")

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    assert browser.save_screenshot(str(shot))

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("many") / "cassettes"
    write_many(directory, 10_000)
    return directory


def _filter_ten_thousand(page: DashboardPage) -> None:
    assert page.count == "10000 cassettes"
    assert page.find("#page").text == "page 1 of 100"
    assert len(page.names()) == 100
    page.choose("f-status", "5xx")
    assert page.count == "2500 of 10000 cassettes"
    page.type_into("f-route", "stats")
    assert page.count == "2500 of 10000 cassettes"
    page.click("#next")
    assert page.find("#page").text == "page 2 of 25"
    detail = page.open(page.names()[0])
    assert len(detail.find_elements("css selector", ".wf-row:not(.wf-head)")) == 2
    assert page.errors() == []


def test_ten_thousand_cassettes_in_the_written_file(browser: Any, ten_thousand: Path) -> None:
    out = ten_thousand.parent / "dashboard.html"
    code, _ = run_cli("dashboard", str(ten_thousand), "--out", str(out))
    assert code == 0

    _filter_ten_thousand(DashboardPage(browser, out.as_uri(), timeout=120))


def test_ten_thousand_cassettes_from_the_live_server(browser: Any, ten_thousand: Path) -> None:
    server = DashboardServer(("127.0.0.1", 0), CassetteCatalog(ten_thousand)).start()
    try:
        _filter_ten_thousand(DashboardPage(browser, server.url, timeout=120))
    finally:
        server.close()

"""``timetracer.dashboard.snapshot``: one pass over a directory for the self-contained file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.dashboard_cassettes import UNREADABLE, build_directory
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.cassette.views import summary
from timetracer.dashboard.snapshot import take_snapshot


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_directory(tmp_path_factory.mktemp("snapshot") / "cassettes").root


def test_rows_are_the_list_summaries_in_recorded_order(directory: Path) -> None:
    snapshot = take_snapshot(directory)

    expected = [
        summary(load_cassette(path))
        for path in iter_cassette_paths(directory)
        if path.name != UNREADABLE
    ]
    assert [{key: row[key] for key in expected[0]} for row in snapshot.rows] == expected
    assert [item["name"] for item in snapshot.skipped] == [UNREADABLE]
    assert snapshot.omitted == 0
    assert all(json.loads(text)["name"] == row["name"]
               for text, row in zip(snapshot.details, snapshot.rows, strict=True))  # fmt: skip


def test_details_over_the_budget_are_left_out_but_their_rows_stay(directory: Path) -> None:
    whole = take_snapshot(directory)
    sizes = [len(text or "") for text in whole.details]

    partial = take_snapshot(directory, detail_budget=sizes[0] + sizes[1])

    assert len(partial.rows) == len(whole.rows)
    assert partial.details[:2] == whole.details[:2]
    assert partial.omitted == len(whole.rows) - 2
    assert take_snapshot(directory, detail_budget=0).omitted == len(whole.rows)


def test_the_diff_command_names_the_previous_recording_of_the_same_request(
    directory: Path,
) -> None:
    snapshot = take_snapshot(directory, app="shop:app")
    details = [json.loads(text or "{}") for text in snapshot.details]
    items = [
        (row, detail)
        for row, detail in zip(snapshot.rows, details, strict=True)
        if (row["method"], row["route"]) == ("GET", "/items/{sku}")
    ]

    labels = [[c["label"] for c in detail["commands"]] for _, detail in items]
    assert "diff" in labels[0] and "diff with previous" in labels[1]
    diff = next(c for c in items[1][1]["commands"] if c["label"] == "diff with previous")
    assert diff["command"].split()[2] == str(Path(items[0][0]["path"]).absolute())


def test_the_rendered_file_holds_every_row_and_embedded_detail(directory: Path) -> None:
    snapshot = take_snapshot(directory, detail_budget=1)

    html = snapshot.render()

    listing = re.search(r'id="tt-listing">(.*?)</script>', html, re.S)
    assert listing is not None
    assert len(json.loads(listing.group(1))["rows"]) == len(snapshot.rows)
    config = re.search(r'id="tt-config">(.*?)</script>', html, re.S)
    assert config is not None
    assert json.loads(config.group(1))["details_omitted"] == len(snapshot.rows)
    assert 'id="tt-detail-' not in html

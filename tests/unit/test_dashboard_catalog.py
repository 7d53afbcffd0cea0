"""``timetracer.dashboard.catalog``: names come only from scanning; changed files are re-read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.dashboard_cassettes import NESTED, UNREADABLE, build_directory
from timetracer.cassette.store import write_atomic
from timetracer.dashboard import catalog as catalog_module
from timetracer.dashboard.catalog import CassetteCatalog, is_plain_name
from timetracer.errors import CassetteNotFoundError


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return build_directory(tmp_path / "cassettes").root


def test_a_scan_lists_readable_cassettes_in_recorded_order_and_reports_the_rest(
    directory: Path,
) -> None:
    listing = CassetteCatalog(directory).scan()

    names = [row["name"] for row in listing.rows]
    assert len(names) == 14
    assert names == sorted(names, key=lambda name: (Path(name).name, name))
    assert any(name.startswith(f"{NESTED}/") for name in names)
    assert [(item["name"], item["reason"].split(":")[0]) for item in listing.skipped] == [
        (UNREADABLE, str(directory / UNREADABLE))
    ]


def test_unchanged_files_are_not_read_again_and_changed_ones_are(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = CassetteCatalog(directory)
    first = catalog.scan()
    reads: list[Path] = []
    real_load = catalog_module.load_cassette
    monkeypatch.setattr(
        catalog_module, "load_cassette", lambda path: reads.append(path) or real_load(path)
    )

    again = catalog.scan()
    assert reads == []
    assert again.version == first.version

    changed = directory / first.rows[0]["name"]
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    third = catalog.scan()
    assert reads == [changed]
    assert third.version != first.version


def test_new_and_removed_cassettes_show_up_in_the_next_scan(directory: Path) -> None:
    catalog = CassetteCatalog(directory)
    rows = catalog.scan().rows
    removed = directory / rows[0]["name"]
    copy = directory / "later" / rows[1]["name"]
    write_atomic(copy.parent, copy.name, (directory / rows[1]["name"]).read_bytes())
    removed.unlink()

    names = [row["name"] for row in catalog.scan().rows]

    assert rows[0]["name"] not in names
    assert f"later/{rows[1]['name']}" in names


def test_path_of_finds_only_scanned_names(directory: Path) -> None:
    catalog = CassetteCatalog(directory)
    name = catalog.scan().rows[0]["name"]

    assert catalog.path_of(name) == directory / name
    assert catalog.path_of(f"{NESTED}/../{name}") is None
    assert catalog.path_of("no-such.cassette") is None
    assert catalog.path_of(UNREADABLE) == directory / UNREADABLE  # known, just unreadable


def test_path_of_finds_a_cassette_written_since_the_last_scan(directory: Path) -> None:
    catalog = CassetteCatalog(directory)
    name = catalog.scan().rows[0]["name"]
    write_atomic(directory / "new", name, (directory / name).read_bytes())

    assert catalog.path_of(f"new/{name}") == directory / "new" / name


@pytest.mark.parametrize(
    "name",
    [
        "../secret.cassette",
        "../../etc/passwd",
        "/etc/passwd",
        "//etc/passwd",
        "a/../../b.cassette",
        "./a.cassette",
        "a//b.cassette",
        "..\\b.cassette",
        "C:/b.cassette",
        "a\x00.cassette",
        "",
    ],
)
def test_names_that_could_leave_the_directory_are_refused_before_any_lookup(name: str) -> None:
    assert not is_plain_name(name)


def test_a_cassette_outside_the_directory_is_unreachable_even_through_a_symlink(
    directory: Path, tmp_path: Path
) -> None:
    catalog = CassetteCatalog(directory)
    inside = catalog.scan().rows[0]["name"]
    outside = tmp_path / "outside.cassette"
    outside.write_bytes((directory / inside).read_bytes())
    (directory / "link.cassette").symlink_to(outside)

    listing = catalog.scan()

    assert "link.cassette" not in [row["name"] for row in listing.rows]
    assert any(
        item["name"] == "link.cassette" and "links outside" in item["reason"]
        for item in listing.skipped
    )
    assert catalog.path_of("link.cassette") is None
    assert catalog.load("link.cassette") is None
    assert catalog.path_of("../outside.cassette") is None


def test_previous_of_is_the_last_earlier_recording_of_the_same_request(directory: Path) -> None:
    catalog = CassetteCatalog(directory)
    rows = catalog.scan().rows
    gets = [r["name"] for r in rows if (r["method"], r["route"]) == ("GET", "/items/{sku}")]

    assert catalog.previous_of(gets[0]) is None
    assert catalog.previous_of(gets[1]) == directory / gets[0]
    assert catalog.previous_of(gets[2]) == directory / gets[1]
    assert catalog.previous_of("unknown.cassette") is None


def test_a_missing_location_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError):
        CassetteCatalog(tmp_path / "nowhere")


def test_one_cassette_file_is_a_catalog_of_one(directory: Path) -> None:
    name = CassetteCatalog(directory).scan().rows[0]["name"]

    catalog = CassetteCatalog(directory / name)

    assert [row["name"] for row in catalog.scan().rows] == [name]
    assert catalog.path_of(name) == directory / name

"""``timetracer.cassette.naming``: sortable, readable names that are never a path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from timetracer import attributes as attr
from timetracer.cassette.naming import cassette_name, is_cassette_name, root_cassette_name

TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")
# time 19 + method 16 + route 80 + trace id 32 + suffix 9 + three separators
LONGEST = 159


def test_the_name_holds_time_method_route_and_trace_id() -> None:
    name = cassette_name("get", "/items/{item_id}", TRACE_ID, 1_700_000_000_123_456_789)

    assert name == (
        "20231114T221320123Z_GET_items-item_id_4bf92f3577b34da6a3ce929d0e0e4736.cassette"
    )


def test_names_sort_in_recorded_order() -> None:
    starts = [
        1_700_000_000_000_000_000,
        1_700_000_000_999_000_000,
        1_700_000_001_000_000_000,
        1_700_000_060_000_000_000,
        1_900_000_000_000_000_000,
        946_684_800_000_000_000,
    ]
    names = {
        cassette_name(("POST", "GET")[i % 2], f"/r/{i}", i, start): start
        for i, start in enumerate(starts)
    }

    assert [names[name] for name in sorted(names)] == sorted(starts)


HOSTILE_ROUTES = [
    "../../etc/passwd",
    "/%2e%2e/%2e%2e/",
    "/etc/passwd",
    "C:\\Windows\\system32",
    "..",
    ".hidden",
    "/",
    "",
    "-.-.-",
    "x" * 10_000,
    "/ünïcödé/路由/" + "é" * 5_000,
    "a\x00b\nc",
]


@pytest.mark.parametrize("route", HOSTILE_ROUTES, ids=range(len(HOSTILE_ROUTES)))
def test_a_hostile_route_gives_a_safe_bounded_name_inside_the_directory(
    route: str, tmp_path: Path
) -> None:
    name = cassette_name("GET", route, TRACE_ID, 1_700_000_000_000_000_000)

    assert SAFE.match(name)
    assert "/" not in name
    assert not name.startswith(".")
    assert len(name) <= LONGEST
    assert is_cassette_name(name)
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize(
    ("method", "shown"),
    [
        ("get", "GET"),
        ("GET/../x", "GETX"),
        ("", "REQUEST"),
        ("../", "REQUEST"),
        ("M" * 50, "M" * 16),
    ],
)
def test_the_method_is_upper_case_letters_only(method: str, shown: str) -> None:
    name = cassette_name(method, "/", 1, 0)

    assert name.split("_")[1] == shown


def test_an_empty_route_is_named_root() -> None:
    assert "_GET_root_" in cassette_name("GET", "/", 1, 0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20231114T221320123Z_GET_items_0.cassette", True),
        (".20231114T221320123Z_GET_items_0.cassette", False),
        (".x.cassette.1234.abcd.partial", False),
        ("notes.txt", False),
        ("x.cassette.json", False),
    ],
)
def test_only_finished_cassettes_are_cassette_names(name: str, expected: bool) -> None:
    assert is_cassette_name(name) is expected


@pytest.mark.parametrize(
    ("attributes", "part"),
    [
        (
            {
                attr.HTTP_METHOD: "POST",
                attr.HTTP_ROUTE: "/orders/{id}",
                attr.HTTP_PATH: "/orders/9",
            },
            "_POST_orders-id_",
        ),
        ({attr.HTTP_METHOD: "GET", attr.HTTP_PATH: "/orders/9"}, "_GET_orders-9_"),
        ({}, "_SPAN_nightly-job_"),
    ],
    ids=["route", "path", "span-name"],
)
def test_root_cassette_name_prefers_route_then_path_then_span_name(
    attributes: dict[str, object], part: str
) -> None:
    name = root_cassette_name(attributes, "nightly job", TRACE_ID, 0)

    assert part in name
    assert name.endswith(f"_{TRACE_ID:032x}.cassette")

"""The guides (docs/quickstart.md and one per framework and driver), the examples' READMEs and the
README say what the code does: same names, same signatures, same defaults, links that work."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import re
from pathlib import Path

import pytest

from timetracer import envvars
from timetracer.config import (
    DEFAULT_EXCLUDE_PATHS,
    DEFAULT_REDACT_FIELDS,
    DEFAULT_REDACT_HEADERS,
    TraceConfig,
)

REPO = Path(__file__).resolve().parents[2]
GUIDES = ["quickstart", "starlette", "fastapi", "litestar", "pymongo", "motor"]
SECTIONS = [
    "## Installation",
    "## Quick start",
    "## Configuration",
    "## API reference",
    "## Examples",
]
EXAMPLES = ["pymongo_app", "starlette_app", "litestar_app", "motor_app"]
PAGES = [REPO / "docs" / f"{g}.md" for g in GUIDES] + [
    REPO / "examples" / e / "README.md" for e in EXAMPLES
]
_IMPORT = re.compile(r"^from (timetracer[\w.]*) import ([\w, ]+)$", re.MULTILINE)
_SIGNATURE = re.compile(r"`(timetracer[\w.]*)\.(\w+)\(([^`]*)\)(?: -> \w+)?`")
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def plain_signature(function: object) -> str:
    """``config=None, *, tracer_provider=None``: a signature as the guides write it."""
    parts = []
    star = False
    for parameter in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        default = parameter.default
        parts.append(
            parameter.name
            if default is inspect.Parameter.empty
            else f"{parameter.name}={default!r}"
        )
    return ", ".join(parts)


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_has_the_sections_users_look_for(guide: str) -> None:
    headings = [
        line for line in text(REPO / "docs" / f"{guide}.md").splitlines() if line.startswith("## ")
    ]
    assert [h for h in headings if h in SECTIONS] == SECTIONS


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_import_in_the_code_samples_exists(page: Path) -> None:
    for module_name, names in _IMPORT.findall(text(page)):
        module = importlib.import_module(module_name)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(module, name), f"{page.name}: {module_name} has no {name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_documented_signatures_match_the_code(page: Path) -> None:
    for module_name, name, documented in _SIGNATURE.findall(text(page)):
        function = getattr(importlib.import_module(module_name), name)
        assert documented == plain_signature(function), f"{page.name}: {module_name}.{name}"


@pytest.mark.parametrize("page", [*PAGES, REPO / "README.md"], ids=lambda p: p.name)
def test_local_links_point_at_files_that_exist(page: Path) -> None:
    for target in _LINK.findall(text(page)):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_the_traceconfig_table_lists_every_field_with_its_default() -> None:
    rows = {}
    for line in text(REPO / "docs" / "configuration.md").splitlines():
        match = re.match(r"\| `(\w+)` \| `(TIMETRACER_\w+)` \| `(.+)` \|$", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3))
    fields = {field.name: field.default for field in dataclasses.fields(TraceConfig)}
    assert set(rows) == set(fields)
    assert {variable for variable, _ in rows.values()} == set(envvars.ALL)
    named = {
        DEFAULT_REDACT_HEADERS: "DEFAULT_REDACT_HEADERS",
        DEFAULT_REDACT_FIELDS: "DEFAULT_REDACT_FIELDS",
        DEFAULT_EXCLUDE_PATHS: "DEFAULT_EXCLUDE_PATHS",
    }
    for name, default in fields.items():
        documented = rows[name][1].replace('"', "'")
        if isinstance(default, enum.Enum):
            default = default.value
        if isinstance(default, (frozenset, tuple)) and default:
            expected = named[default]
        else:
            expected = repr(default).replace("PosixPath", "Path")
        assert documented == expected, name


@pytest.mark.parametrize("extra", ["all", "starlette", "litestar", "fastapi", "pymongo", "motor"])
def test_the_readme_names_each_extra_and_pyproject_defines_it(extra: str) -> None:
    assert f"`timetracer[{extra}]`" in text(REPO / "README.md")
    assert re.search(rf"^{extra} = \[", text(REPO / "pyproject.toml"), re.MULTILINE)

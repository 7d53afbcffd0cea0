"""``timetracer.dashboard.page``: recorded values stay data, and the policy allows one script."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.dashboard_cassettes import IMG, SCRIPT
from timetracer.dashboard import page
from timetracer.dashboard.page import (
    LIVE_CSP,
    asset,
    csp_hash,
    render_live,
    render_static,
    script_json,
)
from timetracer.errors import DashboardError

PLANTED = {"header": SCRIPT, "body": IMG, "close": "</script><script>alert(1)</script>"}
BLOCK = re.compile(r'<script type="application/json" id="([^"]+)">(.*?)</script>', re.S)
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def blocks(html: str) -> dict[str, str]:
    return dict(BLOCK.findall(html))


def policy_of(html: str) -> str:
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    "value",
    [PLANTED, ["<!--", "-->", "&amp;", "\u2028\u2029"], {"<key>": "x"}, "</SCRIPT >"],
)
def test_script_json_can_neither_close_its_block_nor_open_a_tag(value: object) -> None:
    text = script_json(value)

    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == value


def test_script_json_writes_values_json_cannot_hold_as_strings() -> None:
    assert json.loads(script_json({"a": float("nan"), "b": [float("inf")]})) == {
        "a": "nan",
        "b": ["inf"],
    }


def test_the_static_page_embeds_recorded_values_only_as_escaped_data() -> None:
    html = render_static({"mode": "static"}, {"rows": [PLANTED]}, [script_json(PLANTED)])

    for raw in PLANTED.values():
        assert raw not in html
    found = blocks(html)
    assert html.count("<script") == len(found) + 1  # the data blocks and the page's script
    assert set(found) == {"tt-config", "tt-listing", "tt-detail-0"}
    assert json.loads(found["tt-listing"]) == {"rows": [PLANTED]}
    assert json.loads(found["tt-detail-0"]) == PLANTED


def test_left_out_details_get_no_block() -> None:
    html = render_static({}, {"rows": [{}, {}, {}]}, [script_json(1), None, script_json(3)])

    assert set(blocks(html)) == {"tt-config", "tt-listing", "tt-detail-0", "tt-detail-2"}


def test_the_static_policy_allows_exactly_the_one_inline_script_and_style() -> None:
    html = render_static({}, {"rows": []}, [])
    policy = policy_of(html)

    (script,) = INLINE_SCRIPT.findall(html)
    assert f"script-src {csp_hash(script)};" in policy
    (style,) = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert f"style-src {csp_hash(style)};" in policy
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "require-trusted-types-for 'script'" in policy
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy
    # The policy comes before anything it governs.
    assert html.index("Content-Security-Policy") < html.index("<style>") < html.index("<script")


def test_text_put_into_the_template_is_never_expanded_again() -> None:
    html = render_static({"note": "{{scripts}} {{head}}"}, {"rows": []}, [])

    assert json.loads(blocks(html)["tt-config"]) == {"note": "{{scripts}} {{head}}"}
    assert html.count("<style>") == 1


def test_the_live_page_loads_script_and_style_from_its_own_origin_only() -> None:
    html = render_live({"mode": "live", "token": "t0k"})

    assert '<script src="/static/dashboard.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/dashboard.css">' in html
    assert INLINE_SCRIPT.findall(html) == []
    assert json.loads(blocks(html)["tt-config"]) == {"mode": "live", "token": "t0k"}
    assert "script-src 'self';" in LIVE_CSP and "frame-ancestors 'none'" in LIVE_CSP
    assert "unsafe-inline" not in LIVE_CSP


def test_an_asset_that_could_close_its_tag_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = page.asset
    monkeypatch.setattr(
        page, "asset", lambda name: "x = '</script>'" if name == "dashboard.js" else real(name)
    )

    with pytest.raises(DashboardError, match="contains '</script'"):
        render_static({}, {"rows": []}, [])


def _code(source: str) -> str:
    """JavaScript without its comments."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"^\s*//.*$", "", source, flags=re.M)


@pytest.mark.parametrize(
    "sink",
    ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(",
     "setTimeout(\"", "srcdoc", "javascript:", "DOMParser", "createContextualFragment"],
)  # fmt: skip
def test_the_script_uses_no_string_to_html_or_code_sink(sink: str) -> None:
    assert sink not in _code(asset("dashboard.js"))


def test_the_script_sets_attributes_only_by_literal_name() -> None:
    code = _code(asset("dashboard.js"))

    # setAttribute appears in h() (names from object literals in this file) and with literal
    # names elsewhere; never with a computed first argument taken from data.
    calls = re.findall(r"setAttribute\(([^,]+),", code)
    assert set(calls) == {"name", '"aria-sort"', '"aria-selected"'}

"""The dashboard page: one HTML template, one script and one style sheet, shipped as package
data, put together either as a single self-contained file or as the live server's page.

Safety rests on three rules kept here and in ``dashboard.js``:

- recorded values only ever travel as JSON inside ``<script type="application/json">`` blocks,
  with ``<``, ``>`` and ``&`` written as ``\\u003c`` ... so no value can end the block or open
  a tag; the script reads them with ``JSON.parse`` and writes them with ``textContent``;
- the Content-Security-Policy allows exactly one script (by hash in the file, by origin on the
  server), no inline event handlers, no plugins, no ``<base>``, and, through Trusted Types, no
  string-to-HTML sink at all (``innerHTML`` throws);
- the template is filled in one pass, so text put in cannot be read again as a placeholder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from timetracer.errors import DashboardError

ASSET_TYPES = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
"""The files the live server serves under ``/static/``; nothing else is served from disk."""

_LOCKDOWN = (
    "object-src 'none'; base-uri 'none'; form-action 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)
LIVE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    f"connect-src 'self'; frame-ancestors 'none'; {_LOCKDOWN}"
)
"""The live server's policy (an HTTP header, so ``frame-ancestors`` applies too)."""

# The file's policy: nothing may load at all, which also proves it needs no network.
_STATIC_CSP = "default-src 'none'; script-src {script}; style-src {style}; img-src data:; "
_PLACEHOLDER = re.compile(r"\{\{(head|scripts)\}\}")
_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def asset(name: str) -> str:
    """The text of a file shipped in ``timetracer/dashboard/static``."""
    return resources.files("timetracer.dashboard").joinpath("static", name).read_text("utf-8")


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities (which JSON cannot hold) written as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside a ``<script type="application/json">`` block."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a recorded JSON body may hold NaN, which Python's json accepts
        text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"))
    return text.translate(_ESCAPES)


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly this inline script or style text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _fill(template: str, parts: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: parts[match.group(1)], template)


def _inline(tag: str, text: str) -> str:
    if f"</{tag}" in text.lower():  # a packaging fault, never data: the text is ours
        raise DashboardError(f"dashboard asset for <{tag}> contains '</{tag}'")
    return f"<{tag}>{text}</{tag}>"


def _data_block(block_id: str, json_text: str) -> str:
    return f'<script type="application/json" id="{block_id}">{json_text}</script>'


def render_static(
    config: Mapping[str, Any], listing: Mapping[str, Any], details: Sequence[str | None]
) -> str:
    """The self-contained dashboard file.

    ``listing`` is ``{directory, rows, skipped}``; ``details[i]`` is the :func:`script_json`
    of row ``i``'s detail, or None when it was left out. Each detail gets its own block,
    parsed only when that cassette is opened, so a large directory opens quickly.
    """
    script, style = asset("dashboard.js"), asset("dashboard.css")
    policy = _STATIC_CSP.format(script=csp_hash(script), style=csp_hash(style)) + _LOCKDOWN
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    head = meta + "\n" + _inline("style", style)
    blocks = [
        _data_block("tt-config", script_json(config)),
        _data_block("tt-listing", script_json(listing)),
        *(_data_block(f"tt-detail-{i}", text) for i, text in enumerate(details) if text),
        _inline("script", script),
    ]
    return _fill(asset("dashboard.html"), {"head": head, "scripts": "\n".join(blocks)})


def render_live(config: Mapping[str, Any]) -> str:
    """The live server's page: script and style by URL, data fetched from ``/api``."""
    head = '<link rel="stylesheet" href="/static/dashboard.css">'
    scripts = (
        _data_block("tt-config", script_json(config))
        + '\n<script src="/static/dashboard.js"></script>'
    )
    return _fill(asset("dashboard.html"), {"head": head, "scripts": scripts})

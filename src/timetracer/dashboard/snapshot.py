"""Everything the self-contained dashboard file embeds, read in one pass over the directory."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.dashboard.catalog import CassetteCatalog
from timetracer.dashboard.data import detail_of, row_of, same_request_key
from timetracer.dashboard.page import render_static, script_json
from timetracer.errors import CassetteError

DEFAULT_DETAIL_BUDGET = 64 * 1024 * 1024
"""Bytes of cassette details a file embeds by default; rows are always all embedded."""


@dataclass
class Snapshot:
    """Rows, skipped files and embedded details of one directory, in recorded order."""

    directory: str
    app: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    details: list[str | None] = field(default_factory=list)
    """``details[i]`` is row ``i``'s detail as script-safe JSON, None when over the budget."""

    @property
    def omitted(self) -> int:
        """How many details were left out to stay within the budget."""
        return sum(text is None for text in self.details)

    def render(self) -> str:
        """The HTML file."""
        config = {
            "mode": "static",
            "app": self.app,
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "details_omitted": self.omitted,
        }
        listing = {"directory": self.directory, "rows": self.rows, "skipped": self.skipped}
        return render_static(config, listing, self.details)


def take_snapshot(
    location: Path, *, app: str | None = None, detail_budget: int = DEFAULT_DETAIL_BUDGET
) -> Snapshot:
    """Read every cassette at ``location`` once. Details are embedded in recorded order while
    they fit in ``detail_budget`` bytes; one that would not fit is left out (its row stays)."""
    catalog = CassetteCatalog(location)
    snapshot = Snapshot(directory=str(location), app=app)
    used = 0
    last: dict[tuple[Any, Any], Path] = {}
    for path in iter_cassette_paths(location):
        name = catalog.name_of(path)
        try:
            cassette = load_cassette(path)
        except CassetteError as error:
            snapshot.skipped.append({"name": name, "path": str(path), "reason": str(error)})
            continue
        row = row_of(cassette, name)
        snapshot.rows.append(row)
        previous = last.get(same_request_key(row))
        last[same_request_key(row)] = path
        text: str | None = None
        if used < detail_budget:  # once it is spent, skip the cost of building details
            text = script_json(detail_of(cassette, name, app, previous))
            if used + len(text) > detail_budget:
                text = None
            else:
                used += len(text)
        snapshot.details.append(text)
    return snapshot

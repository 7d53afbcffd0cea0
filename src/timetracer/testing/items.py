"""One pytest test per recorded request: ``--timetracer-cassettes DIR --timetracer-app APP``.

Each cassette file under DIR is collected as a file holding one test, named by its request's
method, route and trace id. The test replays the request through the app, with its MongoDB
calls answered from the cassette, and fails with the differences.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from timetracer.cassette import load_cassette
from timetracer.errors import CassetteError, TimetracerError
from timetracer.testing.keys import APP_REPLAYER


class CassetteReplayFailure(Exception):
    """A replayed request answered differently, or made calls nobody recorded."""

    def __init__(self, result: Any) -> None:
        self.result = result
        super().__init__(describe_result(result))


def describe_result(result: Any) -> str:
    """A replay result as the failure text: what was sent, then every difference."""
    what = f"{result.method} {result.target}".strip() or result.path
    lines = [f"{what}  (recorded {result.recorded_status}, replayed {result.replayed_status})"]
    for miss in result.misses:
        lines.extend("  " + row for row in miss.splitlines())
    lines.extend(f"  {unused}" for unused in result.unused_calls)
    lines.extend(f"  {d.describe()}" for d in result.differences if not d.noise)
    lines.append(f"  cassette: {result.path}")
    return "\n".join(lines)


def item_name(cassette: Any) -> str:
    """``GET /items/{sku} 38f25bd1a1029ddc5644026d23aede59``."""
    exchange = cassette.exchange
    if exchange is None:
        return f"{cassette.root_name} {cassette.trace_id}"
    return f"{exchange.method} {exchange.route} {cassette.trace_id}"


class CassetteFile(pytest.File):
    """A cassette file: one test for its recorded request."""

    def collect(self) -> Iterator[pytest.Item]:
        """The file's test; a file that cannot be read is a collection error naming it."""
        cassette = load_cassette(self.path)
        yield CassetteItem.from_parent(
            self, name=item_name(cassette), has_request=cassette.exchange is not None
        )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        """A cassette that cannot be read is reported in one line, not a traceback."""
        if isinstance(excinfo.value, CassetteError):
            return f"timetracer: {excinfo.value}"
        return super().repr_failure(excinfo)


class CassetteItem(pytest.Item):
    """Replays one cassette's request through the app."""

    def __init__(self, *, has_request: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.has_request = has_request

    def runtest(self) -> None:
        """Replay and compare; raise :class:`CassetteReplayFailure` when it differs."""
        if not self.has_request:
            pytest.skip("the cassette holds no HTTP request (a test's or script's recording)")
        result = self.config.stash[APP_REPLAYER].replay(self.path)
        if result.error is not None:
            raise TimetracerError(f"{self.path}: {result.error}")
        if not result.passed:
            raise CassetteReplayFailure(result)

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        """The differences (or the reason the app could not be replayed), without traceback."""
        if isinstance(excinfo.value, (CassetteReplayFailure, TimetracerError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the test comes from: the cassette file."""
        return self.path, None, f"replay {self.name}"

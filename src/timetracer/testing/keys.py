"""Where the pytest plugin keeps its state: keys of ``config.stash`` and ``item.stash``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

APP_REPLAYER = pytest.StashKey[Any]()
"""config: the :class:`~timetracer.testing.app_replayer.AppReplayer` that
``--timetracer-cassettes`` tests replay through (kept as ``Any``: its module is heavy)."""
CASSETTES_DIR = pytest.StashKey[Path]()
"""config: the resolved ``--timetracer-cassettes`` directory."""
CALL_PASSED = pytest.StashKey[bool]()
"""item: whether the test's call phase passed (a failed test's recording is not written)."""
CASSETTE_USE = pytest.StashKey[Any]()
"""item: the test's :class:`~timetracer.testing.use.CassetteUse`."""

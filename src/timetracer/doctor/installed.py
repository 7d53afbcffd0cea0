"""What is installed, as ``opentelemetry-instrument`` sees it: entry points and versions.

The checks read the installation through the small :class:`Installed` protocol so tests can
describe an installation instead of changing the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol


@dataclass(frozen=True)
class EntryPointInfo:
    """One entry point and the distribution that provides it."""

    group: str
    name: str
    value: str
    distribution: str | None = None
    version: str | None = None
    conflict: str | None = None
    """Why ``opentelemetry-instrument`` would skip it (instrumentors only), else None."""
    library_missing: bool = False
    """The conflict is that the instrumented library is not installed at all (not a version
    outside the supported range): the instrumentor is simply unused."""


class Installed(Protocol):
    """The installation the checks look at."""

    def entry_points(self, group: str) -> list[EntryPointInfo]:
        """The entry points of ``group``, in the order ``importlib.metadata`` gives them."""
        ...

    def version(self, distribution: str) -> str | None:
        """The installed version of a distribution, or None."""
        ...

    def has_file(self, distribution: str, path: str) -> bool:
        """Whether an installed distribution ships ``path`` (``fastapi/telemetry/__init__.py``)."""
        ...


class InstalledPackages:
    """The real installation of this Python environment."""

    def entry_points(self, group: str) -> list[EntryPointInfo]:
        """Every entry point of ``group``, with its distribution and, for instrumentors,
        whether ``opentelemetry-instrument`` would load it."""
        found = []
        for entry_point in metadata.entry_points(group=group):
            dist = getattr(entry_point, "dist", None)
            conflict, missing = (
                _conflict(dist) if group == "opentelemetry_instrumentor" else (None, False)
            )
            found.append(
                EntryPointInfo(
                    group=group,
                    name=entry_point.name,
                    value=entry_point.value,
                    distribution=dist.metadata["Name"] if dist is not None else None,
                    version=dist.version if dist is not None else None,
                    conflict=conflict,
                    library_missing=missing,
                )
            )
        return found

    def version(self, distribution: str) -> str | None:
        """The installed version of ``distribution``, or None."""
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return None

    def has_file(self, distribution: str, path: str) -> bool:
        """Whether ``distribution`` is installed and lists ``path`` among its files."""
        try:
            files = metadata.distribution(distribution).files or []
        except metadata.PackageNotFoundError:
            return False
        return any(str(file) == path for file in files)


def _conflict(dist: Any) -> tuple[str | None, bool]:
    """The instrumentor's dependency conflict, the way ``opentelemetry-instrument`` checks it."""
    if dist is None:
        return None, False
    from opentelemetry.instrumentation.dependencies import get_dist_dependency_conflicts

    conflict = get_dist_dependency_conflicts(dist)
    if conflict is None:
        return None, False
    return str(conflict), not (conflict.found or conflict.found_any)

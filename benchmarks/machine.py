"""What the numbers were measured on: CPUs, Python, the versions that matter, the load."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

PACKAGES = (
    "timetracer",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation-starlette",
    "opentelemetry-instrumentation-pymongo",
    "pymongo",
    "starlette",
    "httpx",
    "nx-27017",
    "protobuf",
    "zstandard",
)


def cpu_model() -> str:
    """The CPU model named in ``/proc/cpuinfo`` (or what ``platform`` says elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def describe_machine(load_before: tuple[float, float, float]) -> dict[str, Any]:
    """The machine and software of this run; the load averages show how busy it was."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
        "loadavg_before": [round(v, 2) for v in load_before],
        "loadavg_after": [round(v, 2) for v in os.getloadavg()],
    }

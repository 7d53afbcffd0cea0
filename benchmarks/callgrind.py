"""Counting a Python script's instructions under ``valgrind --tool=callgrind``.

Callgrind counts the same for the same binary and inputs whatever else runs on the machine,
which makes it the measure of choice for small differences on a noisy one. Each count is a
fresh process; the scripts difference two counts (few and many items) so start-up cancels.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.common import REPO

MISSING = "valgrind is not installed (Debian: apt-get install valgrind)"


def available() -> bool:
    """Whether valgrind is on the PATH (print :data:`MISSING` and exit 2 when it is not)."""
    return shutil.which("valgrind") is not None


def count(script: str, args: list[str], out_file: Path) -> int:
    """User-space instructions of ``python script *args``, run from the repository root."""
    return _run(script, args, out_file, [])


def count_by_thread(script: str, args: list[str], out_file: Path) -> list[int]:
    """User-space instructions of ``python script *args`` per thread, the main thread first."""
    _run(script, args, out_file, ["--separate-threads=yes"])
    counts = []
    # One file per thread, numbered in the order the threads started: ``<out_file>-01``, ...
    for part in sorted(out_file.parent.glob(f"{out_file.name}-*")):
        found = re.search(r"^totals: (\d+)", part.read_text(errors="replace"), re.MULTILINE)
        if found is None:
            raise RuntimeError(f"no instruction total in {part}")
        counts.append(int(found.group(1)))
    if not counts:
        raise RuntimeError(f"valgrind wrote no per-thread counts next to {out_file}")
    return counts


def _run(script: str, args: list[str], out_file: Path, options: list[str]) -> int:
    """Run under callgrind with ``options``; return the instructions of all threads."""
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_file}",
        *options,
        sys.executable,
        script,
        *args,
    ]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or found is None:
        shown = " ".join(args)
        raise RuntimeError(f"{shown} failed under valgrind:\n{proc.stderr[-3000:]}")
    return int(found.group(1))

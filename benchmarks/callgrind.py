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
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out_file}",
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

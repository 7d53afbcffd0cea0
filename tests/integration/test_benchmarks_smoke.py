"""The benchmark harness runs and writes its JSON (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_quick_size_benchmark_prints_a_table_and_writes_its_json(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"

    done = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "--only", "size", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "bytes per request, gzip" in done.stdout
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["quick"] is True
    assert {"nproc", "cpu_model", "python", "packages"} <= document["machine"].keys()
    size = document["benchmarks"]["size"]
    assert size["cassettes"] > 0
    assert set(size["bytes_per_request"]) == {"none", "gzip", "zstd"}
    assert isinstance(size["bar"]["met"], bool)

"""``benchmarks/callgrind.py`` per-thread totals and ``benchmarks/instructions.py``'s table
(valgrind itself is not run here: its output files are written by the test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from benchmarks import callgrind, instructions


def fake_run(per_thread: list[int]) -> Any:
    def run(script: str, args: list[str], out_file: Path, options: list[str]) -> int:
        assert "--separate-threads=yes" in options
        for number, count in enumerate(per_thread, start=1):
            part = out_file.parent / f"{out_file.name}-{number:02d}"
            part.write_text(f"# callgrind format\nevents: Ir\nsummary: {count}\ntotals: {count}\n")
        return sum(per_thread)

    return run


def test_count_by_thread_reads_each_threads_total_main_thread_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callgrind, "_run", fake_run([700, 20, 5]))

    counts = callgrind.count_by_thread("script.py", [], tmp_path / "run.out")

    assert counts == [700, 20, 5]


def test_count_by_thread_refuses_a_run_without_per_thread_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callgrind, "_run", fake_run([]))

    with pytest.raises(RuntimeError, match="no per-thread counts"):
        callgrind.count_by_thread("script.py", [], tmp_path / "run.out")


def test_instruction_table_gives_each_thread_group_against_default_tracing() -> None:
    serving = {
        "uninstrumented": 4.0e6,
        "default-tracing": 6.0e6,
        "record-path": 5.5e6,
        "record-zstd": 5.5e6,
    }
    other = {
        "uninstrumented": 0.0,
        "default-tracing": 0.0,
        "record-path": 0.0,
        "record-zstd": 1.0e6,
    }

    lines = instructions._table(serving, other).splitlines()

    row = next(line for line in lines if line.startswith("record-zstd"))
    serving_part, other_part, total_part = (cell.strip() for cell in row.split("|")[1:])
    assert serving_part.split() == ["5.50", "M", "+1.50", "M", "0.75x"]
    assert other_part == "1.00 M"
    assert total_part.split() == ["6.50", "M", "+2.50", "M", "1.25x"]

"""Instructions per cassette for what ``timetracer list`` reads, under valgrind.

Benchmark 6 times the listing; on a shared 2-vCPU machine that time moves by a third from one
minute to the next. Instruction counts do not, so this is how a change to the per-cassette
path is judged. Scenario cassettes are recorded once (default compression); then each variant
reads ``FEW`` and ``MANY`` of them in a fresh process under ``valgrind --tool=callgrind``, and
the difference divided by ``MANY - FEW`` is the cost of one cassette, start-up cancelled out.

Variants, each against the first (the baseline, measured in the same run):

- ``full-load``: ``load_cassette()``, the whole model (``timetracer show`` reads this);
- ``summary``: ``load_summary()`` and the row ``list --json`` prints, what ``list`` reads;
- ``bytes-only``: reading and decompressing the file, nothing parsed: the floor.

Valgrind sees user space only: the kernel's part of opening and reading a file is not counted.
Not part of ``run.py`` (about 2 minutes, and it needs valgrind)::

    .venv/bin/python benchmarks/list_instructions.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

FEW, MANY = 100, 600
RECORDED = 200
VARIANTS = ("full-load", "summary", "bytes-only")
REPO = Path(__file__).resolve().parent.parent


def _read(variant: str, directory: Path, count: int) -> None:
    from timetracer.cassette.compression import decompress
    from timetracer.cassette.reader import cassette_files, load_cassette, read_cassette_bytes
    from timetracer.cassette.summary import load_summary
    from timetracer.cassette.views import summary

    paths = cassette_files(directory)
    chosen = [paths[index % len(paths)] for index in range(count)]
    for path in chosen:
        if variant == "full-load":
            summary(load_cassette(path))
        elif variant == "summary":
            summary(load_summary(path))
        else:
            decompress(read_cassette_bytes(path))


def _count(variant: str, directory: Path, count: int, workdir: Path) -> int:
    from benchmarks import callgrind

    out = workdir / f"callgrind-{variant}-{count}.out"
    return callgrind.count(__file__, [variant, str(directory), str(count)], out)


def main() -> int:
    """Record the cassettes, count every variant, print instructions per cassette."""
    sys.path.insert(0, str(REPO))
    from benchmarks import callgrind

    if not callgrind.available():
        print(callgrind.MISSING, file=sys.stderr)
        return 2
    from tests.support.nx_server import NxServer

    from benchmarks.common import Settings
    from benchmarks.overhead import run_scenario
    from benchmarks.variants import RECORD_DEFAULT

    workdir = Path(tempfile.mkdtemp(prefix="timetracer-list-instructions-"))
    directory = workdir / "cassettes"
    per_cassette: dict[str, float] = {}
    try:
        with NxServer(workdir / "nx-27017") as server:
            settings = Settings(quick=False, workdir=workdir, uri=server.uri)
            run_scenario(
                settings,
                RECORD_DEFAULT,
                "list_instructions",
                directory,
                requests=RECORDED,
                warmup=0,
            )
        for variant in VARIANTS:
            few = _count(variant, directory, FEW, workdir)
            many = _count(variant, directory, MANY, workdir)
            per_cassette[variant] = (many - few) / (MANY - FEW)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base = per_cassette[VARIANTS[0]]
    print(f"{'variant':12} {'instructions/cassette':>22} {'vs full-load':>13}")
    for variant, count in per_cassette.items():
        print(f"{variant:12} {count / 1e3:20.0f} k {count / base:12.2f}x")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4:  # one counted run, started by _count under valgrind
        sys.path.insert(0, str(REPO))
        _read(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())

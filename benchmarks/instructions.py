"""Instructions per request under valgrind: the request path's cost without the machine's noise.

Latency on a shared 2-vCPU machine swings by more than the difference between the variants of
benchmark 1; instruction counts do not (callgrind counts the same for the same binary and
inputs, whatever else runs). Each variant runs twice in a fresh process under
``valgrind --tool=callgrind``, once with ``FEW`` requests and once with ``MANY``; the difference
divided by ``MANY - FEW`` is the cost of one request, start-up and warm-up cancelled out.

Variants: the three of benchmark 1 without their exporters' disk work, plus record in full:

- ``uninstrumented``; ``default-tracing`` (contrib defaults, a no-op exporter);
- ``record-path``: the distro's record set-up with a no-op exporter, i.e. the request path
  alone (hooks, payload capture, spans);
- ``record-zstd``: the same with ``CassetteSpanExporter`` (its thread's user-space work
  counts too; the kernel's file creation does not, as valgrind sees only user space).

Not part of ``run.py`` (about 5 minutes, and it needs valgrind)::

    .venv/bin/python benchmarks/instructions.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

FEW, MANY = 50, 250
VARIANTS = ("uninstrumented", "default-tracing", "record-path", "record-zstd")
REPO = Path(__file__).resolve().parent.parent


def _drive(variant: str, uri: str, requests: int, workdir: Path) -> None:
    from benchmarks import variants
    from benchmarks.scenario import build_app, drive, seed

    seed(uri, "instructions")
    cassettes = workdir / f"cassettes-{variant}-{requests}"
    finish = variants.install(variant, cassettes)
    app = build_app(uri, "instructions")
    asyncio.run(drive(app, requests, 0))
    finish()


def _count(variant: str, uri: str, requests: int, workdir: Path) -> int:
    from benchmarks import callgrind

    out = workdir / f"callgrind-{variant}-{requests}.out"
    return callgrind.count(__file__, [variant, uri, str(requests), str(workdir)], out)


def main() -> int:
    """Count every variant and print instructions per request with ratios."""
    sys.path.insert(0, str(REPO))
    from benchmarks import callgrind

    if not callgrind.available():
        print(callgrind.MISSING, file=sys.stderr)
        return 2
    from tests.support.nx_server import NxServer

    workdir = Path(tempfile.mkdtemp(prefix="timetracer-instructions-"))
    per_request: dict[str, float] = {}
    try:
        with NxServer(workdir / "nx-27017") as server:
            for variant in VARIANTS:
                few = _count(variant, server.uri, FEW, workdir)
                many = _count(variant, server.uri, MANY, workdir)
                per_request[variant] = (many - few) / (MANY - FEW)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base = per_request["uninstrumented"]
    default_added = per_request["default-tracing"] - base
    print(f"{'variant':18} {'instructions/request':>21} {'added':>11} {'vs default tracing':>19}")
    for variant, count in per_request.items():
        added = count - base
        ratio = added / default_added if default_added else float("nan")
        print(f"{variant:18} {count / 1e6:19.2f} M {added / 1e6:+9.2f} M {ratio:18.2f}x")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5:  # one counted run, started by _count under valgrind
        sys.path.insert(0, str(REPO))
        _drive(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
        os._exit(0)  # skip interpreter teardown: it is not part of a request
    sys.exit(main())

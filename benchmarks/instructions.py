"""Instructions per request under valgrind: the request path's cost without the machine's noise.

Latency on a shared 2-vCPU machine swings by more than the difference between the variants of
benchmark 1; instruction counts do not (callgrind counts the same for the same binary and
inputs, whatever else runs). Each variant runs twice in a fresh process under
``valgrind --tool=callgrind``, once with ``FEW`` requests and once with ``MANY``; the difference
divided by ``MANY - FEW`` is the cost of one request, start-up and warm-up cancelled out.
Threads are counted apart (``--separate-threads=yes``): the main thread serves the requests;
the others are the span processor's worker, which runs the exporter, and whatever else starts.
The serving thread's count is what a request pays on its own path; the others run beside it.

Variants: the three of benchmark 1 without their exporters' disk work, plus record in full:

- ``uninstrumented``; ``default-tracing`` (contrib defaults, a no-op exporter);
- ``record-path``: the distro's record set-up with a no-op exporter, i.e. the request path
  alone (hooks, payload capture, spans);
- ``record-zstd``: the same with ``CassetteSpanExporter`` (its thread's user-space work
  counts too; the kernel's file creation does not, as valgrind sees only user space).

Not part of ``run.py`` (about 5 minutes, 6 with ``--parts``; it needs valgrind)::

    .venv/bin/python benchmarks/instructions.py [--parts]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

FEW, MANY = 50, 450
VARIANTS = ("uninstrumented", "default-tracing", "record-path", "record-zstd")
CONTRIB_LEAN = "contrib-lean"
"""With ``--parts``: the contrib instrumentors as record mode runs them (no internal
receive/send spans), without timetracer's capture hooks, over the exporter that does nothing.
Default tracing minus this is what the internal spans cost; record-path minus this is what
timetracer's capture costs."""
REPO = Path(__file__).resolve().parent.parent


def _install_contrib_lean() -> Callable[[], None]:
    from opentelemetry.instrumentation import asgi
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from benchmarks import variants

    build = asgi.OpenTelemetryMiddleware.__init__

    def without_internal_spans(self: Any, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        # What record mode applies at call time: the contrib Starlette instrumentor has no
        # exclude_spans option (see timetracer/capture/instrumentor.py).
        self.exclude_receive_span = self.exclude_send_span = True

    asgi.OpenTelemetryMiddleware.__init__ = without_internal_spans  # type: ignore[method-assign]
    provider = variants._provider()
    provider.add_span_processor(BatchSpanProcessor(variants.NoOpSpanExporter()))
    StarletteInstrumentor().instrument()
    PymongoInstrumentor().instrument()
    return variants._finish(provider)


def _drive(variant: str, uri: str, requests: int, workdir: Path) -> None:
    from benchmarks import variants
    from benchmarks.scenario import build_app, drive, seed

    seed(uri, "instructions")
    cassettes = workdir / f"cassettes-{variant}-{requests}"
    if variant == CONTRIB_LEAN:
        finish = _install_contrib_lean()
    else:
        finish = variants.install(variant, cassettes)
    app = build_app(uri, "instructions")
    asyncio.run(drive(app, requests, 0))
    finish()


def _count(variant: str, uri: str, requests: int, workdir: Path) -> tuple[int, int]:
    """Instructions of one run: (the thread serving requests, every other thread)."""
    from benchmarks import callgrind

    out = workdir / f"callgrind-{variant}-{requests}.out"
    main_thread, *others = callgrind.count_by_thread(
        __file__, [variant, uri, str(requests), str(workdir)], out
    )
    return main_thread, sum(others)


def main(parts: bool = False) -> int:
    """Count every variant (and, with ``parts``, :data:`CONTRIB_LEAN`) and print instructions
    per request with ratios."""
    sys.path.insert(0, str(REPO))
    from benchmarks import callgrind

    if not callgrind.available():
        print(callgrind.MISSING, file=sys.stderr)
        return 2
    from tests.support.nx_server import NxServer

    workdir = Path(tempfile.mkdtemp(prefix="timetracer-instructions-"))
    serving: dict[str, float] = {}
    other: dict[str, float] = {}
    try:
        with NxServer(workdir / "nx-27017") as server:
            for variant in (*VARIANTS, CONTRIB_LEAN) if parts else VARIANTS:
                few = _count(variant, server.uri, FEW, workdir)
                many = _count(variant, server.uri, MANY, workdir)
                serving[variant] = (many[0] - few[0]) / (MANY - FEW)
                other[variant] = (many[1] - few[1]) / (MANY - FEW)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(_table(serving, other))
    return 0


def _table(serving: dict[str, float], other: dict[str, float]) -> str:
    """Per variant: the serving thread, the other threads and all of them, each with what it
    adds to the uninstrumented run and that as a ratio of what default tracing adds."""

    def columns(counts: dict[str, float], variant: str) -> str:
        added = counts[variant] - counts["uninstrumented"]
        default_added = counts["default-tracing"] - counts["uninstrumented"]
        ratio = added / default_added if default_added else float("nan")
        return f"{counts[variant] / 1e6:8.2f} M {added / 1e6:+7.2f} M {ratio:6.2f}x"

    total = {variant: serving[variant] + other[variant] for variant in serving}
    lines = [
        "instructions per request, with what each variant adds to the uninstrumented run and "
        "that as a ratio of what default tracing adds",
        f"{'variant':16} | {'serving thread':>26} | {'other threads':>10} | {'all threads':>26}",
    ]
    for variant in serving:
        lines.append(
            f"{variant:16} | {columns(serving, variant)} | {other[variant] / 1e6 + 0.0:11.2f} M | "
            f"{columns(total, variant)}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 5:  # one counted run, started by _count under valgrind
        sys.path.insert(0, str(REPO))
        _drive(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
        os._exit(0)  # skip interpreter teardown: it is not part of a request
    if sys.argv[1:] not in ([], ["--parts"]):
        sys.exit("usage: benchmarks/instructions.py [--parts]")
    sys.exit(main(parts=sys.argv[1:] == ["--parts"]))

"""``timetracer export``: a cassette as an OTLP/JSON file that trace tools import.

The output follows the OpenTelemetry file-exporter format, which the Collector's
``otlpjsonfile`` receiver reads: JSON lines, one ``ExportTraceServiceRequest``-shaped object
(``{"resourceSpans": [...]}``) per line, trace and span ids in hex. One cassette is one line;
a directory gives one line per cassette.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from timetracer.errors import TimetracerError

FORMATS = ("otlp-json",)
EXPORT_SUFFIX = ".otlp.json"


def add_parser(commands: Any) -> None:
    """Register ``export``."""
    parser = commands.add_parser(
        "export",
        help="write a cassette as OTLP/JSON for trace viewers and the Collector",
        description="Write a cassette (or every cassette of a directory) as OTLP/JSON lines: "
        "one object per cassette per line, hex trace and span ids, as the OpenTelemetry "
        "file exporter writes and the Collector's otlpjsonfile receiver reads. The file is "
        "written atomically.",
    )
    parser.add_argument("cassette", type=Path, help="a cassette, or a directory of cassettes")
    parser.add_argument(
        "--format", choices=FORMATS, default="otlp-json", help="output format (default otlp-json)"
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="where to write ('-' for standard output); default: the cassette's name with "
        f"{EXPORT_SUFFIX} beside it (required for a directory)",
    )
    parser.set_defaults(handler=run)


def default_output(cassette: Path) -> Path:
    """``x.cassette`` -> ``x.otlp.json`` in the same directory."""
    from timetracer.cassette.naming import SUFFIX

    name = cassette.name.removesuffix(SUFFIX) if cassette.name.endswith(SUFFIX) else cassette.name
    return cassette.with_name(name + EXPORT_SUFFIX)


def export_lines(paths: list[Path]) -> tuple[str, int]:
    """The OTLP/JSON lines of ``paths`` and how many spans they hold."""
    from timetracer.cassette import read_traces_data
    from timetracer.cassette.otlp_json import traces_data_to_json

    lines: list[str] = []
    spans = 0
    for path in paths:
        data = read_traces_data(path)
        spans += sum(len(s.spans) for rs in data.resource_spans for s in rs.scope_spans)
        # json.dumps escapes control characters, so one document never spans two lines.
        lines.append(traces_data_to_json(data))
    return "".join(line + "\n" for line in lines), spans


def run(args: argparse.Namespace) -> int:
    """Export; exit 2 for a missing or unreadable cassette (nothing is written then)."""
    from timetracer.cassette import iter_cassette_paths
    from timetracer.cassette.store import write_atomic

    if args.cassette.is_dir() and args.out is None:
        raise TimetracerError(f"{args.cassette} is a directory: name the output with --out FILE")
    paths = list(iter_cassette_paths(args.cassette))
    if not paths:
        raise TimetracerError(f"{args.cassette}: no cassettes found")
    text, spans = export_lines(paths)
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out) if args.out else default_output(args.cassette)
    if out.is_dir():
        raise TimetracerError(f"--out {out} is a directory: name a file")
    written = write_atomic(out.parent, out.name, text.encode("utf-8"))
    print(
        f"timetracer export: wrote {written} ({len(paths)} cassette(s), {spans} spans)",
        file=sys.stderr,
    )
    return 0

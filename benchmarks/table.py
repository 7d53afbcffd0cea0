"""The results document as a table: plain text for the terminal, Markdown for the docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, str, str, str, str]
HEADER: Row = ("benchmark", "measure", "result (median)", "vs baseline (median [min-max])", "bar")


def _ratio(figure: dict[str, Any], suffix: str = "") -> str:
    low, high = figure["spread"]
    return f"x{figure['median']:.2f} [{low:.2f}-{high:.2f}]{suffix}"


def _bar(result: dict[str, Any]) -> str:
    bar = result.get("bar")
    if bar is None:
        return ""
    return "met" if bar["met"] else "MISSED"


def _overhead(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, v in result["variants"].items():
        rows.append(
            (
                "1 overhead",
                f"{name}: latency median / p90",
                f"{v['median_us']['median']:.0f} / {v['p90_us']['median']:.0f} us",
                f"{_ratio(v['latency_ratio'])} / x{v['p90_ratio']['median']:.2f}, "
                f"{v['added_us']['median']:+.0f} us",
                "",
            )
        )
        rows.append(
            (
                "1 overhead",
                f"{name}: CPU per request, serving / other threads",
                f"{v['request_thread_cpu_us']['median']:.0f} / "
                f"{v['other_threads_cpu_us']['median']:.0f} us",
                f"{v['added_request_thread_cpu_us']['median']:+.0f} us serving",
                "",
            )
        )
        rows.append(
            (
                "1 overhead",
                f"{name}: throughput",
                f"{v['throughput_rps']['median']:.0f} req/s",
                _ratio(v["throughput_ratio"]),
                "",
            )
        )
    bar = result["bar"]
    rows.append(
        (
            "1 overhead",
            f"added latency: record ({bar['codec']}, default) vs default tracing",
            f"{bar['record_added_us']:+.0f} vs {bar['default_tracing_added_us']:+.0f} us",
            "",
            _bar(result),
        )
    )
    if "gzip_record_added_us" in bar:
        rows.append(
            (
                "1 overhead",
                "added latency: record (gzip) vs default tracing",
                f"{bar['gzip_record_added_us']:+.0f} vs {bar['default_tracing_added_us']:+.0f} us",
                "",
                "met (gzip)" if bar["gzip_met"] else "MISSED (gzip)",
            )
        )
    if "record_path_added_us" in bar:
        rows.append(
            (
                "1 overhead",
                "added latency: record's request path alone (no-op exporter) vs default tracing",
                f"{bar['record_path_added_us']:+.0f} vs {bar['default_tracing_added_us']:+.0f} us",
                "",
                "",
            )
        )
    return rows


def _replay(result: dict[str, Any]) -> list[Row]:
    lookup = result["lookup"]
    return [
        (
            "2 replay",
            f"{result['requests']} requests: live vs replayed (one CPU)",
            f"{result['live_rps']['median']:.0f} vs {result['replay_rps']['median']:.0f} req/s",
            _ratio(result["throughput_ratio"], " of live"),
            _bar(result),
        ),
        (
            "2 replay",
            "replayed with --all-cpus",
            f"{result['all_cpus_rps']['median']:.0f} req/s",
            _ratio(result["all_cpus_throughput_ratio"], " of live"),
            "",
        ),
        (
            "2 replay",
            f"per call, {lookup['small_calls']} vs {lookup['large_calls']} calls: lookups",
            f"{lookup['small_lookup_us_per_call']['median']:.0f} vs "
            f"{lookup['large_lookup_us_per_call']['median']:.0f} us",
            _ratio(lookup["lookup_ratio"]),
            _bar(lookup),
        ),
        (
            "2 replay",
            "per call incl. load + index",
            f"{lookup['small_whole_us_per_call']['median']:.0f} vs "
            f"{lookup['large_whole_us_per_call']['median']:.0f} us",
            _ratio(lookup["whole_ratio"]),
            "",
        ),
    ]


def _size(result: dict[str, Any]) -> list[Row]:
    per_request = result["bytes_per_request"]
    ratios = result["ratio_to_uncompressed"]
    rows: list[Row] = [
        (
            "3 size",
            f"bytes per request, {codec}",
            f"{per_request[codec]:.0f} B",
            f"x{ratios[codec]:.2f} of none",
            _bar(result) if codec == result["bar"]["codec"] else "",
        )
        for codec in per_request
    ]
    return rows


def _exporter(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for variant, clocks in result["variants"].items():
        wall, cpu = clocks["wall"], clocks["cpu"]
        rows.append(
            (
                "4 exporter",
                f"spans/s, {variant}: per CPU-s / per wall-s",
                f"{cpu['spans_per_s']['median']:.0f} / {wall['spans_per_s']['median']:.0f}",
                _ratio(cpu["ratio_to_encode_only"], " of encode-only (CPU)"),
                _exporter_bar(result, variant),
            )
        )
    return rows


def _exporter_bar(result: dict[str, Any], variant: str) -> str:
    codec = result["bar"]["codec"]
    if variant == codec:
        return _bar(result)
    without_disk = result["bar"].get("met_without_disk")
    if variant == f"{codec}-tmpfs" and without_disk is not None:
        return "met (no disk)" if without_disk else "MISSED (no disk)"
    return ""


def _memory(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    record = next(name for name in result if name.startswith("record-"))
    for name in ("uninstrumented", record):
        m = result[name]
        rows.append(
            (
                "5 memory",
                f"{name}, {result['requests']} requests: RSS start/peak/end",
                f"{m['start_mib']:.0f} / {m['peak_mib']:.0f} / {m['end_mib']:.0f} MiB",
                f"2nd half {m['second_half_growth_mib']:+.1f} MiB",
                _bar(result) if name == record else "",
            )
        )
    return rows


def _list(result: dict[str, Any]) -> list[Row]:
    return [
        (
            "6 list",
            f"timetracer list, {result['cassettes']} cassettes",
            f"{result['list_seconds']['median']:.2f} s",
            f"start-up {result['startup_seconds']['median']:.2f} s, "
            f"{result['us_per_cassette']['median']:.0f} us/cassette, {result['jobs']} process(es)",
            _bar(result),
        ),
        (
            "",
            "  with --jobs 1 (one process)",
            f"{result['one_process_seconds']['median']:.2f} s",
            f"{result['one_process_us_per_cassette']['median']:.0f} us/cassette",
            "",
        ),
    ]


SECTIONS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "overhead": _overhead,
    "replay": _replay,
    "size": _size,
    "exporter": _exporter,
    "memory": _memory,
    "list": _list,
}


def rows(document: dict[str, Any]) -> list[Row]:
    """Every row of the table, in the issue's order."""
    found: list[Row] = []
    results = document["benchmarks"]
    for name, section in SECTIONS.items():
        if name not in results:
            continue
        result = results[name]
        if "error" in result:
            found.append((name, "could not run", result["error"][:80], "", "ERROR"))
        else:
            found.extend(section(result))
    return found


def render(document: dict[str, Any], *, markdown: bool = False) -> str:
    """The table as text (aligned columns) or as a Markdown table."""
    table = [HEADER, *rows(document)]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in table]
        lines.insert(1, "|" + "---|" * len(HEADER))
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )

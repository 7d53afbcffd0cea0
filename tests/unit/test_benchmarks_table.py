"""``benchmarks/table.py`` renders every section of a results document (no timings run)."""

from __future__ import annotations

from typing import Any

from benchmarks.common import summarize
from benchmarks.table import render


def figure(value: float) -> dict[str, Any]:
    return summarize([value * 0.9, value, value * 1.1])


def document() -> dict[str, Any]:
    variant = {
        key: figure(1.0)
        for key in (
            "median_us",
            "p90_us",
            "added_us",
            "latency_ratio",
            "p90_ratio",
            "throughput_rps",
            "throughput_ratio",
            "request_thread_cpu_us",
            "added_request_thread_cpu_us",
            "other_threads_cpu_us",
        )
    }
    clocks = {"wall": {"spans_per_s": figure(1), "ratio_to_encode_only": figure(1)}}
    clocks["cpu"] = clocks["wall"]
    memory = {
        "start_mib": 50.0,
        "peak_mib": 52.0,
        "end_mib": 51.0,
        "second_half_growth_mib": 0.1,
    }
    bar = {"met": True, "codec": "zstd"}
    return {
        "benchmarks": {
            "overhead": {
                "variants": {"uninstrumented": variant, "record-gzip": variant},
                "bar": {
                    "met": False,
                    "codec": "zstd",
                    "record_added_us": 5.0,
                    "default_tracing_added_us": -3.0,
                    "gzip_record_added_us": 7.0,
                    "gzip_met": False,
                    "record_path_added_us": 4.0,
                },
            },
            "replay": {
                "requests": 10,
                "live_rps": figure(100),
                "replay_rps": figure(300),
                "throughput_ratio": figure(3),
                "all_cpus_rps": figure(250),
                "all_cpus_throughput_ratio": figure(2.5),
                "bar": bar,
                "lookup": {
                    "small_calls": 100,
                    "large_calls": 1000,
                    **{
                        f"{size}_{kind}_us_per_call": figure(20)
                        for size in ("small", "large")
                        for kind in ("lookup", "whole")
                    },
                    "lookup_ratio": figure(1),
                    "whole_ratio": figure(1),
                    "bar": bar,
                },
            },
            "size": {
                "bytes_per_request": {"none": 4000.0, "gzip": 1500.0, "zstd": 1400.0},
                "ratio_to_uncompressed": {"none": 1.0, "gzip": 0.4, "zstd": 0.35},
                "bar": bar,
            },
            "exporter": {
                "variants": {"encode-only": clocks, "zstd": clocks, "zstd-tmpfs": clocks},
                "bar": {**bar, "met_without_disk": False},
            },
            "memory": {
                "requests": 100,
                "uninstrumented": memory,
                "record-zstd": memory,
                "bar": bar,
            },
            "list": {
                "cassettes": 1000,
                "jobs": 1,
                "list_seconds": figure(0.5),
                "one_process_seconds": figure(0.5),
                "startup_seconds": figure(0.2),
                "us_per_cassette": figure(300),
                "one_process_us_per_cassette": figure(300),
                "bar": bar,
            },
        }
    }


def test_every_section_renders_as_text_with_its_bar() -> None:
    text = render(document())

    lines = text.splitlines()
    assert lines[0].split()[:2] == ["benchmark", "measure"]
    for section in ("1 overhead", "2 replay", "3 size", "4 exporter", "5 memory", "6 list"):
        assert any(line.startswith(section) for line in lines), section
    assert "MISSED" in text
    assert "+5 vs -3 us" in text
    assert "record (gzip) vs default tracing" in text
    assert "request path alone (no-op exporter) vs default tracing  +4 vs -3 us" in text
    assert "MISSED (no disk)" in text
    assert "replayed with --all-cpus" in text


def test_markdown_is_a_table_with_a_separator_row() -> None:
    lines = render(document(), markdown=True).splitlines()

    assert lines[0].startswith("| benchmark |")
    assert lines[1] == "|---|---|---|---|---|"
    assert all(line.startswith("|") and line.endswith("|") for line in lines)


def test_a_benchmark_that_could_not_run_is_one_error_row() -> None:
    text = render({"benchmarks": {"size": {"error": "RuntimeError: worker failed"}}})

    assert "ERROR" in text
    assert "worker failed" in text

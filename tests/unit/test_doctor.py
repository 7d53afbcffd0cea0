"""The doctor's checks, on installations described in the test (and once on the real one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import record_request, spans_of, write_cassette
from timetracer.doctor import FAIL, OK, WARN, EntryPointInfo, Finding, InstalledPackages, run_checks

INSTRUMENTOR = "opentelemetry_instrumentor"


def ep(group: str, name: str, dist: str, version: str = "1.0", **extra: object) -> EntryPointInfo:
    return EntryPointInfo(group, name, f"{dist}:X", dist, version, **extra)  # type: ignore[arg-type]


@dataclass
class FakeInstalled:
    """An installation as the test describes it."""

    groups: dict[str, list[EntryPointInfo]]
    versions: dict[str, str]
    files: set[tuple[str, str]] = field(default_factory=set)

    def entry_points(self, group: str) -> list[EntryPointInfo]:
        return list(self.groups.get(group, []))

    def version(self, distribution: str) -> str | None:
        return self.versions.get(distribution)

    def has_file(self, distribution: str, path: str) -> bool:
        return (distribution, path) in self.files


def healthy() -> FakeInstalled:
    """timetracer with the Starlette and PyMongo extras, and FastAPI with its instrumentor."""
    contrib = "opentelemetry-instrumentation-"
    return FakeInstalled(
        groups={
            "opentelemetry_distro": [ep("opentelemetry_distro", "timetracer", "timetracer")],
            "opentelemetry_configurator": [
                ep("opentelemetry_configurator", "timetracer", "timetracer")
            ],
            "opentelemetry_traces_exporter": [
                ep("opentelemetry_traces_exporter", "timetracer", "timetracer"),
                ep("opentelemetry_traces_exporter", "otlp_proto_http", "otlp-http"),
            ],
            INSTRUMENTOR: [
                ep(INSTRUMENTOR, "pymongo", contrib + "pymongo", "0.66b1"),
                ep(INSTRUMENTOR, "starlette", contrib + "starlette", "0.66b1"),
                ep(INSTRUMENTOR, "fastapi", contrib + "fastapi", "0.66b1"),
                ep(INSTRUMENTOR, "litestar", "timetracer"),
                ep(INSTRUMENTOR, "timetracer_capture", "timetracer"),
            ],
        },
        versions={
            "pymongo": "4.20.1",
            "starlette": "1.10.0",
            "fastapi": "0.165.0",
            "litestar": "2.25.0",
            contrib + "fastapi": "0.66b1",
        },
    )


def record_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": str(tmp_path / "cassettes"),
        **extra,
    }


def by_check(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def statuses(findings: list[Finding]) -> set[str]:
    return {f.status for f in findings}


def test_a_healthy_recording_set_up_has_nothing_to_report(tmp_path: Path) -> None:
    findings = run_checks(record_env(tmp_path), healthy())

    assert statuses(findings) == {OK}
    checks = [f.check for f in findings]
    assert checks[:5] == ["timetracer", "distro", "configurator", "mode", "directory"]
    assert "exporter" in checks
    pymongo = by_check(findings, "instrumentor pymongo")[0]
    assert pymongo.message == (
        "opentelemetry-instrumentation-pymongo 0.66b1, instruments pymongo 4.20.1"
    )
    assert "will be created" in by_check(findings, "directory")[0].message


def test_mode_off_is_a_warning_with_the_way_to_record(tmp_path: Path) -> None:
    env = record_env(tmp_path)
    del env["TIMETRACER_MODE"]

    [mode] = by_check(run_checks(env, healthy()), "mode")

    assert mode.status == WARN
    assert "nothing is recorded" in mode.message
    assert mode.hint is not None and "timetracer run --mode record" in mode.hint


def test_a_bad_variable_fails_naming_it(tmp_path: Path) -> None:
    findings = run_checks(record_env(tmp_path, TIMETRACER_COMPRESSION="brotli"), healthy())

    [mode] = by_check(findings, "mode")
    assert mode.status == FAIL
    assert "TIMETRACER_COMPRESSION='brotli'" in mode.message
    assert by_check(findings, "directory") == []  # nothing to check without a configuration


def test_another_distro_and_no_choice_leaves_it_to_chance(tmp_path: Path) -> None:
    installed = healthy()
    installed.groups["opentelemetry_distro"].append(
        ep("opentelemetry_distro", "distro", "opentelemetry-distro", "0.66b1")
    )
    env = record_env(tmp_path)
    del env["OTEL_PYTHON_DISTRO"]

    [distro] = by_check(run_checks(env, installed), "distro")

    assert distro.status == WARN
    assert "distro (opentelemetry-distro 0.66b1)" in distro.message
    assert "whichever comes first" in distro.message
    assert distro.hint is not None and "OTEL_PYTHON_DISTRO=timetracer" in distro.hint


@pytest.mark.parametrize(
    ("chosen", "mode", "status", "words"),
    [
        ("distro", "record", FAIL, "uses that distro, not timetracer's"),
        ("distro", "off", WARN, "uses that distro, not timetracer's"),
        ("missing", "replay", FAIL, "names nothing installed"),
    ],
)
def test_a_distro_other_than_timetracer_is_flagged(
    tmp_path: Path, chosen: str, mode: str, status: str, words: str
) -> None:
    installed = healthy()
    installed.groups["opentelemetry_distro"].append(
        ep("opentelemetry_distro", "distro", "opentelemetry-distro")
    )
    env = record_env(tmp_path, OTEL_PYTHON_DISTRO=chosen, TIMETRACER_MODE=mode)

    [distro] = by_check(run_checks(env, installed), "distro")

    assert distro.status == status
    assert words in distro.message


def test_a_configurator_named_but_not_installed_fails(tmp_path: Path) -> None:
    env = record_env(tmp_path, OTEL_PYTHON_CONFIGURATOR="otel")

    [configurator] = by_check(run_checks(env, healthy()), "configurator")

    assert configurator.status == FAIL
    assert "no configurator at all" in configurator.message


def test_a_cassette_directory_that_cannot_be_created_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = record_env(tmp_path, TIMETRACER_DIR=str(blocker / "cassettes"))

    [directory] = by_check(run_checks(env, healthy()), "directory")

    assert directory.status == FAIL
    assert "cannot be created" in directory.message


def test_an_existing_cassette_directory_is_checked_for_writing(tmp_path: Path) -> None:
    (tmp_path / "cassettes").mkdir()
    [directory] = by_check(run_checks(record_env(tmp_path), healthy()), "directory")
    assert (directory.status, directory.message) == (
        OK,
        f"cassettes are written to {tmp_path / 'cassettes'} (writable)",
    )

    file_instead = tmp_path / "plain"
    file_instead.write_text("")
    env = record_env(tmp_path, TIMETRACER_DIR=str(file_instead))
    [directory] = by_check(run_checks(env, healthy()), "directory")
    assert directory.status == FAIL


def test_replay_needs_cassettes(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    env = record_env(tmp_path, TIMETRACER_MODE="replay")
    [empty] = by_check(run_checks(env, healthy()), "cassettes")
    assert empty.status == FAIL
    assert "does not exist: nothing to replay" in empty.message

    trace_id = record_request(tracer)
    written = write_cassette(
        tmp_path / "cassettes", spans_of(memory.get_finished_spans(), trace_id)
    )
    [found] = by_check(run_checks(env, healthy()), "cassettes")
    assert (found.status, found.message) == (
        OK,
        f"1 cassette(s) to replay in {tmp_path / 'cassettes'}",
    )

    env["TIMETRACER_CASSETTE"] = str(written.with_name("gone.cassette"))
    [pinned] = by_check(run_checks(env, healthy()), "cassettes")
    assert pinned.status == FAIL


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        ({"OTEL_TRACES_EXPORTER": "timetracer,otlp_proto_http"}, OK, "spans go to timetracer"),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, FAIL, "'otlp' (otlp_proto_grpc)"),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
         WARN, "this process writes no cassettes"),
        ({"OTEL_TRACES_EXPORTER": "none"}, FAIL, "no cassette is written"),
        ({"OTEL_SDK_DISABLED": "true"}, FAIL, "no span is recorded at all"),
    ],
)  # fmt: skip
def test_exporters_are_checked_against_what_is_installed(
    tmp_path: Path, extra: dict[str, str], status: str, words: str
) -> None:
    findings = by_check(run_checks(record_env(tmp_path, **extra), healthy()), "exporter")

    assert findings[0].status == status
    assert words in findings[0].message


def test_instrumentors_unused_disabled_or_out_of_range_are_told_apart(tmp_path: Path) -> None:
    installed = healthy()
    del installed.versions["fastapi"]
    installed.groups[INSTRUMENTOR].append(
        ep(INSTRUMENTOR, "redis", "opentelemetry-instrumentation-redis", "0.66b1",
           conflict='requires "redis >= 2.6", found "redis 1.0"')
    )  # fmt: skip
    env = record_env(tmp_path, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="pymongo")

    findings = run_checks(env, installed)

    assert by_check(findings, "instrumentor fastapi")[0].status == OK
    assert (
        "unused, fastapi is not installed" in by_check(findings, "instrumentor fastapi")[0].message
    )
    disabled = by_check(findings, "instrumentor pymongo")[0]
    assert (
        disabled.status,
        disabled.message.endswith("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"),
    ) == (
        WARN,
        True,
    )
    redis = by_check(findings, "instrumentor redis")[0]
    assert redis.status == WARN
    assert "not loaded" in redis.message
    [summary] = by_check(findings, "instrumentors")
    assert "MongoDB calls are not recorded" in summary.message


def test_no_web_framework_instrumentor_means_no_request_is_recorded(tmp_path: Path) -> None:
    installed = healthy()
    installed.groups[INSTRUMENTOR] = [
        e for e in installed.groups[INSTRUMENTOR] if e.name in ("pymongo", "timetracer_capture")
    ]

    [summary] = by_check(run_checks(record_env(tmp_path), installed), "instrumentors")

    assert summary.status == WARN
    assert "requests are not recorded" in summary.message


def test_the_squatted_litestar_package_is_a_failure_with_the_way_out(tmp_path: Path) -> None:
    installed = healthy()
    installed.versions["opentelemetry-instrumentation-litestar"] = "0.0.1"

    [conflict] = by_check(run_checks(record_env(tmp_path), installed), "conflict")

    assert conflict.status == FAIL
    assert "not an OpenTelemetry project package" in conflict.message
    assert conflict.hint is not None
    assert "pip uninstall opentelemetry-instrumentation-litestar" in conflict.hint


def test_native_fastapi_tracing_is_fine_beside_the_contrib_instrumentor(tmp_path: Path) -> None:
    [fastapi] = by_check(run_checks(record_env(tmp_path), healthy()), "fastapi")

    assert fastapi.status == OK
    assert "stands aside when the contrib FastAPI instrumentor wraps the app" in fastapi.message


def test_native_fastapi_tracing_without_the_contrib_instrumentor_warns(tmp_path: Path) -> None:
    installed = healthy()
    del installed.versions["opentelemetry-instrumentation-fastapi"]

    [fastapi] = by_check(run_checks(record_env(tmp_path), installed), "fastapi")

    assert fastapi.status == WARN
    assert "two root traces" in fastapi.message
    assert fastapi.hint is not None and "timetracer[fastapi]" in fastapi.hint


def test_an_older_fastapi_has_no_native_tracing_to_report(tmp_path: Path) -> None:
    installed = healthy()
    installed.versions["fastapi"] = "0.115.6"

    assert by_check(run_checks(record_env(tmp_path), installed), "fastapi") == []


def test_the_real_installation_of_this_project_passes(tmp_path: Path) -> None:
    findings = run_checks(record_env(tmp_path))

    assert FAIL not in statuses(findings)
    pymongo = by_check(findings, "instrumentor pymongo")[0]
    assert pymongo.message.startswith("opentelemetry-instrumentation-pymongo ")
    assert by_check(findings, "conflict") == []
    real = InstalledPackages()
    assert real.has_file("fastapi", "fastapi/telemetry/__init__.py")
    assert real.version("opentelemetry-instrumentation-litestar") is None
    assert real.has_file("no-such-distribution-zz9", "x.py") is False


@pytest.mark.parametrize(
    ("extra", "status", "words"),
    [
        ({"TIMETRACER_SAMPLE_RATE": "0"}, WARN, "records nothing"),
        ({"TIMETRACER_SAMPLE_RATE": "0.25"}, OK, "25% of requests are recorded"),
        ({"TIMETRACER_ERRORS_ONLY": "true"}, WARN, "only requests that answer 5xx or raise"),
    ],
)
def test_sampling_that_keeps_few_requests_is_pointed_out(
    tmp_path: Path, extra: dict[str, str], status: str, words: str
) -> None:
    [sampling] = by_check(run_checks(record_env(tmp_path, **extra), healthy()), "sampling")

    assert sampling.status == status
    assert words in sampling.message


def test_a_pinned_cassette_that_exists_is_fine(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    trace_id = record_request(tracer)
    written = write_cassette(tmp_path, spans_of(memory.get_finished_spans(), trace_id))
    env = record_env(tmp_path, TIMETRACER_MODE="replay", TIMETRACER_CASSETTE=str(written))

    [pinned] = by_check(run_checks(env, healthy()), "cassettes")

    assert (pinned.status, pinned.message) == (OK, f"replaying the pinned cassette {written}")

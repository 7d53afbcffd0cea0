"""Doctor checks of what ``opentelemetry-instrument`` picks: distro, configurator, exporters.

How it picks (opentelemetry-instrumentation 0.66b, opentelemetry-sdk 1.45): the distro and the
configurator named by ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR``, else the first
entry point of their group, in an order nobody controls; a named one that is not installed
leaves the default distro, or no configurator at all. ``OTEL_TRACES_EXPORTER`` names entry
points of ``opentelemetry_traces_exporter``; ``otlp`` means ``otlp_proto_grpc`` or, with
``OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf``, ``otlp_proto_http``; an unknown name stops
the SDK from starting.
"""

from __future__ import annotations

from collections.abc import Mapping

from timetracer.doctor.findings import FAIL, OK, WARN, Finding
from timetracer.doctor.installed import EntryPointInfo, Installed

_HINT = "set {var}=timetracer (`timetracer run` sets it for you)"


def _described(entry_points: list[EntryPointInfo]) -> str:
    return ", ".join(
        f"{ep.name} ({ep.distribution or '?'} {ep.version or ''})".replace(" )", ")")
        for ep in entry_points
    )


def _selection(
    check: str, var: str, group: str, env: Mapping[str, str], installed: Installed, active: bool
) -> list[Finding]:
    entry_points = installed.entry_points(group)
    names = [ep.name for ep in entry_points]
    chosen = env.get(var, "").strip() or None
    hint = _HINT.format(var=var)
    if "timetracer" not in names:
        return [
            Finding(
                check,
                FAIL,
                f"timetracer's {check} entry point is not installed",
                "reinstall timetracer: pip install --force-reinstall timetracer",
            )
        ]
    others = [ep for ep in entry_points if ep.name != "timetracer"]
    if chosen == "timetracer":
        return [Finding(check, OK, f"timetracer ({var}=timetracer)")]
    severity = FAIL if active else WARN
    if chosen is not None and chosen not in names:
        fallback = "the default distro" if check == "distro" else "no configurator at all"
        return [
            Finding(
                check,
                severity,
                f"{var}={chosen} names nothing installed: "
                f"opentelemetry-instrument uses {fallback}, not timetracer",
                hint,
            )
        ]
    if chosen is not None:
        return [
            Finding(
                check,
                severity,
                f"{var}={chosen}: opentelemetry-instrument uses that {check}, not timetracer's",
                hint,
            )
        ]
    if not others:
        return [Finding(check, OK, f"timetracer (the only {check} installed; {var} unset)")]
    return [
        Finding(
            check,
            WARN,
            f"{var} is unset and {len(names)} are installed: "
            f"{_described(entry_points)}; opentelemetry-instrument takes whichever comes "
            "first",
            hint,
        )
    ]


def distro_findings(env: Mapping[str, str], installed: Installed, active: bool) -> list[Finding]:
    """Whether ``opentelemetry-instrument`` will load timetracer's distro."""
    return _selection(
        "distro", "OTEL_PYTHON_DISTRO", "opentelemetry_distro", env, installed, active
    )


def configurator_findings(
    env: Mapping[str, str], installed: Installed, active: bool
) -> list[Finding]:
    """Whether ``opentelemetry-instrument`` will run timetracer's configurator."""
    return _selection(
        "configurator",
        "OTEL_PYTHON_CONFIGURATOR",
        "opentelemetry_configurator",
        env,
        installed,
        active,
    )


def _entry_point_name(name: str, env: Mapping[str, str]) -> str:
    if name != "otlp":
        return name
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    ).strip()
    return "otlp_proto_http" if protocol == "http/protobuf" else "otlp_proto_grpc"


def exporter_findings(env: Mapping[str, str], installed: Installed) -> list[Finding]:
    """Whether recorded spans reach a cassette (record mode)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return [
            Finding(
                "exporter",
                FAIL,
                "OTEL_SDK_DISABLED=true: no span is recorded at all",
                "unset OTEL_SDK_DISABLED",
            )
        ]
    # The distro sets OTEL_TRACES_EXPORTER=timetracer only when it is unset.
    requested = [n.strip() for n in (env.get("OTEL_TRACES_EXPORTER") or "timetracer").split(",")]
    requested = [n for n in requested if n]
    if not requested or requested == ["none"]:
        return [
            Finding(
                "exporter",
                FAIL,
                "OTEL_TRACES_EXPORTER=none: spans go nowhere and no cassette is written",
                "unset OTEL_TRACES_EXPORTER or include timetracer",
            )
        ]
    available = {ep.name for ep in installed.entry_points("opentelemetry_traces_exporter")}
    findings = []
    for name in requested:
        entry_point = _entry_point_name(name, env)
        if entry_point not in available:
            findings.append(
                Finding(
                    "exporter",
                    FAIL,
                    f"OTEL_TRACES_EXPORTER names {name!r} ({entry_point}), "
                    "which no installed package provides: the SDK refuses to start",
                    f"install the package that provides {entry_point}, or remove it",
                )
            )
    if "timetracer" not in requested:
        findings.append(
            Finding(
                "exporter",
                WARN,
                f"spans go to {', '.join(requested)}, not to timetracer: "
                "this process writes no cassettes (right when `timetracer collect` writes "
                "them)",
                "OTEL_TRACES_EXPORTER=timetracer (or timetracer,otlp)",
            )
        )
    elif not findings:
        findings.append(Finding("exporter", OK, f"spans go to {', '.join(requested)}"))
    return findings

"""The checks of ``timetracer doctor``: each looks at one reason a recording may not happen.

``fail`` means this set-up records (or replays) nothing; ``warn`` means it works, but likely not
as meant, or depends on something left to chance (entry-point order).
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping
from pathlib import Path

from timetracer.config import Mode, TraceConfig
from timetracer.doctor.checks_otel import configurator_findings, distro_findings, exporter_findings
from timetracer.doctor.findings import FAIL, OK, WARN, Finding
from timetracer.doctor.installed import Installed, InstalledPackages
from timetracer.errors import CassetteError, ConfigError
from timetracer.version import __version__

# Instrumentor entry-point name -> the distribution it instruments.
LIBRARIES = {
    "pymongo": "pymongo",
    "starlette": "starlette",
    "fastapi": "fastapi",
    "litestar": "litestar",
}
WEB_INSTRUMENTORS = ("starlette", "fastapi", "litestar")
OWN_INSTRUMENTORS = {"timetracer_capture": "record", "timetracer_replay": "replay"}
SQUATTED = "opentelemetry-instrumentation-litestar"
"""A PyPI package that is not the OpenTelemetry project's: detected by name, never installed."""
FASTAPI_NATIVE_TRACING = (0, 160)
"""FastAPI traces requests itself from this release on (``fastapi.telemetry``)."""


def run_checks(
    environ: Mapping[str, str] | None = None, installed: Installed | None = None
) -> list[Finding]:
    """Every finding for the environment ``environ`` (default: this process's)."""
    env = dict(os.environ if environ is None else environ)
    installed = installed or InstalledPackages()
    findings = [
        Finding(
            "timetracer",
            OK,
            f"timetracer {__version__} on Python {platform.python_version()}",
        )
    ]
    config, config_findings = _config(env)
    active = config is None or config.mode is not Mode.OFF
    findings += distro_findings(env, installed, active)
    findings += configurator_findings(env, installed, active)
    findings += config_findings
    if config is not None:
        findings += _storage(config)
        if config.mode is Mode.RECORD:
            findings += exporter_findings(env, installed)
    findings += _instrumentors(env, installed)
    findings += _conflicts(env, installed)
    return findings


def _config(env: Mapping[str, str]) -> tuple[TraceConfig | None, list[Finding]]:
    try:
        config = TraceConfig.from_env(env)
    except ConfigError as error:
        hint = "docs/configuration.md lists every variable and its values"
        return None, [Finding("mode", FAIL, f"start-up is refused: {error}", hint)]
    if config.mode is Mode.OFF:
        return config, [
            Finding(
                "mode",
                WARN,
                "TIMETRACER_MODE is off (or unset): nothing is recorded or replayed",
                "set TIMETRACER_MODE=record, or start the app with "
                "`timetracer run --mode record --dir ./cassettes -- …`",
            )
        ]
    found = [Finding("mode", OK, f"mode {config.mode.value}")]
    if config.mode is Mode.RECORD:
        if config.sample_rate == 0:
            found.append(Finding("sampling", WARN, "TIMETRACER_SAMPLE_RATE=0 records nothing"))
        elif config.sample_rate < 1:
            found.append(
                Finding("sampling", OK, f"{config.sample_rate:.0%} of requests are recorded")
            )
        if config.errors_only:
            found.append(
                Finding(
                    "sampling",
                    WARN,
                    "TIMETRACER_ERRORS_ONLY is on: only requests that answer 5xx or raise are kept",
                )
            )
    return config, found


def _storage(config: TraceConfig) -> list[Finding]:
    if config.mode is Mode.RECORD:
        return [_writable(Path(config.cassette_dir))]
    if config.mode is not Mode.REPLAY:
        return []
    if config.cassette is not None:
        cassette = Path(config.cassette)
        if cassette.is_file():
            return [Finding("cassettes", OK, f"replaying the pinned cassette {cassette}")]
        return [Finding("cassettes", FAIL, f"TIMETRACER_CASSETTE={cassette} is not a file")]
    from timetracer.cassette import iter_cassette_paths

    directory = Path(config.cassette_dir)
    try:
        count = sum(1 for _ in iter_cassette_paths(directory))
    except CassetteError:
        count = -1
    if count <= 0:
        what = "does not exist" if count < 0 else "holds no cassettes"
        return [
            Finding(
                "cassettes",
                FAIL,
                f"{directory} {what}: nothing to replay",
                "point TIMETRACER_DIR at the directory you recorded into",
            )
        ]
    return [Finding("cassettes", OK, f"{count} cassette(s) to replay in {directory}")]


def _writable(directory: Path) -> Finding:
    if directory.exists():
        if not directory.is_dir():
            return Finding("directory", FAIL, f"{directory} exists and is not a directory")
        if os.access(directory, os.W_OK | os.X_OK):
            return Finding("directory", OK, f"cassettes are written to {directory} (writable)")
        return Finding(
            "directory", FAIL, f"{directory} is not writable by this user: no cassette is written"
        )
    parent = directory.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
        return Finding("directory", OK, f"{directory} will be created on the first cassette")
    return Finding(
        "directory",
        FAIL,
        f"{directory} does not exist and cannot be created ({parent} is not a writable "
        "directory): no cassette is written",
        "set TIMETRACER_DIR to a directory this user can write",
    )


def _instrumentors(env: Mapping[str, str], installed: Installed) -> list[Finding]:
    disabled = {
        name.strip()
        for name in env.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")
        if name.strip()
    }
    findings: list[Finding] = []
    loaded: set[str] = set()
    for ep in installed.entry_points("opentelemetry_instrumentor"):
        label = f"instrumentor {ep.name}"
        provider = f"{ep.distribution or '?'} {ep.version or ''}".strip()
        library = LIBRARIES.get(ep.name)
        library_version = installed.version(library) if library else None
        relevant = ep.name in LIBRARIES
        if "*" in disabled or ep.name in disabled:
            findings.append(
                Finding(
                    label,
                    WARN if relevant else OK,
                    f"{provider}: disabled by OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
                )
            )
        elif ep.library_missing or (library is not None and library_version is None):
            findings.append(Finding(label, OK, f"{provider}: unused, {library} is not installed"))
        elif ep.conflict:
            findings.append(Finding(label, WARN, f"{provider}: not loaded: {ep.conflict}"))
        else:
            loaded.add(ep.name)
            what = f", instruments {library} {library_version}" if library else ""
            if ep.name in OWN_INSTRUMENTORS:
                what = f", timetracer's own (used in {OWN_INSTRUMENTORS[ep.name]} mode)"
            findings.append(Finding(label, OK, f"{provider}{what}"))
    if installed.version("pymongo") and "pymongo" not in loaded:
        findings.append(
            Finding(
                "instrumentors",
                WARN,
                "pymongo is installed but not instrumented: MongoDB calls are not recorded",
                "pip install 'timetracer[pymongo]'",
            )
        )
    if not loaded.intersection(WEB_INSTRUMENTORS):
        findings.append(
            Finding(
                "instrumentors",
                WARN,
                "no web framework instrumentor is loaded: requests are not recorded",
                "pip install 'timetracer[starlette]' (or fastapi, "
                "litestar) for the framework the app uses",
            )
        )
    return findings


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2])


def _conflicts(env: Mapping[str, str], installed: Installed) -> list[Finding]:
    findings = []
    squatted = installed.version(SQUATTED)
    if squatted is not None:
        findings.append(
            Finding(
                "conflict",
                FAIL,
                f"{SQUATTED} {squatted} is installed: it is not an OpenTelemetry project "
                "package (the name is taken by someone else) and must not run in your app",
                f"pip uninstall {SQUATTED}; timetracer instruments Litestar itself "
                "(pip install 'timetracer[litestar]')",
            )
        )
    fastapi = installed.version("fastapi")
    native = fastapi is not None and (
        installed.has_file("fastapi", "fastapi/telemetry/__init__.py")
        or _version_tuple(fastapi) >= FASTAPI_NATIVE_TRACING
    )
    if native:
        contrib = installed.version("opentelemetry-instrumentation-fastapi")
        disabled = env.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "")
        if contrib and "fastapi" not in {d.strip() for d in disabled.split(",")}:
            findings.append(
                Finding(
                    "fastapi",
                    OK,
                    f"FastAPI {fastapi} traces requests natively; it stands "
                    "aside when the contrib FastAPI instrumentor wraps the app, which "
                    f"opentelemetry-instrumentation-fastapi {contrib} does here",
                )
            )
        else:
            findings.append(
                Finding(
                    "fastapi",
                    WARN,
                    f"FastAPI {fastapi} traces requests natively and the "
                    "contrib FastAPI instrumentor is not in use: its spans are not the ones "
                    "timetracer records from, and a request can become two root traces",
                    "pip install 'timetracer[fastapi]' and leave its instrumentor enabled "
                    "(FastAPI then turns its own tracing off)",
                )
            )
    return findings

"""The ``auto_setup`` scenarios every framework's tests run, and what they assert with.

Each framework module gets one result per scenario from a module-scoped fixture, so its tests
(one behaviour each) share a handful of processes that run side by side:

- ``record``: ``auto_setup(app, TraceConfig(mode="record", ...))`` once;
- ``twice``: ``auto_setup`` applied twice, configured by ``TIMETRACER_*`` variables;
- ``user_provider``: the app set its own TracerProvider and exporter first;
- ``preinstrumented``: the app was instrumented with plain OpenTelemetry first;
- ``off``: mode ``off``;
- ``launched``: uvicorn under ``opentelemetry-instrument`` serving a module that calls it;
- then ``replay``: mode ``replay`` over ``record``'s cassettes, the database replaced by a
  listener that counts connection attempts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.auto_setup_scenarios import RECORDED_REQUESTS, REQUESTS
from tests.integration.scenario_runner import Result, Scenario, run_all

MODULE = "tests.integration.auto_setup_scenarios"
DRIVERS = {"starlette": "async", "fastapi": "pymongo", "litestar": "motor"}
"""Each framework is driven with another MongoDB driver, so all three are covered."""
RECORDED_PATHS = ["/boom", "/items", "/items", "/items/seed", "/items/sku-0001"]
"""Request paths of the cassettes ``REQUESTS`` make, sorted (``/health`` is excluded)."""


def run_framework(
    framework: str, mongo_uri: str, workdir: Path, extra: dict[str, dict[str, Any]] | None = None
) -> dict[str, Result]:
    """Run every scenario for ``framework``; return the results by scenario name.

    ``extra`` adds ``serve`` scenarios: name -> arguments (``options`` for TraceConfig...).
    """
    driver = DRIVERS[framework]

    def serve(name: str, env: dict[str, str] | None = None, **args: Any) -> Scenario:
        arguments = {
            "framework": framework,
            "driver": driver,
            "uri": mongo_uri,
            "db": f"auto_{framework}_{name}",
            "cassette_dir": str(workdir / name),
            **args,
        }
        return Scenario(MODULE, "serve", arguments, env or {})

    first = {
        "record": serve("record"),
        "twice": serve(
            "twice",
            env={"TIMETRACER_MODE": "record", "TIMETRACER_DIR": str(workdir / "twice")},
            calls=2,
            from_env=True,
        ),
        "user_provider": serve("user_provider", with_user_provider=True),
        "preinstrumented": serve("preinstrumented", preinstrumented=True, with_user_provider=True),
        "off": serve("off", mode="off"),
        "launched": Scenario(
            MODULE,
            "launched",
            {
                "framework": framework,
                "driver": driver,
                "uri": mongo_uri,
                "db": f"auto_{framework}_launched",
                "cassette_dir": str(workdir / "launched" / "cassettes"),
                "calls": 2,
            },
        ),
    }
    first.update({name: serve(name, **args) for name, args in (extra or {}).items()})
    (workdir / "launched").mkdir(parents=True, exist_ok=True)
    results = run_all(first, workdir / "output")
    replay = serve(
        "replay", mode="replay", db=f"auto_{framework}_record", cassette_dir=str(workdir / "record")
    )
    results.update(run_all({"replay": replay}, workdir / "output"))
    return results


def recorded_paths(result: Result) -> list[str]:
    """The request path of every cassette a scenario wrote, sorted."""
    return sorted(c["path"] for c in result["cassettes"])


def cassette_for(result: Result, method: str, path: str) -> dict[str, Any]:
    """The one cassette of ``method path``."""
    found = [c for c in result["cassettes"] if c["method"] == method and c["path"] == path]
    if len(found) != 1:
        raise AssertionError(f"{len(found)} cassettes of {method} {path}: {result['cassettes']}")
    return found[0]


def responses_by_request(result: Result) -> dict[tuple[str, str], dict[str, Any]]:
    """The responses a scenario got, by (method, url)."""
    return {(r["method"], r["url"]): r for r in result["responses"]}


def replay_differences(recorded: Result, replayed: Result) -> list[str]:
    """Where the replayed responses differ from the recorded run's.

    ``POST /items`` answers with the id of the inserted document, which the driver generates
    anew in every run (replay reports it as noise): only its status is compared.
    """
    before, after = responses_by_request(recorded), responses_by_request(replayed)
    differences = []
    for method, url, _ in REQUESTS:
        old, new = before[(method, url)], after[(method, url)]
        if old["status"] != new["status"]:
            differences.append(f"{method} {url}: status {old['status']} -> {new['status']}")
        elif (method, url) != ("POST", "/items") and old["body"] != new["body"]:
            differences.append(f"{method} {url}: body {old['body']!r} -> {new['body']!r}")
    return differences


__all__ = [
    "RECORDED_PATHS",
    "RECORDED_REQUESTS",
    "REQUESTS",
    "cassette_for",
    "recorded_paths",
    "replay_differences",
    "responses_by_request",
    "run_framework",
]

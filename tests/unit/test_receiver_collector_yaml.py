"""``otel-collector.yaml``: every pipeline uses components that are defined, in a sane order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from timetracer import attributes as attr

CONFIG = Path(__file__).resolve().parents[2] / "otel-collector.yaml"
KINDS = ("receivers", "processors", "exporters")
# Component types of otelcol-contrib v0.159.0 that this file may use (docs/collector.md).
KNOWN_TYPES = {
    "receivers": {"otlp"},
    "processors": {"memory_limiter", "tail_sampling", "attributes", "batch", "transform"},
    "exporters": {"otlp_http", "otlp_grpc", "debug"},
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG.read_text())
    assert isinstance(loaded, dict)
    return loaded


def pipelines(config: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    return config["service"]["pipelines"]


def test_every_pipeline_names_only_defined_components(config: dict[str, Any]) -> None:
    assert pipelines(config)
    for name, pipeline in pipelines(config).items():
        assert pipeline.get("receivers"), name
        assert pipeline.get("exporters"), name
        for kind in KINDS:
            defined = set(config.get(kind) or {})
            for component in pipeline.get(kind, []):
                assert component in defined, f"{name} uses {kind[:-1]} {component!r}, not defined"


def test_every_defined_component_is_used_and_of_a_known_type(config: dict[str, Any]) -> None:
    for kind in KINDS:
        used = {c for pipeline in pipelines(config).values() for c in pipeline.get(kind, [])}
        for component in config.get(kind) or {}:
            assert component in used, f"{kind[:-1]} {component!r} is defined but never used"
            assert component.split("/", 1)[0] in KNOWN_TYPES[kind], component


def test_memory_limiter_comes_first_in_every_pipeline(config: dict[str, Any]) -> None:
    for name, pipeline in pipelines(config).items():
        assert pipeline["processors"][0] == "memory_limiter", name


def test_the_cassette_pipeline_tail_samples_errors_slow_and_a_share_of_the_rest(
    config: dict[str, Any],
) -> None:
    timetracer = pipelines(config)["traces/timetracer"]
    assert "tail_sampling" in timetracer["processors"]
    policies = {p["type"]: p for p in config["processors"]["tail_sampling"]["policies"]}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    assert policies["latency"]["latency"]["threshold_ms"] > 0
    assert 0 < policies["probabilistic"]["probabilistic"]["sampling_percentage"] < 100
    exporter = config["exporters"][timetracer["exporters"][0]]
    assert exporter["traces_endpoint"].endswith("/v1/traces")
    assert exporter["compression"] in ("gzip", "deflate", "none")


def test_the_backend_pipeline_deletes_exactly_the_payload_attributes(
    config: dict[str, Any],
) -> None:
    backend = pipelines(config)["traces/backend"]
    assert "tail_sampling" not in backend["processors"]
    deletes = [
        action["pattern"]
        for processor in backend["processors"]
        if processor.startswith("attributes")
        for action in config["processors"][processor]["actions"]
        if action["action"] == "delete"
    ]
    assert deletes

    def matches(key: str) -> bool:
        # Go's RE2 and Python's re agree on a pattern this simple.
        return any(re.search(pattern, key) for pattern in deletes)

    assert matches(attr.MONGO_REPLY)
    assert matches(attr.HTTP_REQUEST_BODY)
    assert not matches("http.route")
    assert not matches("db.system.name")
    assert not matches("xtimetracer.payload.y")

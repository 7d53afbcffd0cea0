"""``TimetracerConfigurator``: the SDK configurator that hands the cassette exporter its config."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._configuration import _OTelSDKConfigurator

from timetracer.config import startup_config


class TimetracerConfigurator(_OTelSDKConfigurator):  # type: ignore[misc]
    """The SDK's own configurator, with the ``timetracer`` exporter built from ``TIMETRACER_*``."""

    def _configure(self, **kwargs: Any) -> None:
        from timetracer_exporter import CassetteSpanExporter

        exporter_args = dict(kwargs.pop("exporter_args_map", None) or {})
        exporter_args.setdefault(CassetteSpanExporter, {"config": startup_config()})
        super()._configure(exporter_args_map=exporter_args, **kwargs)

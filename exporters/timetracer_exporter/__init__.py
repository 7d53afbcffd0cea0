"""The cassette span exporter: finished spans in, one cassette file per request out."""

from timetracer_exporter.exporter import CassetteSpanExporter, ExporterStats
from timetracer_exporter.pending import PendingTraces

__all__ = ["CassetteSpanExporter", "ExporterStats", "PendingTraces"]

"""timetracer: record web requests and their database calls as OTLP cassettes; replay offline."""

from timetracer.version import __version__

__all__ = ["__version__"]

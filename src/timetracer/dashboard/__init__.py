"""The dashboard: a directory of cassettes as a page, written as one file or served live."""

from timetracer.dashboard.catalog import CassetteCatalog, Listing
from timetracer.dashboard.server import DashboardServer
from timetracer.dashboard.snapshot import Snapshot, take_snapshot

__all__ = ["CassetteCatalog", "DashboardServer", "Listing", "Snapshot", "take_snapshot"]

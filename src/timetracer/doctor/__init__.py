"""``timetracer doctor``: why nothing gets recorded, found by looking at the installation."""

from timetracer.doctor.checks import run_checks
from timetracer.doctor.findings import FAIL, OK, WARN, Finding
from timetracer.doctor.installed import EntryPointInfo, Installed, InstalledPackages

__all__ = [
    "FAIL",
    "OK",
    "WARN",
    "EntryPointInfo",
    "Finding",
    "Installed",
    "InstalledPackages",
    "run_checks",
]

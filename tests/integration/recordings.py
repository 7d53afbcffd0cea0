"""Recording the shop scenario once per framework and driver, shared by record and replay tests."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.integration.launcher import launched_app
from tests.support.nx_server import MongoEndpoint

CONCURRENT = 20
SEEDED = 250
COMBOS = [
    (framework, driver)
    for framework in ("starlette", "litestar", "fastapi")
    for driver in ("pymongo", "async", "motor")
]
# (method, url, JSON body, expected status): every operation the record issue lists.
SCENARIO = [
    ("POST", f"/items/seed?n={SEEDED}", None, 200),
    ("GET", "/items", None, 200),
    ("GET", "/items/sku-0001", None, 200),
    ("POST", "/items", {"sku": "new-1", "name": "New", "price": 9.5, "qty": 3}, 201),
    ("PATCH", "/items/sku-0002", {"qty": 99}, 200),
    ("DELETE", "/items/sku-0003", None, 200),
    ("GET", "/stats", None, 200),
    ("POST", "/items/bulk", None, 200),
    ("POST", "/items/dup", None, 409),
    ("GET", "/boom", None, 500),
]


def db_name(framework: str, driver: str) -> str:
    return f"rec_{framework}_{driver}"


def record_env(
    framework: str, driver: str, mongo: MongoEndpoint, cassettes: Path
) -> dict[str, str]:
    """The environment that records the shop app under the launcher."""
    return {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "OTEL_SERVICE_NAME": f"shop-{framework}-{driver}",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": str(cassettes),
        "TT_APP_FRAMEWORK": framework,
        "TT_APP_DRIVER": driver,
        "TT_APP_DB": db_name(framework, driver),
        "MONGODB_URI": mongo.uri,
    }


def drive_scenario(base_url: str) -> int:
    """Send the scenario and 20 concurrent single-item reads; return how many requests."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for method, url, body, status in SCENARIO:
            response = client.request(
                method, url, json=body, headers={"Authorization": "Bearer s3cret-token"}
            )
            assert response.status_code == status, (method, url, response.text)

    def get_one(index: int) -> int:
        with httpx.Client(base_url=base_url, timeout=30) as one:
            return one.get(f"/items/sku-{index:04d}").status_code

    with concurrent.futures.ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(get_one, range(10, 10 + CONCURRENT)))
    assert statuses == [200] * CONCURRENT
    return len(SCENARIO) + CONCURRENT


@dataclass
class Recording:
    """A recorded scenario: its cassettes and how many requests were sent."""

    cassette_dir: Path
    sent: int
    log: str


class Recordings:
    """Records each framework/driver combination on first request, then reuses it."""

    def __init__(self, mongo: MongoEndpoint, root: Path) -> None:
        self.mongo = mongo
        self.root = root
        self._done: dict[tuple[str, str], Recording] = {}

    def get(self, framework: str, driver: str) -> Recording:
        key = (framework, driver)
        if key not in self._done:
            workdir = self.root / f"{framework}-{driver}"
            workdir.mkdir(parents=True)
            cassettes = workdir / "cassettes"
            env = record_env(framework, driver, self.mongo, cassettes)
            with launched_app("tests.apps.shop:app", env, workdir) as app:
                sent = drive_scenario(app.base_url)
            self._done[key] = Recording(cassettes, sent, app.output())
        return self._done[key]

"""``enable_motor`` / ``disable_motor`` with Motor and with the same code on AsyncMongoClient:
record in a root span against a real server, then replay with the database replaced by a
listener that counts connection attempts. Each scenario runs in its own process."""

from __future__ import annotations

import pytest

from tests.integration.scenario_runner import Result, Scenario, run_all
from tests.support.nx_server import MongoEndpoint

MODULE = "tests.integration.plugin_scenarios"
DRIVERS = ("motor", "async")
ITEM = {"sku": "a-1", "qty": 7}


@pytest.fixture(scope="module")
def results(mongo: MongoEndpoint, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    workdir = tmp_path_factory.mktemp("plugins-motor")
    recorded = run_all(
        {
            f"record_{driver}": Scenario(
                MODULE,
                "motor_record",
                {
                    "driver": driver,
                    "uri": mongo.uri,
                    "db": f"plug_{driver}",
                    "cassette_dir": str(workdir / driver),
                },
            )
            for driver in DRIVERS
        },
        workdir / "output",
    )
    replayed = run_all(
        {
            f"replay_{driver}": Scenario(
                MODULE,
                "motor_replay",
                {
                    "driver": driver,
                    "cassette": recorded[f"record_{driver}"]["cassettes"][0]["path"],
                    "db": f"plug_{driver}",
                },
            )
            for driver in DRIVERS
        },
        workdir / "output",
    )
    return {**recorded, **replayed}


@pytest.mark.parametrize("driver", DRIVERS)
def test_enable_motor_records_commands_inside_a_root_span(
    results: dict[str, Result], driver: str
) -> None:
    record = results[f"record_{driver}"]
    assert (record["found"], record["listed"]) == (ITEM, [ITEM])
    [cassette] = record["cassettes"]
    assert cassette["root"] == f"job-{driver}"
    assert (cassette["calls"], cassette["replies"]) == (["insert", "find", "find"], 3)


@pytest.mark.parametrize("driver", DRIVERS)
def test_enable_motor_is_idempotent_and_shared_with_enable_pymongo(
    results: dict[str, Result], driver: str
) -> None:
    # enable twice, then enable_pymongo: Motor runs PyMongo underneath, one state for both.
    assert results[f"record_{driver}"]["enable"] == [True, False, False]


@pytest.mark.parametrize("driver", DRIVERS)
def test_disable_motor_undoes_enable_once(results: dict[str, Result], driver: str) -> None:
    assert results[f"record_{driver}"]["disable"] == [True, False]


@pytest.mark.parametrize("driver", DRIVERS)
def test_replay_answers_from_the_cassette_with_the_database_down(
    results: dict[str, Result], driver: str
) -> None:
    replay = results[f"replay_{driver}"]
    assert replay["enabled"] is True
    assert (replay["found"], replay["listed"]) == (ITEM, [ITEM])
    assert replay["misses"] == 0
    assert replay["database_connections"] == 0


@pytest.mark.parametrize("driver", DRIVERS)
def test_disable_motor_after_replay_restores_client_construction(
    results: dict[str, Result], driver: str
) -> None:
    replay = results[f"replay_{driver}"]
    assert (replay["disabled"], replay["redirected_after"]) == (True, False)

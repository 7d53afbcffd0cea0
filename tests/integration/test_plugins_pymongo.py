"""``enable_pymongo`` / ``disable_pymongo`` against a real server (nx-27017, or MONGODB_URI), each
scenario in its own process (see ``plugin_scenarios``): record with a root span, replay with
the database replaced by a listener that counts connection attempts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.scenario_runner import Result, Scenario, run_all
from tests.support.nx_server import MongoEndpoint

MODULE = "tests.integration.plugin_scenarios"
ITEM = {"sku": "a-1", "qty": 7}


@pytest.fixture(scope="module")
def results(mongo: MongoEndpoint, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    workdir = tmp_path_factory.mktemp("plugins-pymongo")
    uri = mongo.uri

    def scenario(name: str, env: dict[str, str] | None = None, **args: object) -> Scenario:
        return Scenario(MODULE, name, args, env or {})

    recorded = run_all(
        {
            "record_cycle": scenario(
                "record_cycle", uri=uri, db="plug_cycle", cassette_dir=str(workdir / "cycle")
            ),
            "record_from_env": scenario(
                "record_from_env",
                {"TIMETRACER_MODE": "record", "TIMETRACER_DIR": str(workdir / "env")},
                uri=uri,
                db="plug_env",
            ),
            "user_hooks": scenario(
                "user_hooks", uri=uri, db="plug_hooks", cassette_dir=str(workdir / "hooks")
            ),
            "user_provider": scenario(
                "user_provider", uri=uri, db="plug_provider", cassette_dir=str(workdir / "provider")
            ),
            "off": scenario("off"),
            "replay_live": scenario(
                "replay_live", {"TIMETRACER_MODE": "replay", "TIMETRACER_LIVE": "mongodb"}
            ),
            "under_launcher": Scenario(
                MODULE,
                "under_launcher",
                {"uri": uri, "db": "plug_launcher"},
                {"TIMETRACER_MODE": "record", "TIMETRACER_DIR": str(workdir / "launcher")},
                launcher=True,
            ),
        },
        workdir / "output",
    )
    cassette = recorded["record_cycle"]["after_first"][0]["path"]
    replayed = run_all(
        {
            "replay_block": scenario("replay_block", cassette=cassette, db="plug_cycle"),
            "replay_pinned": scenario(
                "replay_pinned",
                {"TIMETRACER_MODE": "replay", "TIMETRACER_CASSETTE": cassette},
                db="plug_cycle",
            ),
            "beside_server_mode": scenario(
                "replay_pinned_beside_server_mode",
                {
                    "TIMETRACER_MODE": "replay",
                    "TIMETRACER_CASSETTE": cassette,
                    "TIMETRACER_DIR": str(Path(cassette).parent),
                },
                db="plug_cycle",
            ),
        },
        workdir / "output",
    )
    return {**recorded, **replayed}


def roots(cassettes: list[dict[str, object]]) -> list[object]:
    return [c["root"] for c in cassettes]


def test_enable_records_commands_inside_a_root_span(results: dict[str, Result]) -> None:
    cycle = results["record_cycle"]
    assert cycle["found"] == ITEM
    [cassette] = cycle["after_first"]
    assert cassette["root"] == "job-enabled"
    assert cassette["calls"] == ["insert", "find"]
    assert cassette["replies"] == 2


def test_commands_outside_any_span_are_not_recorded(results: dict[str, Result]) -> None:
    # The set-up's delete_many ran with no span around it.
    assert all("delete" not in c["calls"] for c in results["record_cycle"]["final"])


def test_cassettes_know_the_recorded_server(results: dict[str, Result]) -> None:
    # The heartbeat listener enable_pymongo registers tells replay what to mirror.
    assert results["record_cycle"]["after_first"][0]["server_known"] is True


def test_enable_twice_changes_nothing_the_second_time(results: dict[str, Result]) -> None:
    assert results["record_cycle"]["enable"] == [True, False]


def test_disable_stops_recording_and_a_second_disable_does_nothing(
    results: dict[str, Result],
) -> None:
    cycle = results["record_cycle"]
    assert cycle["disable"] == [True, False]
    assert roots(cycle["after_disable"]) == ["job-enabled"]


def test_disable_restores_an_uninstrumented_pymongo(results: dict[str, Result]) -> None:
    cycle = results["record_cycle"]
    assert cycle["tracer_before"] is False
    assert cycle["hooks_after_disable_are_dummies"] is True
    assert cycle["instrumented_after_disable"] is False


def test_enable_after_disable_records_again(results: dict[str, Result]) -> None:
    cycle = results["record_cycle"]
    assert cycle["reenable"] is True
    assert roots(cycle["final"]) == ["job-enabled", "job-reenabled"]


def test_mode_comes_from_the_environment_without_a_config(results: dict[str, Result]) -> None:
    from_env = results["record_from_env"]
    assert from_env["enabled"] is True
    assert roots(from_env["cassettes"]) == ["job-env"]


def test_an_apps_own_pymongo_hooks_keep_running_while_enabled(
    results: dict[str, Result],
) -> None:
    hooks = results["user_hooks"]
    assert hooks["enabled"] is True
    assert hooks["counts_while_enabled"] == {"start": 3, "success": 2, "failed": 1}
    [cassette] = hooks["recorded"]
    assert (cassette["calls"], cassette["failures"]) == (["insert", "find", "aggregate"], 1)


def test_disable_puts_the_apps_own_hooks_back(results: dict[str, Result]) -> None:
    hooks = results["user_hooks"]
    assert hooks["disabled"] is True
    assert hooks["hooks_restored"] is True
    # pymongo stays instrumented (the app did it) and the app's hooks still run.
    assert hooks["still_instrumented"] is True
    assert hooks["counts_after_disable"]["start"] > hooks["counts_while_enabled"]["start"]
    assert roots(hooks["final"]) == ["job-chained"]


def test_a_users_tracer_provider_is_kept_and_its_exporter_gets_the_spans(
    results: dict[str, Result],
) -> None:
    provider = results["user_provider"]
    assert provider["provider_kept"] is True
    assert {"job-user-provider", "plug_provider.insert", "plug_provider.find"} <= set(
        provider["user_spans"]
    )
    assert provider["user_payload_spans"] == 2
    assert roots(provider["cassettes"]) == ["job-user-provider"]


def test_mode_off_changes_nothing(results: dict[str, Result]) -> None:
    off = results["off"]
    assert off["enable"] == [False, False]
    assert off["disable"] is False
    assert (off["command_tracer"], off["instrumented"], off["redirected"]) == (False, False, False)


def test_under_opentelemetry_instrument_commands_are_recorded_once(
    results: dict[str, Result],
) -> None:
    launched = results["under_launcher"]
    assert launched["enabled"] is False  # the distro records already
    assert launched["disabled"] is False
    [cassette] = launched["cassettes"]
    assert cassette["calls"] == ["insert", "find"]


def test_replay_block_answers_from_the_cassette_with_the_database_down(
    results: dict[str, Result],
) -> None:
    block = results["replay_block"]
    assert block["enable"] == [True, False]
    assert block["found"] == ITEM
    assert block["misses"] == 0
    assert block["noise"] == 1  # the inserted document's client-generated _id
    assert block["database_connections"] == 0


def test_replay_answers_commands_outside_a_block_with_a_diagnosis(
    results: dict[str, Result],
) -> None:
    outside = results["replay_block"]["outside_block"]
    assert "no recorded MongoDB call answers find on plug_cycle.items" in outside


def test_disable_after_replay_restores_client_construction(results: dict[str, Result]) -> None:
    block = results["replay_block"]
    assert block["disable"] == [True, False]
    assert block["redirected"] == [False, True, False]
    assert block["seeds_after"] == [f"127.0.0.1:{block['database_port']}"]


def test_a_pinned_cassette_answers_every_command(results: dict[str, Result]) -> None:
    pinned = results["replay_pinned"]
    assert pinned["enabled"] is True
    assert pinned["found"] == ITEM
    assert pinned["database_connections"] == 0


def test_mongodb_kept_live_in_replay_leaves_clients_alone(results: dict[str, Result]) -> None:
    live = results["replay_live"]
    assert live["enabled"] is False
    assert live["redirected"] is False
    assert live["seeds"] == [f"127.0.0.1:{live['database_port']}"]


def test_a_pinned_cassette_answers_a_script_beside_server_mode_replay(
    results: dict[str, Result],
) -> None:
    # A script importing an app module that calls auto_setup: server-mode replay redirects
    # the clients, and the pinned cassette answers what no request claims, until disabled.
    beside = results["beside_server_mode"]
    assert (beside["enabled"], beside["disabled"]) == (True, True)
    assert beside["found"] == ITEM
    assert beside["default_after_disable"] is True
    assert beside["database_connections"] == 0

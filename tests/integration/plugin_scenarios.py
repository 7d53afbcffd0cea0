"""Scenarios for ``enable_pymongo`` / ``enable_motor`` and their ``disable_*``, one per process.

``python -m tests.integration.plugin_scenarios record_cycle '{"uri": ..., ...}'`` runs one
scenario and prints what it saw (see ``scenario_runner``). Recording scenarios open a root span
around their MongoDB calls, as a script would; replay scenarios point their clients at a
listener that counts connection attempts, where the database would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor, dummy_callback
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import OperationFailure

from tests.integration.refused import counting_listener
from tests.integration.scenario_runner import Result, main
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.config import TraceConfig
from timetracer.plugins import disable_motor, disable_pymongo, enable_motor, enable_pymongo
from timetracer_replay.session import replay_cassette

SELECT_TIMEOUT = "serverSelectionTimeoutMS=3000"
ITEM = {"sku": "a-1", "qty": 7}


def cassettes_in(directory: str) -> list[dict[str, Any]]:
    """Each cassette's root span name and MongoDB commands, oldest first."""
    if not Path(directory).is_dir():
        return []
    found = []
    for path in iter_cassette_paths(Path(directory)):
        cassette = load_cassette(path)
        found.append(
            {
                "path": str(path),
                "root": cassette.root_name,
                "start": cassette.start_ns,
                "calls": [call.command_name for call in cassette.calls],
                "replies": sum(call.reply_bson is not None for call in cassette.calls),
                "failures": sum(call.failure_bson is not None for call in cassette.calls),
                "server_known": any(call.server_bson is not None for call in cassette.calls),
            }
        )
    return sorted(found, key=lambda c: c["start"])


def with_timeout(uri: str) -> str:
    """``uri`` with a short server selection timeout, so a mistake fails fast."""
    if "?" in uri:
        return f"{uri}&{SELECT_TIMEOUT}"
    return f"{uri}{'' if uri.endswith('/') else '/'}?{SELECT_TIMEOUT}"


def flush() -> None:
    """Write every pending cassette now."""
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if callable(force_flush):
        force_flush()


def command_tracer() -> Any:
    """contrib's process-wide pymongo listener (None before the first ``instrument()``)."""
    return getattr(PymongoInstrumentor(), "_commandtracer_instance", None)


def hooks() -> tuple[Any, Any, Any] | None:
    tracer = command_tracer()
    if tracer is None:
        return None
    return (tracer.start_hook, tracer.success_hook, tracer.failed_hook)


def client_redirected() -> bool:
    """Whether MongoClient construction is wrapped (by replay's client redirection)."""
    return hasattr(MongoClient.__init__, "__wrapped__")


def seeds(client: Any) -> list[str]:
    """Where a client (constructed with ``connect=False``) would connect."""
    return sorted(
        f"{host}:{port}" for host, port in client.topology_description.server_descriptions()
    )


def sync_job(uri: str, db: str, root: str) -> dict[str, Any]:
    """Insert then read back an item inside a root span named ``root``, with a new client."""
    client: MongoClient[dict[str, Any]] = MongoClient(with_timeout(uri))
    items = client[db].items
    try:
        with trace.get_tracer("scenario").start_as_current_span(root):
            items.insert_one(dict(ITEM))
            found = items.find_one({"sku": ITEM["sku"]}, {"_id": 0})
    finally:
        client.close()
    return dict(found or {})


def record_cycle(uri: str, db: str, cassette_dir: str) -> Result:
    """enable twice, record, disable twice, nothing recorded, enable again, record again."""
    config = TraceConfig(mode="record", cassette_dir=cassette_dir)
    before = hooks()
    first, second = enable_pymongo(config), enable_pymongo(config)
    client: MongoClient[dict[str, Any]] = MongoClient(with_timeout(uri))
    client[db].items.delete_many({})  # outside any span: a script's set-up, not recorded
    client.close()
    found = sync_job(uri, db, "job-enabled")
    flush()
    after_first = cassettes_in(cassette_dir)
    disabled, disabled_again = disable_pymongo(), disable_pymongo()
    hooks_after_disable = hooks()
    sync_job(uri, db, "job-disabled")
    flush()
    after_disable = cassettes_in(cassette_dir)
    reenabled = enable_pymongo(config)
    sync_job(uri, db, "job-reenabled")
    flush()
    final = cassettes_in(cassette_dir)
    disable_pymongo()
    return {
        "tracer_before": before is not None,
        "enable": [first, second],
        "disable": [disabled, disabled_again],
        "reenable": reenabled,
        "found": found,
        "after_first": after_first,
        "after_disable": after_disable,
        "final": final,
        "hooks_after_disable_are_dummies": hooks_after_disable
        == (dummy_callback, dummy_callback, dummy_callback),
        "instrumented_after_disable": bool(PymongoInstrumentor().is_instrumented_by_opentelemetry),
        "provider": type(trace.get_tracer_provider()).__name__,
    }


def record_from_env(uri: str, db: str) -> Result:
    """``enable_pymongo()`` with no config reads TIMETRACER_MODE and TIMETRACER_DIR."""
    import os

    enabled = enable_pymongo()
    sync_job(uri, db, "job-env")
    flush()
    return {"enabled": enabled, "cassettes": cassettes_in(os.environ["TIMETRACER_DIR"])}


def user_hooks(uri: str, db: str, cassette_dir: str) -> Result:
    """The app instrumented pymongo itself with its own hooks before ``enable_pymongo``."""
    counts = {"start": 0, "success": 0, "failed": 0}

    def count(kind: str) -> Any:
        def hook(span: Any, event: Any) -> None:
            counts[kind] += 1

        return hook

    PymongoInstrumentor().instrument(
        request_hook=count("start"), response_hook=count("success"), failed_hook=count("failed")
    )
    own = hooks()
    enabled = enable_pymongo(TraceConfig(mode="record", cassette_dir=cassette_dir))
    client: MongoClient[dict[str, Any]] = MongoClient(with_timeout(uri))
    with trace.get_tracer("scenario").start_as_current_span("job-chained"):
        client[db].items.insert_one(dict(ITEM))
        client[db].items.find_one({"sku": ITEM["sku"]})
        # The server refuses it: recorded as a failure, and the app's failed hook sees it.
        with contextlib.suppress(OperationFailure):
            client[db].items.aggregate([{"$noSuchStage": 1}])
    flush()
    while_enabled = dict(counts)
    recorded = cassettes_in(cassette_dir)
    disabled = disable_pymongo()
    restored = hooks() == own
    with trace.get_tracer("scenario").start_as_current_span("job-after"):
        client[db].items.find_one({"sku": ITEM["sku"]})
    flush()
    client.close()
    return {
        "enabled": enabled,
        "disabled": disabled,
        "counts_while_enabled": while_enabled,
        "counts_after_disable": counts,
        "hooks_restored": restored,
        "still_instrumented": bool(PymongoInstrumentor().is_instrumented_by_opentelemetry),
        "recorded": recorded,
        "final": cassettes_in(cassette_dir),
    }


def user_provider(uri: str, db: str, cassette_dir: str) -> Result:
    """The app configured its own TracerProvider and exporter before ``enable_pymongo``."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "user-script"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
    enabled = enable_pymongo(TraceConfig(mode="record", cassette_dir=cassette_dir))
    sync_job(uri, db, "job-user-provider")
    flush()
    spans = memory.get_finished_spans()
    return {
        "enabled": enabled,
        "provider_kept": trace.get_tracer_provider() is provider,
        "user_spans": sorted(s.name for s in spans),
        "user_payload_spans": sum(
            any(k.startswith("timetracer.payload.") for k in (s.attributes or {})) for s in spans
        ),
        "cassettes": cassettes_in(cassette_dir),
    }


def off() -> Result:
    """Mode off, explicitly and from an empty environment: nothing changes."""
    explicit = enable_pymongo(TraceConfig(mode="off"))
    from_env = enable_pymongo()
    return {
        "enable": [explicit, from_env],
        "disable": disable_pymongo(),
        "command_tracer": command_tracer() is not None,
        "instrumented": bool(PymongoInstrumentor().is_instrumented_by_opentelemetry),
        "redirected": client_redirected(),
    }


def replay_block(cassette: str, db: str) -> Result:
    """Replay mode answers a ``replay_cassette`` block; disable restores client construction."""
    config = TraceConfig(mode="replay", cassette_dir=str(Path(cassette).parent))
    redirected_before = client_redirected()
    first, second = enable_pymongo(config), enable_pymongo(config)
    redirected_while = client_redirected()
    with counting_listener() as database:
        with replay_cassette(cassette) as scope:
            client: MongoClient[dict[str, Any]] = MongoClient(database.uri)
            client[db].items.insert_one(dict(ITEM))
            found = client[db].items.find_one({"sku": ITEM["sku"]}, {"_id": 0})
        try:
            client[db].items.find_one({"sku": "not-recorded"})
            outside = "answered"
        except OperationFailure as error:
            outside = str(error)
        client.close()
        disabled, disabled_again = disable_pymongo(), disable_pymongo()
        after: MongoClient[dict[str, Any]] = MongoClient(database.uri, connect=False)
        seeds_after = seeds(after)
        after.close()
        return {
            "enable": [first, second],
            "disable": [disabled, disabled_again],
            "redirected": [redirected_before, redirected_while, client_redirected()],
            "found": dict(found or {}),
            "noise": len(scope.noise),
            "misses": len(scope.misses),
            "outside_block": outside,
            "seeds_after": seeds_after,
            "database_port": database.port,
            "database_connections": database.count,
        }


def replay_pinned(db: str) -> Result:
    """TIMETRACER_MODE=replay with TIMETRACER_CASSETTE: every command answered, no block."""
    enabled = enable_pymongo()
    with counting_listener() as database:
        client: MongoClient[dict[str, Any]] = MongoClient(database.uri)
        client[db].items.insert_one(dict(ITEM))
        found = client[db].items.find_one({"sku": ITEM["sku"]}, {"_id": 0})
        client.close()
        disable_pymongo()
        return {
            "enabled": enabled,
            "found": dict(found or {}),
            "database_connections": database.count,
        }


def replay_pinned_beside_server_mode(db: str) -> Result:
    """A script that imports an app calling ``auto_setup`` in replay mode: server-mode replay
    runs, and the pinned cassette answers the commands no request claims."""
    from starlette.applications import Starlette

    from timetracer.integrations.starlette import auto_setup
    from timetracer_replay.instrumentor import ReplayInstrumentor

    auto_setup(Starlette())
    enabled = enable_pymongo()
    with counting_listener() as database:
        client: MongoClient[dict[str, Any]] = MongoClient(database.uri)
        client[db].items.insert_one(dict(ITEM))
        found = client[db].items.find_one({"sku": ITEM["sku"]}, {"_id": 0})
        client.close()
        disabled = disable_pymongo()
        session = ReplayInstrumentor().session
        return {
            "enabled": enabled,
            "disabled": disabled,
            "found": dict(found or {}),
            "default_after_disable": session is not None and session.answerer.default is None,
            "database_connections": database.count,
        }


def replay_live() -> Result:
    """TIMETRACER_MODE=replay with TIMETRACER_LIVE=mongodb: clients are left alone."""
    enabled = enable_pymongo()
    with counting_listener() as database:
        client: MongoClient[dict[str, Any]] = MongoClient(database.uri, connect=False)
        where = seeds(client)
        client.close()
        return {
            "enabled": enabled,
            "redirected": client_redirected(),
            "seeds": where,
            "database_port": database.port,
        }


def under_launcher(uri: str, db: str) -> Result:
    """Under ``opentelemetry-instrument`` in record mode the distro records already."""
    import os

    enabled = enable_pymongo()
    found = sync_job(uri, db, "job-launcher")
    flush()
    return {
        "enabled": enabled,
        "disabled": disable_pymongo(),
        "found": found,
        "cassettes": cassettes_in(os.environ["TIMETRACER_DIR"]),
    }


def _async_client(driver: str, uri: str) -> Any:
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(uri)
    return AsyncMongoClient(uri)


async def _close(client: Any) -> None:
    closed = client.close()
    if asyncio.iscoroutine(closed):  # AsyncMongoClient.close() is a coroutine, Motor's is not
        await closed


async def async_job(driver: str, uri: str, db: str, root: str | None) -> dict[str, Any]:
    """Insert, read one and list items with ``driver``, inside a root span if ``root``."""
    client = _async_client(driver, uri)
    items = client[db].items
    try:
        if root is None:
            await items.insert_one(dict(ITEM))
            found = await items.find_one({"sku": ITEM["sku"]}, {"_id": 0})
            listed = await items.find({}, {"_id": 0}).to_list(None)
        else:
            with trace.get_tracer("scenario").start_as_current_span(root):
                await items.insert_one(dict(ITEM))
                found = await items.find_one({"sku": ITEM["sku"]}, {"_id": 0})
                listed = await items.find({}, {"_id": 0}).to_list(None)
    finally:
        await _close(client)
    return {"found": dict(found or {}), "listed": [dict(doc) for doc in listed]}


def motor_record(driver: str, uri: str, db: str, cassette_dir: str) -> Result:
    """``enable_motor`` records Motor and AsyncMongoClient commands in a root span."""
    config = TraceConfig(mode="record", cassette_dir=cassette_dir)
    first, second = enable_motor(config), enable_motor(config)
    also_pymongo = enable_pymongo(config)
    wipe: MongoClient[dict[str, Any]] = MongoClient(with_timeout(uri))
    wipe[db].items.delete_many({})
    wipe.close()
    result = asyncio.run(async_job(driver, with_timeout(uri), db, f"job-{driver}"))
    flush()
    return {
        "enable": [first, second, also_pymongo],
        "disable": [disable_motor(), disable_motor()],
        **result,
        "cassettes": cassettes_in(cassette_dir),
    }


def motor_replay(driver: str, cassette: str, db: str) -> Result:
    """``enable_motor`` in replay mode: a ``replay_cassette`` block answers Motor / async."""
    config = TraceConfig(mode="replay", cassette_dir=str(Path(cassette).parent))
    enabled = enable_motor(config)
    with counting_listener() as database:
        with replay_cassette(cassette) as scope:
            result = asyncio.run(async_job(driver, database.uri, db, None))
        disabled = disable_motor()
        return {
            "enabled": enabled,
            "disabled": disabled,
            **result,
            "misses": len(scope.misses),
            "redirected_after": client_redirected(),
            "database_connections": database.count,
        }


SCENARIOS = {
    "record_cycle": record_cycle,
    "record_from_env": record_from_env,
    "user_hooks": user_hooks,
    "user_provider": user_provider,
    "off": off,
    "replay_block": replay_block,
    "replay_pinned": replay_pinned,
    "replay_pinned_beside_server_mode": replay_pinned_beside_server_mode,
    "replay_live": replay_live,
    "under_launcher": under_launcher,
    "motor_record": motor_record,
    "motor_replay": motor_replay,
}

if __name__ == "__main__":
    sys.exit(main(SCENARIOS))

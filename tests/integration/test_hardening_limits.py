"""Payload caps at real sizes, under the real launcher and a real MongoDB: a 6 MiB request body,
a 6 MiB MongoDB command and reply, a 6 MiB response. The app and the client see every byte;
the cassettes keep the capped part and the sizes; replaying them says which cap was hit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from tests.integration.launcher import BIN, REPO, launched_app
from tests.integration.recordings import record_env
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import iter_cassette_paths, load_cassette

APP = "tests.apps.shop:app"
MIB = 1024 * 1024
BIG = 6 * MIB
REPLY_CAP = MIB
BODY_CAP = 65536


def test_huge_bodies_and_documents_are_capped_in_the_cassette_and_untouched_for_the_app(
    mongo: MongoEndpoint, tmp_path: Path
) -> None:
    cassette_dir = tmp_path / "cassettes"
    env = record_env("starlette", "async", mongo, cassette_dir)
    env["TT_APP_DB"] = "hardening_limits"
    env["TIMETRACER_MAX_REPLY_BYTES"] = str(REPLY_CAP)
    item = {"sku": "huge-1", "name": "n" * BIG, "price": 1.0, "qty": 1}
    with launched_app(APP, env, tmp_path) as app, httpx.Client(timeout=60) as client:
        created = client.post(f"{app.base_url}/items", json=item)
        fetched = client.get(f"{app.base_url}/items/huge-1")
    assert created.status_code == 201, app.output()
    assert fetched.status_code == 200
    assert fetched.json()["name"] == item["name"]  # every byte reached MongoDB and came back

    recorded = {}
    for path in iter_cassette_paths(cassette_dir):
        assert path.stat().st_size < 4 * BODY_CAP, path  # megabytes in, kilobytes on disk
        cassette = load_cassette(path)
        recorded[cassette.exchange.method] = cassette
    post, get = recorded["POST"], recorded["GET"]
    assert len(post.exchange.request_body) == BODY_CAP
    assert post.exchange.request_body_size > BIG and post.exchange.request_truncated
    (insert,) = post.calls
    assert insert.command_bson is None and insert.command_size > BIG
    assert len(get.exchange.response_body) == BODY_CAP
    assert get.exchange.response_body_size > BIG and get.exchange.response_truncated
    (find,) = get.calls
    assert find.reply_bson is None and find.reply_size > BIG

    replayed = subprocess.run(
        [str(BIN / "timetracer"), "replay", str(cassette_dir), "--app", APP],
        env={**os.environ, "PYTHONPATH": str(REPO), **env, "TIMETRACER_MODE": "off"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.returncode == 2, replayed.stdout + replayed.stderr
    lines = replayed.stdout.splitlines()
    (post_line,) = [line for line in lines if str(post.path) in line]
    assert post_line.startswith("ERROR POST /items")
    assert "TIMETRACER_MAX_BODY_BYTES" in post_line
    (get_line,) = [line for line in lines if str(get.path) in line]
    assert get_line.startswith("ERROR GET /items/huge-1")
    assert "TIMETRACER_MAX_REPLY_BYTES" in get_line
    assert lines[-1] == "0 passed, 0 failed, 2 errors"

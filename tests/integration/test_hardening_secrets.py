"""Redaction that holds: secrets planted in every place a request can carry them never appear
in any byte of any file the recorder writes (decompressed), under the real launcher."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.launcher import launched_app
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.cassette.compression import decompress

APP = "tests.apps.vault:app"
# Test card numbers of five networks (all pass the Luhn check), written as people write them.
CARDS = {
    "visa": "4111 1111 1111 1111",
    "mastercard": "5555-5555-5555-4444",
    "amex": "378282246310005",
    "discover": "6011 0009 9013 9424",
    "mastercard2": "2223003122003222",
}
NUMERIC_CARD = 4012888888881881


def forms_of(card: str) -> set[str]:
    """Every spelling of a card number a file could hold."""
    digits = card.replace(" ", "").replace("-", "")
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return {card, digits, *(sep.join(groups) for sep in (" ", "-", "+", "%20"))}


def plant() -> dict[str, str]:
    """Unique secret values: none can appear in a file by chance."""
    tag = uuid.uuid4().hex[:12]
    names = [
        "authorization", "cookie", "x_api_key", "proxy_authorization", "set_cookie",
        "password", "secret", "token", "api_key", "access_token", "refresh_token",
        "form_password", "query_token", "query_api_key", "query_access_token",
        "query_refresh_token", "reply_secret",
    ]  # fmt: skip
    return {name: f"S3CR3T-{name}-{tag}" for name in names}


def record(base_url: str, user: str, secrets: dict[str, str]) -> None:
    headers = {
        "Authorization": f"Bearer {secrets['authorization']}",
        "Cookie": f"sid={secrets['cookie']}",
        "X-Api-Key": secrets["x_api_key"],
        "Proxy-Authorization": f"Basic {secrets['proxy_authorization']}",
    }
    account = {
        "user": user,
        "password": secrets["password"],
        "api_key": secrets["api_key"],
        "client_secret": secrets["secret"],
        "session_token": secrets["set_cookie"],
        "profile": {
            "access_token": secrets["access_token"],
            "refreshToken": secrets["refresh_token"],
            "history": [f"card {CARDS['amex']} used", {"apiKey": secrets["reply_secret"]}],
        },
        "card": CARDS["visa"],
        "note": f"paid with {CARDS['mastercard']} yesterday",
        "card_on_file": NUMERIC_CARD,
    }
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        created = client.post("/accounts", json=account)
        assert created.status_code == 201, created.text
        # The app really handled the secrets: the redaction is the recorder's, not the app's.
        assert created.json()["account"]["password"] == secrets["password"]
        assert created.json()["numbers"]["card_on_file"] == NUMERIC_CARD
        form = (
            f"username={user}&password={secrets['form_password']}"
            f"&card={CARDS['discover'].replace(' ', '+')}"
        )
        login = client.post(
            "/login",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert login.status_code == 200, login.text
        query = (
            f"user={user}&token={secrets['query_token']}&api_key={secrets['query_api_key']}"
            f"&access_token={secrets['query_access_token']}"
            f"&refresh_token={secrets['query_refresh_token']}"
            f"&card={CARDS['mastercard2']}&cc={CARDS['visa'].replace(' ', '%20')}"
        )
        found = client.get(f"/search?{query}")
        assert found.status_code == 200, found.text
        assert found.json()["found"][0]["client_secret"] == secrets["secret"]


@pytest.mark.parametrize("semconv", ["", "http/dup"], ids=["default-semconv", "http-dup-semconv"])
def test_no_planted_secret_appears_in_any_byte_of_any_written_file(
    mongo: MongoEndpoint, tmp_path: Path, semconv: str
) -> None:
    cassette_dir = tmp_path / "cassettes"
    secrets = plant()
    user = f"ann-{uuid.uuid4().hex[:8]}"
    env = {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": str(cassette_dir),
        "MONGODB_URI": mongo.uri,
        "TT_APP_DB": f"vault_{uuid.uuid4().hex[:8]}",
        # The newer HTTP conventions add url.query, a second copy of the query string.
        "OTEL_SEMCONV_STABILITY_OPT_IN": semconv,
    }
    with launched_app(APP, env, tmp_path) as app:
        record(app.base_url, user, secrets)

    cassettes = list(iter_cassette_paths(cassette_dir))
    assert len(cassettes) == 3
    calls = [call for path in cassettes for call in load_cassette(path).calls]
    assert {call.command_name for call in calls} >= {"insert", "find"}
    everything = [path for path in cassette_dir.rglob("*") if path.is_file()]
    assert sorted(everything) == sorted(cassettes)  # no stray file could hide a secret
    for path in everything:
        data = decompress(path.read_bytes(), source=path)
        # The search sees the payloads (so it could fail): the user and the marker are there.
        assert user.encode() in data
        assert b"[REDACTED]" in data
        for name, secret in secrets.items():
            assert secret.encode() not in data, f"{name} leaked into {path.name}"
        for network, card in CARDS.items():
            for spelling in forms_of(card):
                assert spelling.encode() not in data, f"{network} card leaked into {path.name}"
        assert str(NUMERIC_CARD).encode() not in data, f"numeric card leaked into {path.name}"

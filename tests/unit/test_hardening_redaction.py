"""Redaction that holds: card numbers, the default secret field names everywhere, standard URL
attributes, MongoDB replies, and the configuration that turns card detection off."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import bson
import pytest
from bson import Code, DatetimeMS, Int64
from bson.codec_options import CodecOptions, DatetimeConversion
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from timetracer import attributes as attr
from timetracer import envvars
from timetracer.capture.mongo import MongoCapture
from timetracer.config import TraceConfig
from timetracer.errors import ConfigError
from timetracer.redaction import (
    REDACTED,
    Redactor,
    is_card_number,
    luhn_valid,
    redact_card_numbers,
)

# Published test numbers of the card networks; every one passes the Luhn check.
TEST_CARDS = [
    "4111111111111111",  # Visa
    "4222222222222",  # Visa, 13 digits
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # American Express
    "30569309025904",  # Diners Club, 14 digits
    "6011111111111117",  # Discover
    "3530111333300000",  # JCB
    "6200000000000005",  # UnionPay
    "6759649826438453",  # Maestro
    "4000056655665556",  # Visa debit
    "6250941006528599",  # UnionPay
    "4111111111111111110",  # 19 digits, Luhn-valid
]


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(TraceConfig())


@pytest.mark.parametrize("card", TEST_CARDS)
def test_the_networks_test_numbers_pass_luhn_and_are_card_numbers(card: str) -> None:
    assert luhn_valid(card)
    assert is_card_number(int(card))


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "3782 822463 10005",
        "card: 4111111111111111.",
        "(5555-5555-5555-4444)",
        "x4111111111111111y",
    ],
)
def test_card_numbers_are_found_with_spaces_dashes_and_around_other_text(text: str) -> None:
    redacted = redact_card_numbers(text)

    assert REDACTED in redacted
    assert not any(char.isdigit() for char in redacted)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails the Luhn check
        "1700000000123",  # epoch milliseconds
        "1700000000123456",  # epoch microseconds
        "1700000000123456789",  # epoch nanoseconds
        "411111111111",  # 12 digits: too short
        "41111111111111111111",  # 20 digits: too long
        "4111 1111 1111 1111 9999",  # a longer run that happens to start like a card
        "12 4111 1111 1111 1111",  # part of a run that starts with another digit
        "4111  1111  1111  1111",  # double spaces: four numbers, not one
        "+1 555 0100 2000",  # a phone number
        "2024-01-01 12:00:00",  # a timestamp
    ],
)
def test_numbers_that_are_not_card_numbers_are_kept(text: str) -> None:
    assert redact_card_numbers(text) == text


def test_two_cards_in_one_string_are_both_replaced_and_the_rest_kept() -> None:
    text = "old 4111 1111 1111 1111, new 5555-5555-5555-4444 (expires 12/29)"

    assert redact_card_numbers(text) == f"old {REDACTED}, new {REDACTED} (expires 12/29)"


@pytest.mark.parametrize("value", [1700000000123, 4111111111111112, 12345, -4111111111111111])
def test_integers_that_are_not_card_numbers_are_not(value: int) -> None:
    assert not is_card_number(value)


def test_card_numbers_in_json_strings_and_numbers_are_redacted(redactor: Redactor) -> None:
    body = json.dumps(
        {
            "card": "4111 1111 1111 1111",
            "pan": 5555555555554444,
            "note": "paid with 3782-822463-10005 today",
            "lines": [{"ref": "6011111111111117"}, 4222222222222],
            "created_ms": 1700000000123,
            "count": 3,
        }
    ).encode()

    redacted = json.loads(redactor.body(body, "application/json"))

    assert redacted == {
        "card": REDACTED,
        "pan": REDACTED,
        "note": f"paid with {REDACTED} today",
        "lines": [{"ref": REDACTED}, REDACTED],
        "created_ms": 1700000000123,
        "count": 3,
    }


def test_card_numbers_in_json_cut_at_the_size_cap_are_redacted(redactor: Redactor) -> None:
    body = b'{"note": "card 4111 1111 1111 1111", "pan": 5555555555554444, "bio": "cut'

    redacted = redactor.body(body, "application/json")

    assert b"4111" not in redacted
    assert b"5555" not in redacted
    assert redacted.endswith(b'"bio": "cut')


def test_card_numbers_in_form_bodies_and_query_strings_are_redacted(redactor: Redactor) -> None:
    form = b"user=ann&card=4111+1111+1111+1111&note=visa%204111%201111%201111%201111&page=2"

    redacted = parse_qsl(redactor.body(form, "application/x-www-form-urlencoded").decode())

    assert redacted == [("user", "ann"), ("card", REDACTED), ("note", REDACTED), ("page", "2")]
    assert parse_qsl(redactor.query("pan=5555-5555-5555-4444&ts=1700000000123")) == [
        ("pan", REDACTED),
        ("ts", "1700000000123"),
    ]


def test_card_numbers_in_mongo_string_values_are_redacted_and_integers_kept(
    redactor: Redactor,
) -> None:
    # 64-bit integers in MongoDB documents are cursor ids and counters: never touched.
    cursor_id = Int64(4111111111111111)
    reply = {
        "cursor": {
            "id": cursor_id,
            "firstBatch": [{"card": "4111-1111-1111-1111", "tags": ["ok", "5555555555554444"]}],
        },
        "ok": 1.0,
    }

    redacted = redactor.document(reply)

    assert redacted["cursor"]["id"] is cursor_id
    assert redacted["cursor"]["firstBatch"] == [{"card": REDACTED, "tags": ["ok", REDACTED]}]


def test_a_bson_string_subclass_without_a_card_keeps_its_type(redactor: Redactor) -> None:
    code = Code("function () { return 1; }")

    assert type(redactor.document({"$where": code})["$where"]) is Code


@pytest.mark.parametrize(
    "name",
    ["password", "secret", "token", "api_key", "access_token", "refresh_token", "client_secret",
     "refreshToken", "X-Api-Key", "apiKey", "new_password", "privateKey", "credentials"],
)  # fmt: skip
def test_every_default_secret_field_name_is_redacted_in_every_kind_of_payload(
    redactor: Redactor, name: str
) -> None:
    value = "hunter2-value"

    json_body = redactor.body(json.dumps({"a": {name: value}}).encode(), "application/json")
    form = redactor.body(f"{name}={value}".encode(), "application/x-www-form-urlencoded")
    query = redactor.query(f"x=1&{name}={value}")
    document = redactor.document({"docs": [{name: value}]})

    for stored in (json_body, form, query.encode(), bson.encode(document)):
        assert b"hunter2" not in stored


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            {"http.url": "http://shop/search?token=abc&page=2", "http.target": "/search"},
            {"http.url": f"http://shop/search?token={REDACTED}&page=2"},
        ),
        (
            {"url.query": "token=abc&page=2", "url.path": "/search"},
            {"url.query": f"token={REDACTED}&page=2"},
        ),
    ],
    ids=["old-http-semconv", "new-http-semconv"],
)
def test_standard_url_attributes_that_repeat_a_redacted_query_are_replaced(
    redactor: Redactor, attributes: dict[str, str], expected: dict[str, str]
) -> None:
    query = "token=abc&page=2"

    assert redactor.url_attributes(attributes, query, redactor.query(query)) == expected


def test_standard_url_attributes_are_left_alone_when_the_query_holds_no_secret(
    redactor: Redactor,
) -> None:
    attributes = {"http.url": "http://shop/search?page=2"}

    assert redactor.url_attributes(attributes, "page=2", redactor.query("page=2")) == {}


def test_card_detection_can_be_turned_off_and_field_rules_still_apply() -> None:
    redactor = Redactor(TraceConfig(redact_cards=False))
    body = b'{"card": "4111111111111111", "password": "p"}'

    assert json.loads(redactor.body(body, "application/json")) == {
        "card": "4111111111111111",
        "password": REDACTED,
    }
    assert redactor.query("card=4111111111111111") == "card=4111111111111111"


def test_without_field_rules_card_numbers_are_still_found() -> None:
    redactor = Redactor(TraceConfig(redact_fields=()))

    assert redactor.might_contain_secret(b'{"n": "4111111111111111"}')
    assert json.loads(redactor.body(b'{"n": "4111111111111111"}', "application/json")) == {
        "n": REDACTED
    }


def test_the_cheap_pre_check_skips_data_without_a_long_digit_run(redactor: Redactor) -> None:
    body = b'{"name": "ann", "id": 123456789012, "at": "2024-01-01T12:00:00Z"}'

    assert not redactor.might_contain_secret(body)
    assert redactor.body(body, "application/json") is body


def test_epoch_timestamps_and_long_ids_do_not_even_take_the_careful_path(
    redactor: Redactor,
) -> None:
    body = b'{"at_ms": 1700000000123, "at_ns": 1700000000123456789, "ids": [9007199254740993]}'

    assert not redactor.might_contain_secret(body)
    assert redactor.body(body, "application/json") is body


def test_a_body_the_careful_path_finds_nothing_in_is_stored_exactly_as_sent(
    redactor: Redactor,
) -> None:
    # "token" appears, but as a value: the body is parsed, nothing is secret, bytes are kept.
    body = b'{ "kind" : "token",\n  "n": 4111111111111112 }'

    assert redactor.might_contain_secret(body)
    assert redactor.body(body, "application/json") is body


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("0", False), ("on", True)])
def test_redact_cards_is_read_from_the_environment(raw: str, expected: bool) -> None:
    assert TraceConfig.from_env({envvars.TIMETRACER_REDACT_CARDS: raw}).redact_cards is expected


def test_redact_cards_defaults_to_on_and_refuses_other_values() -> None:
    assert TraceConfig.from_env({}).redact_cards is True
    assert TraceConfig.from_env({envvars.TIMETRACER_REDACT_CARDS: ""}).redact_cards is True
    with pytest.raises(ConfigError, match="TIMETRACER_REDACT_CARDS='maybe' is not valid"):
        TraceConfig.from_env({envvars.TIMETRACER_REDACT_CARDS: "maybe"})


def capture_reply(tracer: Tracer, memory: InMemorySpanExporter, reply: Any) -> dict[str, Any]:
    """Run ``reply`` through the capture's response hook on a child span; its attributes."""
    capture = MongoCapture(TraceConfig(mode="record"))
    with tracer.start_as_current_span("request", kind=SpanKind.SERVER):
        span = tracer.start_span("find", kind=SpanKind.CLIENT)
        capture.response_hook(span, SimpleNamespace(reply=reply))
        span.end()
    assert capture.failures.counts == {}
    (child,) = [s for s in memory.get_finished_spans() if s.name == "find"]
    return dict(child.attributes or {})


def test_mongo_replies_are_redacted_and_every_other_bson_value_survives_exactly(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    far_future = DatetimeMS(2**55)  # beyond Python's datetime: must stay as it was
    when = dt.datetime(2024, 5, 1, 12, 0, 0, 123000)
    document = {
        "user": "ann",
        "passwordHash": "x1",
        "tokens": {"refresh_token": "r1", "access_token": "a1"},
        "card": "4111 1111 1111 1111",
        "big": Int64(2**40),
        "small": 7,
        "when": when,
        "far": far_future,
    }
    reply = {"cursor": {"id": Int64(0), "ns": "shop.users", "firstBatch": [document]}, "ok": 1.0}

    raw = capture_reply(tracer, memory, reply)[attr.MONGO_REPLY]
    stored = bson.decode(raw, CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_AUTO))

    (kept,) = stored["cursor"]["firstBatch"]
    assert kept["passwordHash"] == REDACTED
    assert kept["tokens"] == REDACTED
    assert kept["card"] == REDACTED
    assert (type(kept["big"]), type(kept["small"])) == (Int64, int)
    assert kept["when"] == when
    assert kept["far"] == far_future

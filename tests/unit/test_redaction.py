"""``timetracer.redaction``: secrets never reach a span, and secret-free data is left alone."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

import pytest
from bson import Code, Int64, ObjectId
from bson.son import SON
from hypothesis import given, settings
from hypothesis import strategies as st

from timetracer import redaction
from timetracer.config import TraceConfig, normalize_field_name
from timetracer.redaction import REDACTED, Redactor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor(TraceConfig())


def test_default_secret_headers_are_redacted_and_others_kept_with_lower_case_names(
    redactor: Redactor,
) -> None:
    pairs = [
        (b"Authorization", b"Bearer s3cret"),
        (b"Cookie", b"session=abc"),
        (b"Set-Cookie", b"session=abc; HttpOnly"),
        (b"X-API-Key", b"k-123"),
        (b"Proxy-Authorization", b"Basic eA=="),
        (b"Content-Type", b"application/json"),
        (b"Accept", b"*/*"),
    ]

    assert redactor.headers(pairs) == (
        "authorization", REDACTED,
        "cookie", REDACTED,
        "set-cookie", REDACTED,
        "x-api-key", REDACTED,
        "proxy-authorization", REDACTED,
        "content-type", "application/json",
        "accept", "*/*",
    )  # fmt: skip


def test_configured_headers_are_redacted_whatever_their_case() -> None:
    redactor = Redactor(TraceConfig(redact_headers=frozenset({"X-Session"})))

    assert redactor.headers([(b"x-SESSION", b"abc")]) == ("x-session", REDACTED)


def test_header_names_are_remembered_within_bounds_and_answer_the_same() -> None:
    redactor = Redactor(TraceConfig())
    names = [f"X-Custom-{n}".encode() for n in range(3 * redaction._CACHED_NAMES)]
    pairs = [(name, b"v") for name in [*names, b"Cookie", b"X-" + b"a" * 500]]
    expected = tuple(
        item
        for name, _ in pairs
        for item in (
            name.decode().lower(),
            REDACTED if name == b"Cookie" else "v",
        )
    )

    assert redactor.headers(pairs) == expected
    assert redactor.headers(pairs) == expected
    assert redactor.headers([(bytearray(b"Cookie"), bytearray(b"c"))]) == ("cookie", REDACTED)
    assert len(redactor._header_names) <= redaction._CACHED_NAMES


def test_query_parameters_with_secret_names_are_redacted(redactor: Redactor) -> None:
    query = "user=ann&password=hunter2&api_key=k1&accessToken=t1&page=2"

    assert parse_qsl(redactor.query(query)) == [
        ("user", "ann"),
        ("password", REDACTED),
        ("api_key", REDACTED),
        ("accessToken", REDACTED),
        ("page", "2"),
    ]


def test_a_query_without_secrets_is_returned_unchanged(redactor: Redactor) -> None:
    query = "q=red%20shoes&page=2"

    assert redactor.query(query) is query


def test_a_query_whose_secret_name_is_percent_encoded_is_still_redacted(
    redactor: Redactor,
) -> None:
    # "pass%77ord" is "password" once decoded, which is what the app reads.
    assert parse_qsl(redactor.query("pass%77ord=hunter2")) == [("password", REDACTED)]


def test_json_body_secrets_are_redacted_at_every_depth(redactor: Redactor) -> None:
    body = json.dumps(
        {
            "user": {"name": "ann", "password": "hunter2", "profile": {"accessToken": "t1"}},
            "keys": [{"api_key": "k1", "label": "ci"}, {"API-KEY": "k2"}],
            "count": 2,
        }
    ).encode()

    redacted = json.loads(redactor.body(body, "application/json; charset=utf-8"))

    assert redacted == {
        "user": {"name": "ann", "password": REDACTED, "profile": {"accessToken": REDACTED}},
        "keys": [{"api_key": REDACTED, "label": "ci"}, {"API-KEY": REDACTED}],
        "count": 2,
    }


def test_a_secret_word_in_a_value_does_not_redact_the_field(redactor: Redactor) -> None:
    body = b'{"note": "I forgot my password"}'

    assert json.loads(redactor.body(body, "application/json")) == {"note": "I forgot my password"}


def test_structured_json_content_types_are_redacted(redactor: Redactor) -> None:
    body = b'{"data": {"token": "t1"}}'

    redacted = redactor.body(body, "application/vnd.api+json")

    assert json.loads(redacted) == {"data": {"token": REDACTED}}


def test_a_json_body_whose_secret_name_is_unicode_escaped_is_still_redacted(
    redactor: Redactor,
) -> None:
    # "\u0070assword" is "password" once parsed, which is what the app reads.
    body = b'{"\\u0070assword": "hunter2"}'

    assert b"hunter2" not in redactor.body(body, "application/json")


def test_form_body_secrets_are_redacted(redactor: Redactor) -> None:
    body = b"username=ann&password=hunter2&remember=on"

    redacted = redactor.body(body, "application/x-www-form-urlencoded")

    assert parse_qsl(redacted.decode()) == [
        ("username", "ann"),
        ("password", REDACTED),
        ("remember", "on"),
    ]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"name": "ann", "items": [1, 2]}', "application/json"),
        (b"username=ann&remember=on", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
def test_a_body_without_secrets_is_returned_as_the_same_object(
    redactor: Redactor, body: bytes, content_type: str
) -> None:
    assert redactor.body(body, content_type) is body


@pytest.mark.parametrize(
    ("body", "redacted"),
    [
        (
            b'{"user": "ann", "password": "hunter2", "cut off here',
            b'{"user": "ann", "password": "[REDACTED]", "cut off here',
        ),
        (b'{"user": "ann", "password": "hun', b'{"user": "ann", "password": "[REDACTED]"'),
        (b'{"pin_token": 12345, "n', b'{"pin_token": "[REDACTED]", "n'),
    ],
    ids=["cut-after", "cut-inside-value", "number"],
)
def test_json_that_does_not_parse_is_redacted_member_by_member(
    redactor: Redactor, body: bytes, redacted: bytes
) -> None:
    # A body cut at the size cap is not valid JSON; its stored part must lose its secrets.
    assert redactor.body(body, "application/json") == redacted


@pytest.mark.parametrize(
    "body",
    [
        b'{"credentials": {"user": "ann", "pin": "1234"}, "bio": "cut',
        b'{"tokens": ["1234", "5678"], "bio": "cut',
    ],
    ids=["object", "array"],
)
def test_json_that_does_not_parse_loses_everything_under_a_secret_field(
    redactor: Redactor, body: bytes
) -> None:
    # Parsed JSON redacts a secret field's whole value, nested members included; so must this.
    assert b"1234" not in redactor.body(body, "application/json")


def test_bodies_of_other_content_types_come_back_unchanged(redactor: Redactor) -> None:
    body = b"password=hunter2"

    assert redactor.body(body, "text/plain") is body


def test_mongo_like_documents_are_redacted_and_other_values_kept(redactor: Redactor) -> None:
    object_id = ObjectId("65a1b2c3d4e5f60718293a4b")
    command = {
        "insert": "users",
        "documents": [
            {"_id": object_id, "email": "ann@example.com", "passwordHash": "x"},
            {"_id": object_id, "settings": {"secretAnswer": "blue", "theme": "dark"}},
        ],
        "ordered": True,
    }

    assert redactor.document(command) == {
        "insert": "users",
        "documents": [
            {"_id": object_id, "email": "ann@example.com", "passwordHash": REDACTED},
            {"_id": object_id, "settings": {"secretAnswer": REDACTED, "theme": "dark"}},
        ],
        "ordered": True,
    }


def test_document_returns_a_copy_and_leaves_the_original_alone(redactor: Redactor) -> None:
    original = {"token": "t1", "nested": {"password": "p"}}

    redactor.document(original)

    assert original == {"token": "t1", "nested": {"password": "p"}}


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("user_password", True),
        ("accessToken", True),
        ("API-KEY", True),
        ("privateKey", True),
        ("name", False),
        ("page", False),
    ],
)
def test_is_secret_field_matches_normalized_fragments(
    redactor: Redactor, name: str, secret: bool
) -> None:
    assert redactor.is_secret_field(name) is secret


def test_might_contain_secret_ignores_case_and_separators(redactor: Redactor) -> None:
    assert redactor.might_contain_secret(b'{"X-API-KEY": 1}')
    assert not redactor.might_contain_secret(b'{"name": "ann"}')
    assert not redactor.might_contain_secret(b"")


@pytest.mark.parametrize(
    "data", [b"a=%70assword", b'{"\\u0070assword": 1}', b'{"\\U0070": 1}', b'{"\\_u0070": 1}']
)
def test_might_contain_secret_sends_escapes_down_the_careful_path(
    redactor: Redactor, data: bytes
) -> None:
    assert redactor.might_contain_secret(data)


def test_might_contain_secret_checks_escapes_only_when_something_is_redacted() -> None:
    redactor = Redactor(TraceConfig(redact_fields=(), redact_cards=False))

    assert not redactor.might_contain_secret(b"a=%70assword")


# The pre-checks and the document walk have fast paths (one regular expression for the field
# names, remembered field-name verdicts, exact-type dispatch); these plain definitions are what
# they must agree with, on any input.

CONFIGS = [
    TraceConfig(),
    TraceConfig(redact_cards=False),
    TraceConfig(redact_fields=()),
    TraceConfig(redact_fields=(), redact_cards=False),
    # Fragments the byte fold changes ("api key" folds to "apikey") or leaves alone ("émail").
    TraceConfig(redact_fields=("api key", "x+y", "Émail", "pin")),
]


def plain_is_secret_field(config: TraceConfig, name: str) -> bool:
    normalized = normalize_field_name(name)
    return any(fragment in normalized for fragment in config.redact_fields)


def plain_might_contain_secret(config: TraceConfig, data: bytes) -> bool:
    needles = tuple(redaction._fold(f.encode()) for f in config.redact_fields)
    if not data or not (needles or config.redact_cards):
        return False
    folded = redaction._fold(data)
    # Escapes are looked for after folding: "\\U" and "\\_u" count as "\\u".
    if b"%" in folded or b"\\u" in folded:
        return True
    if any(needle in folded for needle in needles):
        return True
    return (
        config.redact_cards
        and redaction._FOLDED_CARD in folded
        and redaction._CARD_BYTES.search(data) is not None
    )


def plain_document(config: TraceConfig, value: Any, check_numbers: bool) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if plain_is_secret_field(config, str(key))
            else plain_document(config, item, check_numbers)
            for key, item in value.items()
        }
    if isinstance(value, str):
        if config.redact_cards and redaction._CARD.search(value) is not None:
            return redaction.redact_card_numbers(value)
        return value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [plain_document(config, item, check_numbers) for item in value]
    if (
        check_numbers
        and config.redact_cards
        and isinstance(value, int)
        and not isinstance(value, bool)
        and redaction.is_card_number(value)
    ):
        return REDACTED
    return value


def typed(value: Any) -> Any:
    """A value with every type spelled out: Code("x") and "x", Int64(1) and 1 differ."""
    if isinstance(value, Mapping):
        return (type(value), [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value), [typed(item) for item in value])
    return (type(value), value)


_PIECES = st.sampled_from(
    [b"pass", b"word", b"PassWord", b"pass_wd", b"to-ken", b"api key", b"api+key", b"X-API-KEY",
     b"secret", b"credential", b"authorization", b"privatekey", b"emai", b"\xc3\xa9mail", b"p_i-n",
     b"x+y", b"xy", b"%", b"%77", b"\\u0070", b"\\", b"u", b"4111 1111 1111 1111",
     b"4111111111111111", b"1711111111111", b"5-", b"+4111", b"0000000000000", b"12345",
     b'{"', b'":', b"\x00", b" ", b"_", b"-", b"+", b"name", b"ann"]
)  # fmt: skip
_SHORT_DATA = st.one_of(st.binary(max_size=64), st.lists(_PIECES, max_size=12).map(b"".join))
# Padded past the length where the pre-check switches from one scan to a test per needle.
_DATA = st.one_of(
    _SHORT_DATA,
    st.builds(lambda pad, data: b"." * pad + data, st.sampled_from([500, 520, 2000]), _SHORT_DATA),
)
_NAMES = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(["pass", "Word", "_", "-", "TOKEN", "api", " key", "x+y", "Émail",
                              "pin", "name", "\u212a"]), max_size=4).map("".join),
)  # fmt: skip
_CARD_TEXT = st.sampled_from(["4111 1111 1111 1111", "card 4111-1111-1111-1111!", "1711111111111"])
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([4111111111111111, 4111111111111112, 5500000000000004]),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    _CARD_TEXT,
    _CARD_TEXT.map(Code),
    st.binary(max_size=4),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(Int64),
    st.just(ObjectId("65a1b2c3d4e5f60718293a4b")),
)
_DOCUMENTS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_NAMES, inner, max_size=4),
        st.dictionaries(_NAMES, inner, max_size=3).map(lambda d: SON(list(d.items()))),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(config=st.sampled_from(CONFIGS), data=_DATA)
def test_might_contain_secret_answers_as_its_plain_definition(
    config: TraceConfig, data: bytes
) -> None:
    assert Redactor(config).might_contain_secret(data) == plain_might_contain_secret(config, data)


@settings(max_examples=300, deadline=None)
@given(config=st.sampled_from(CONFIGS), names=st.lists(_NAMES, max_size=6))
def test_is_secret_field_answers_as_its_plain_definition_first_time_and_after(
    config: TraceConfig, names: list[str]
) -> None:
    redactor = Redactor(config)

    for name in [*names, *names]:
        assert redactor.is_secret_field(name) is plain_is_secret_field(config, name)


def test_remembered_field_verdicts_stay_bounded_and_right() -> None:
    redactor = Redactor(TraceConfig())
    names = [f"field{n}" for n in range(3 * redaction._CACHED_NAMES)] + ["x" * 500 + "token"]

    verdicts = [redactor.is_secret_field(name) for name in [*names, *names]]

    assert verdicts == [name.endswith("token") for name in [*names, *names]]
    assert len(redactor._field_verdicts) <= redaction._CACHED_NAMES


@settings(max_examples=400, deadline=None)
@given(config=st.sampled_from(CONFIGS), value=_DOCUMENTS, check_numbers=st.booleans())
def test_document_redacts_as_its_plain_definition(
    config: TraceConfig, value: Any, check_numbers: bool
) -> None:
    redacted = Redactor(config).document(value, check_numbers=check_numbers)

    assert typed(redacted) == typed(plain_document(config, value, check_numbers))

"""``timetracer.redaction``: secrets never reach a span, and secret-free data is left alone."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from bson import ObjectId

from timetracer.config import TraceConfig
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

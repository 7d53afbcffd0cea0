"""Keeping secrets out of cassettes: headers, JSON and form bodies, query strings, Mongo documents.

Redaction runs at capture time, so a secret never rides on a span to any exporter. Two kinds of
rule apply: *fields* whose names contain a configured fragment (``password``, ``token``, ...)
lose their whole value, and *card numbers* (13 to 19 digits that pass the Luhn checksum) are
replaced wherever they appear in a string value. Each entry point first does a cheap byte scan
for the field-name fragments and for a run of 13 digits, and only parses and rewrites when one
appears, so requests without secrets pay almost nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote_plus

from timetracer.config import TraceConfig, normalize_field_name

REDACTED = "[REDACTED]"
# The start of a JSON member, ``"key":``; its value is found by scanning (see _value_end).
_JSON_KEY = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*')
# The cheap pre-check folds data in one bytes.translate pass (C speed, no regular expression):
# ASCII letters lower-cased, every digit made "0", and "_", "-", "+" (a space in a query) and
# " " removed. Field names then compare as normalize_field_name compares them, and anything
# that could be a card number, whatever separates its digit groups, is a run of 13 zeros.
_FOLD_TABLE = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789", b"abcdefghijklmnopqrstuvwxyz000000000"
)
_FOLD_DELETE = b"_-+ "
_FOLDED_CARD = b"0" * 13
# Folding leaves "%" and "\\u" as they are: the start of a percent or a JSON unicode escape.
_ESCAPES = (b"%", b"\\u")
# The pre-check's scan: one regular-expression pass costs about 8 ns a byte whatever the needles;
# an ``in`` test per needle costs less per byte (about 0.4 ns each) but more per call, so it
# wins on data longer than this (measured with the default needles).
_SCAN_ONE_PASS_BELOW = 512
# A card-number candidate: a whole run of 13-19 digits (single spaces or dashes between digit
# groups), never a piece of a longer run. The first digit is 2-6, the ranges card networks issue
# (Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay/Maestro): epoch
# timestamps in milliseconds, microseconds and nanoseconds all start with 1 today and must not
# be taken for cards.
# The first digit comes first in the pattern (the lookbehinds follow it) so the regex engine
# can skip ahead to candidate characters instead of trying every position.
_CARD = re.compile(r"[2-6](?<![0-9][2-6])(?<![0-9][ -][2-6])(?:[ -]?[0-9]){12,18}(?![ -]?[0-9])")
# The same shape on raw bytes, "+" (a space in a query string) a separator too: it confirms a
# run of 13 folded zeros before anything is parsed, so epoch timestamps (which start with 1)
# and long ids do not send every body down the careful path.
_CARD_BYTES = re.compile(
    rb"[2-6](?<![0-9][2-6])(?<![0-9][ +-][2-6])(?:[ +-]?[0-9]){12,18}(?![ +-]?[0-9])"
)
_SEPARATORS = re.compile(r"[ -]")
# Standard span attributes the contrib ASGI middleware fills from the raw query string.
_URL_ATTRIBUTES = ("http.url", "url.full")
_QUERY_ATTRIBUTE = "url.query"
# Bounds of Redactor's memory of field-name verdicts: data can bring any number of names.
_CACHED_NAMES = 2048
_CACHED_NAME_LENGTH = 64


def _fold(data: bytes) -> bytes:
    return data.translate(_FOLD_TABLE, _FOLD_DELETE)


_MAPPING, _STRING, _SEQUENCE, _OTHER = "mapping", "string", "sequence", "other"


def _shape(value: Any) -> str:
    """How :meth:`Redactor.document` walks a value."""
    if isinstance(value, Mapping):
        return _MAPPING
    if isinstance(value, str):
        return _STRING
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return _SEQUENCE
    return _OTHER


# _shape of the exact types parsed JSON and decoded BSON are mostly made of, known in advance:
# isinstance against the Mapping and Sequence ABCs costs more than the rest of the walk.
_SHAPES = {
    kind: _shape(kind()) for kind in (dict, list, tuple, str, bytes, int, float, bool, type(None))
}


def luhn_valid(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn checksum every card number carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _card_or_text(match: re.Match[str]) -> str:
    text = match.group(0)
    return REDACTED if luhn_valid(_SEPARATORS.sub("", text)) else text


def redact_card_numbers(text: str) -> str:
    """``text`` with every card number in it replaced by ``[REDACTED]``."""
    return _CARD.sub(_card_or_text, text)


def is_card_number(value: int) -> bool:
    """Whether an integer (a JSON number) is shaped like a card number and passes Luhn."""
    digits = str(value)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


class Redactor:
    """Applies one configuration's header, field and card-number rules."""

    def __init__(self, config: TraceConfig) -> None:
        self._headers = config.redact_headers
        self._fields = config.redact_fields
        self._cards = config.redact_cards
        # Byte scans run over folded data (see _fold), so ``api_key`` is found by ``apikey``.
        # The needles are the field names and the escapes that could spell one. On short data
        # one alternation finds any of them in a single C pass; on long data an ``in`` test
        # per needle is cheaper (see _SCAN_ONE_PASS_BELOW). Both give the same answer.
        needles = tuple(_fold(f.encode()) for f in self._fields)
        self._needles = (*_ESCAPES, *needles) if needles or self._cards else ()
        self._scan = re.compile(b"|".join(map(re.escape, self._needles))).search
        # Field names repeat from document to document; their verdicts are kept (bounded).
        self._field_verdicts: dict[str, bool] = {}
        self._header_names: dict[bytes, tuple[str, bool]] = {}

    def is_secret_field(self, name: str) -> bool:
        """Whether a field with this name is stored redacted."""
        verdict = self._field_verdicts.get(name) if type(name) is str else None
        if verdict is None:
            normalized = normalize_field_name(name)
            verdict = any(fragment in normalized for fragment in self._fields)
            if type(name) is str and len(name) <= _CACHED_NAME_LENGTH:
                if len(self._field_verdicts) >= _CACHED_NAMES:
                    self._field_verdicts.clear()
                self._field_verdicts[name] = verdict
        return verdict

    def might_contain_secret(self, data: bytes) -> bool:
        """Cheap pre-check: could ``data`` hold a field or a card number that must be redacted?

        Escapes (``%77`` in a query, ``\\u0070`` in JSON) can spell a field name or a digit the
        byte scan cannot see, so data containing them always takes the careful path. They are
        looked for in the folded data, in the same pass as the field names, so ``\\U`` and a
        backslash and ``u`` with a separator between them count as escapes too.
        """
        if not data or not self._needles:
            return False
        folded = _fold(data)
        if len(folded) < _SCAN_ONE_PASS_BELOW:
            if self._scan(folded) is not None:
                return True
        elif any(map(folded.__contains__, self._needles)):
            return True
        return self._cards and _FOLDED_CARD in folded and _CARD_BYTES.search(data) is not None

    def headers(self, pairs: Iterable[tuple[bytes, bytes]]) -> tuple[str, ...]:
        """ASGI header pairs as a flat ``name, value, ...`` tuple with secret values replaced."""
        flat: list[str] = []
        append = flat.append
        known = self._header_names
        for raw_name, raw_value in pairs:
            # Header names repeat from request to request: decoded, lower-cased and judged once.
            name_and_secret = known.get(raw_name) if type(raw_name) is bytes else None
            if name_and_secret is None:
                name_and_secret = self._header_name(raw_name)
            name, secret = name_and_secret
            append(name)
            append(REDACTED if secret else raw_value.decode("latin-1"))
        return tuple(flat)

    def _header_name(self, raw_name: bytes) -> tuple[str, bool]:
        name = raw_name.decode("latin-1").lower()
        name_and_secret = (name, name in self._headers)
        if type(raw_name) is bytes and len(raw_name) <= _CACHED_NAME_LENGTH:
            if len(self._header_names) >= _CACHED_NAMES:
                self._header_names.clear()
            self._header_names[raw_name] = name_and_secret
        return name_and_secret

    def query(self, query: str) -> str:
        """A query string with secret parameters' values replaced; the rest kept as sent.

        A parameter is secret when its name is, or when its value (decoded, as the app reads
        it) holds a card number.
        """
        if not query or not self.might_contain_secret(query.encode("latin-1", "replace")):
            return query
        parts, changed = [], False
        for part in query.split("&"):
            name, separator, value = part.partition("=")
            if separator and (
                self.is_secret_field(unquote_plus(name)) or self._holds_card(unquote_plus(value))
            ):
                part, changed = f"{name}={REDACTED}", True
            parts.append(part)
        return "&".join(parts) if changed else query

    def url_attributes(
        self, attributes: Mapping[str, Any], query: str, redacted_query: str
    ) -> dict[str, str]:
        """Replacements for the standard URL attributes that repeat a redacted query string.

        The contrib ASGI middleware copies the raw query into ``http.url`` (and ``url.query``
        under the newer HTTP conventions) when the span starts; those copies would carry the
        secrets that :meth:`query` took out of timetracer's own attribute.
        """
        if redacted_query == query:
            return {}
        replaced: dict[str, str] = {}
        for key in _URL_ATTRIBUTES:
            value = attributes.get(key)
            if isinstance(value, str) and "?" in value:
                replaced[key] = f"{value.partition('?')[0]}?{redacted_query}"
        if isinstance(attributes.get(_QUERY_ATTRIBUTE), str):
            replaced[_QUERY_ATTRIBUTE] = redacted_query
        return replaced

    def body(self, body: bytes, content_type: str) -> bytes:
        """A JSON or form body with secret fields and card numbers replaced; other bodies come
        back unchanged.

        A body cut at the size cap (or otherwise not valid JSON) is redacted textually, member
        by member, so a secret in its stored part never survives.
        """
        if not self.might_contain_secret(body):
            return body
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind == "application/x-www-form-urlencoded":
            return self.query(body.decode("latin-1")).encode("latin-1")
        if kind == "application/json" or kind.endswith("+json"):
            try:
                document = json.loads(body)
            except ValueError:
                return self._json_text(body)
            redacted = self.document(document, check_numbers=True)
            if redacted == document:
                return body  # nothing was secret: the cassette keeps the bytes as sent
            return json.dumps(redacted, separators=(",", ":")).encode()
        return body

    def _json_text(self, body: bytes) -> bytes:
        out = bytearray()
        position = 0
        while (match := _JSON_KEY.search(body, position)) is not None:
            out += body[position : match.end()]
            position = match.end()
            key = _json_key(match.group(1))
            if self.is_secret_field(key):
                out += b'"' + REDACTED.encode() + b'"'
                position = _value_end(body, position)
        out += body[position:]
        if self._cards:
            # latin-1 maps every byte to one character and back, so the rest stays as it was.
            return redact_card_numbers(out.decode("latin-1")).encode("latin-1")
        return bytes(out)

    def document(self, value: Any, *, check_numbers: bool = False) -> Any:
        """A copy of a JSON/BSON-like value with every secret field's value and every card
        number in a string replaced.

        ``check_numbers`` also replaces integers shaped like card numbers. JSON bodies use it;
        MongoDB documents do not, because their 64-bit integers are cursor ids, counters and
        random ids, and about one random 64-bit integer in eighteen passes the card checks:
        redacting a cursor id would break the replay of every ``getMore``.
        """
        shape = _SHAPES.get(type(value)) or _shape(value)
        if shape is _MAPPING:
            return {
                key: REDACTED
                if self.is_secret_field(str(key))
                else self.document(item, check_numbers=check_numbers)
                for key, item in value.items()
            }
        if shape is _STRING:
            # Only a string that holds a card is rebuilt: str subclasses (bson.Code) keep
            # their type otherwise.
            if self._cards and _CARD.search(value) is not None:
                return redact_card_numbers(value)
            return value
        if shape is _SEQUENCE:
            return [self.document(item, check_numbers=check_numbers) for item in value]
        if (
            check_numbers
            and self._cards
            and isinstance(value, int)
            and not isinstance(value, bool)
            and is_card_number(value)
        ):
            return REDACTED
        return value

    def _holds_card(self, text: str) -> bool:
        return self._cards and redact_card_numbers(text) != text


def _json_key(raw: bytes) -> str:
    try:
        return str(json.loads(b'"' + raw + b'"'))
    except ValueError:
        return raw.decode("utf-8", "replace")


def _value_end(text: bytes, start: int) -> int:
    """Where the JSON value starting at ``start`` ends (or the end of text cut short)."""
    if start >= len(text):
        return start
    opener = text[start : start + 1]
    if opener == b'"':
        index = start + 1
        while index < len(text):
            if text[index : index + 1] == b"\\":
                index += 2
                continue
            if text[index : index + 1] == b'"':
                return index + 1
            index += 1
        return len(text)
    if opener in (b"{", b"["):
        depth, index = 0, start
        while index < len(text):
            char = text[index : index + 1]
            if char == b'"':
                index = _value_end(text, index)
                continue
            if char in (b"{", b"["):
                depth += 1
            elif char in (b"}", b"]"):
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        return len(text)
    index = start
    while index < len(text) and text[index : index + 1] not in (b",", b"}", b"]"):
        index += 1
    return index

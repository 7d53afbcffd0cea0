"""Keeping secrets out of cassettes: headers, JSON and form bodies, query strings, Mongo documents.

Redaction runs at capture time, so a secret never rides on a span to any exporter. Each entry
point first does a cheap byte scan for the configured field-name fragments and only parses and
rewrites when one appears, so requests without secrets pay almost nothing.
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


class Redactor:
    """Applies one configuration's header and field rules."""

    def __init__(self, config: TraceConfig) -> None:
        self._headers = config.redact_headers
        self._fields = config.redact_fields
        # Byte scans run over lower-cased data with ``_`` and ``-`` removed, matching how
        # field names are normalized, so ``api_key`` is found by the fragment ``apikey``.
        self._needles = tuple(f.encode() for f in self._fields)

    def is_secret_field(self, name: str) -> bool:
        """Whether a field with this name is stored redacted."""
        normalized = normalize_field_name(name)
        return any(fragment in normalized for fragment in self._fields)

    def might_contain_secret(self, data: bytes) -> bool:
        """Cheap pre-check: could ``data`` hold a field that must be redacted?

        Escapes (``%77`` in a query, ``\\u0070`` in JSON) can spell a field name the byte scan
        cannot see, so data containing them always takes the careful path.
        """
        if not self._needles or not data:
            return False
        if b"%" in data or b"\\u" in data:
            return True
        folded = data.lower().replace(b"_", b"").replace(b"-", b"")
        return any(needle in folded for needle in self._needles)

    def headers(self, pairs: Iterable[tuple[bytes, bytes]]) -> tuple[str, ...]:
        """ASGI header pairs as a flat ``name, value, ...`` tuple with secret values replaced."""
        flat: list[str] = []
        for raw_name, raw_value in pairs:
            name = raw_name.decode("latin-1").lower()
            flat.append(name)
            flat.append(REDACTED if name in self._headers else raw_value.decode("latin-1"))
        return tuple(flat)

    def query(self, query: str) -> str:
        """A query string with secret parameters' values replaced; the rest kept as sent."""
        if not query or not self.might_contain_secret(query.encode("latin-1", "replace")):
            return query
        parts, changed = [], False
        for part in query.split("&"):
            name, separator, _ = part.partition("=")
            if separator and self.is_secret_field(unquote_plus(name)):
                part, changed = f"{name}={REDACTED}", True
            parts.append(part)
        return "&".join(parts) if changed else query

    def body(self, body: bytes, content_type: str) -> bytes:
        """A JSON or form body with secret fields replaced; other bodies come back unchanged.

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
            return json.dumps(self.document(document), separators=(",", ":")).encode()
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
        return bytes(out)

    def document(self, value: Any) -> Any:
        """A copy of a JSON/BSON-like value with every secret field's value replaced."""
        if isinstance(value, Mapping):
            return {
                key: REDACTED if self.is_secret_field(str(key)) else self.document(item)
                for key, item in value.items()
            }
        if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
            return [self.document(item) for item in value]
        return value


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

"""Keeping secrets out of cassettes: headers, JSON and form bodies, query strings, Mongo documents.

Redaction runs at capture time, so a secret never rides on a span to any exporter. Each entry
point first does a cheap byte scan for the configured field-name fragments and only parses and
rewrites when one appears, so requests without secrets pay almost nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from timetracer.config import TraceConfig, normalize_field_name

REDACTED = "[REDACTED]"


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
        """Cheap pre-check: could ``data`` hold a field that must be redacted?"""
        if not self._needles or not data:
            return False
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
        """A query string with secret parameters replaced."""
        if not query or not self.might_contain_secret(query.encode("latin-1", "replace")):
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        return urlencode([(k, REDACTED if self.is_secret_field(k) else v) for k, v in pairs])

    def body(self, body: bytes, content_type: str) -> bytes:
        """A JSON or form body with secret fields replaced; other bodies come back unchanged."""
        if not self.might_contain_secret(body):
            return body
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind == "application/x-www-form-urlencoded":
            return self.query(body.decode("latin-1")).encode("latin-1")
        if kind == "application/json" or kind.endswith("+json"):
            try:
                document = json.loads(body)
            except ValueError:
                # Not valid JSON (or cut by the size cap): store nothing rather than a secret.
                return REDACTED.encode()
            return json.dumps(self.document(document), separators=(",", ":")).encode()
        return body

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

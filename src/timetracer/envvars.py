"""The environment variables timetracer reads. docs/configuration.md lists the same set.

Each constant's docstring gives the meaning, the allowed values and the default.
"""

from __future__ import annotations

TIMETRACER_MODE = "TIMETRACER_MODE"
"""What timetracer does: ``off`` (nothing), ``record`` (write cassettes) or ``replay``
(answer dependencies from cassettes). Default: ``off``."""

TIMETRACER_DIR = "TIMETRACER_DIR"
"""Directory cassettes are written to and read from. Created on first write with owner-only
permissions. Default: ``./cassettes``."""

TIMETRACER_CASSETTE = "TIMETRACER_CASSETTE"
"""Replay: one cassette file to serve every request from, instead of matching by request.
Default: unset."""

TIMETRACER_COMPRESSION = "TIMETRACER_COMPRESSION"
"""Compression of written cassettes: ``zstd`` (with timetracer's dictionary), ``gzip``
(readable by any gzip tool) or ``none``. Reading detects the codec from the file's first bytes.
Default: ``zstd``."""

TIMETRACER_SAMPLE_RATE = "TIMETRACER_SAMPLE_RATE"
"""Fraction of requests recorded, a number from 0 to 1, decided by trace id (so every
process of a distributed trace agrees). Default: ``1``."""

TIMETRACER_ERRORS_ONLY = "TIMETRACER_ERRORS_ONLY"
"""``true`` keeps only requests that answered 5xx or raised. Default: ``false``."""

TIMETRACER_MAX_BODY_BYTES = "TIMETRACER_MAX_BODY_BYTES"
"""Largest request or response body stored, in bytes (a whole number >= 0). Longer bodies pass
through untouched and are stored cut and marked truncated. Default: ``65536``."""

TIMETRACER_MAX_REPLY_BYTES = "TIMETRACER_MAX_REPLY_BYTES"
"""Largest MongoDB command or reply document stored, in BSON bytes (a whole number >= 0).
A larger one is stored as a marker only; replaying that call fails with a clear message.
Default: ``16777216`` (MongoDB's own document limit)."""

TIMETRACER_REDACT_HEADERS = "TIMETRACER_REDACT_HEADERS"
"""Comma-separated header names (case-insensitive) whose values are replaced by
``[REDACTED]`` in cassettes, added to the defaults: authorization, cookie, set-cookie,
x-api-key, proxy-authorization. Default: empty."""

TIMETRACER_REDACT_FIELDS = "TIMETRACER_REDACT_FIELDS"
"""Comma-separated field-name fragments; a JSON, form, query or MongoDB document field whose
name contains one (case-insensitive, ``_`` and ``-`` ignored) is stored as ``[REDACTED]``.
Added to the defaults: password, passwd, secret, token, apikey, credential, privatekey,
authorization. Default: empty."""

TIMETRACER_REDACT_CARDS = "TIMETRACER_REDACT_CARDS"
"""``true`` replaces card numbers by ``[REDACTED]`` in JSON and form bodies, query strings and
MongoDB documents: runs of 13 to 19 digits (single spaces or dashes allowed between them)
starting with 2-6 and passing the Luhn check, in string values, and JSON numbers of that shape.
``false`` keeps them. Default: ``true``."""

TIMETRACER_EXCLUDE_PATHS = "TIMETRACER_EXCLUDE_PATHS"
"""Comma-separated glob patterns matched against the whole request path (``*`` matches any
characters, ``/`` included; ``?`` one character), e.g. ``/health,/metrics,/internal/*``. A
matching request reaches the app untouched and nothing of it is recorded (its MongoDB calls
included); in replay it is served by the app without being matched to a recording. Setting it
replaces the default; ``none`` excludes nothing. Each pattern starts with ``/`` or ``*``.
Default: ``/health,/healthz,/livez,/readyz,/metrics``."""

TIMETRACER_IGNORE = "TIMETRACER_IGNORE"
"""Replay: comma-separated response paths left out of the comparison, e.g.
``body.created,body.items.*.id,headers.etag``. Default: empty."""

TIMETRACER_REPLAY_ON_MISS = "TIMETRACER_REPLAY_ON_MISS"
"""Replay: what a MongoDB command nobody recorded gets: ``error`` (a clear error naming the
cassette, the command and the closest recordings) or ``passthrough`` (sent to the real
database: hybrid replay). Default: ``error``."""

TIMETRACER_LIVE = "TIMETRACER_LIVE"
"""Replay: comma-separated systems kept live instead of answered from cassettes; ``mongodb``
is the one system so far. Default: empty."""

ALL: tuple[str, ...] = (
    TIMETRACER_MODE,
    TIMETRACER_DIR,
    TIMETRACER_CASSETTE,
    TIMETRACER_COMPRESSION,
    TIMETRACER_SAMPLE_RATE,
    TIMETRACER_ERRORS_ONLY,
    TIMETRACER_MAX_BODY_BYTES,
    TIMETRACER_MAX_REPLY_BYTES,
    TIMETRACER_REDACT_HEADERS,
    TIMETRACER_REDACT_FIELDS,
    TIMETRACER_REDACT_CARDS,
    TIMETRACER_EXCLUDE_PATHS,
    TIMETRACER_IGNORE,
    TIMETRACER_REPLAY_ON_MISS,
    TIMETRACER_LIVE,
)
"""Every variable above, in the order docs/configuration.md lists them."""

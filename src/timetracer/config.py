"""The frozen configuration timetracer runs with, read once from the environment.

``TraceConfig.from_env()`` is what the distro, the exporter and the capture hooks use;
``TraceConfig(...)`` with keyword arguments is the same object built by hand. Every bad value
raises :class:`~timetracer.errors.ConfigError` naming the variable, the value and what is allowed.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from timetracer import envvars
from timetracer.errors import ConfigError

DEFAULT_REDACT_HEADERS: frozenset[str] = frozenset(
    {"authorization", "cookie", "set-cookie", "x-api-key", "proxy-authorization"}
)
DEFAULT_REDACT_FIELDS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "credential",
    "privatekey",
    "authorization",
)
DEFAULT_EXCLUDE_PATHS: tuple[str, ...] = ("/health", "/healthz", "/livez", "/readyz", "/metrics")
NO_EXCLUDED_PATHS = "none"
"""The ``TIMETRACER_EXCLUDE_PATHS`` value that excludes nothing."""
COMPRESSIONS: tuple[str, ...] = ("gzip", "zstd", "none")
DEFAULT_COMPRESSION = "zstd"
"""zstd with timetracer's dictionary: the smallest files and the cheapest to write."""
ON_MISS: tuple[str, ...] = ("error", "passthrough")
LIVE_SYSTEMS: tuple[str, ...] = ("mongodb",)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
# Trace ids are 128-bit; sampling looks at the low 64 bits like the SDK's TraceIdRatioBased.
_TRACE_ID_LOW_MASK = (1 << 64) - 1
_EXCLUDE_PATHS_ALLOWED = "comma-separated path patterns starting with / or * (or none)"


class Mode(str, enum.Enum):
    """What timetracer does in this process."""

    OFF = "off"
    RECORD = "record"
    REPLAY = "replay"


def normalize_field_name(name: str) -> str:
    """Lower-case a field name, dropping ``_`` and ``-``: ``api_key`` equals ``apiKey``."""
    return name.lower().replace("_", "").replace("-", "")


@dataclass(frozen=True)
class TraceConfig:
    """Everything timetracer is told to do. Build it with :meth:`from_env` or by keyword."""

    mode: Mode | str = Mode.OFF
    """``off``, ``record`` or ``replay``."""
    cassette_dir: Path | str = Path("cassettes")
    """Where cassettes are written and read."""
    cassette: Path | str | None = None
    """Replay: one pinned cassette instead of matching requests to recordings."""
    compression: str = DEFAULT_COMPRESSION
    """``zstd`` (with timetracer's dictionary), ``gzip`` or ``none`` for written cassettes."""
    sample_rate: float = 1.0
    """Fraction of requests recorded, 0 to 1, decided by trace id."""
    errors_only: bool = False
    """Keep only requests that answered 5xx or raised."""
    max_body_bytes: int = 65536
    """Largest HTTP body stored; longer ones are stored cut and marked truncated."""
    max_reply_bytes: int = 16 * 1024 * 1024
    """Largest MongoDB command or reply stored; a larger one is stored as a marker."""
    redact_headers: frozenset[str] = DEFAULT_REDACT_HEADERS
    """Header names (lower case) whose values never reach a cassette."""
    redact_fields: tuple[str, ...] = DEFAULT_REDACT_FIELDS
    """Field-name fragments (normalized) whose values never reach a cassette."""
    redact_cards: bool = True
    """Replace card numbers (13-19 digits passing the Luhn check) in bodies, queries, documents."""
    exclude_paths: tuple[str, ...] = DEFAULT_EXCLUDE_PATHS
    """Glob patterns of request paths passed through untouched: never recorded, never replayed."""
    ignore: tuple[str, ...] = ()
    """Replay: response paths left out of the comparison (``body.items.*.id``)."""
    replay_on_miss: str = "error"
    """Replay: ``error`` or ``passthrough`` (unmatched MongoDB commands go to the real server)."""
    live: frozenset[str] = frozenset()
    """Replay: systems kept live instead of answered from cassettes (``mongodb``)."""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "mode", _parse_mode("mode", self.mode))
        set_(self, "cassette_dir", Path(self.cassette_dir))
        if self.cassette is not None:
            set_(self, "cassette", Path(self.cassette))
        if self.compression not in COMPRESSIONS:
            raise ConfigError("compression", self.compression, " | ".join(COMPRESSIONS))
        rate = self.sample_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ConfigError("sample_rate", rate, "a number from 0 to 1")
        for name in ("max_body_bytes", "max_reply_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(name, value, "a whole number of bytes >= 0")
        if self.replay_on_miss not in ON_MISS:
            raise ConfigError("replay_on_miss", self.replay_on_miss, " | ".join(ON_MISS))
        set_(self, "live", frozenset(s.lower() for s in self.live))
        if not self.live <= set(LIVE_SYSTEMS):
            raise ConfigError("live", ",".join(sorted(self.live)), ", ".join(LIVE_SYSTEMS))
        set_(self, "ignore", tuple(self.ignore))
        set_(self, "exclude_paths", tuple(self.exclude_paths))
        for pattern in self.exclude_paths:
            if not _is_path_pattern(pattern):
                raise ConfigError("exclude_paths", pattern, _EXCLUDE_PATHS_ALLOWED)
        if not isinstance(self.redact_cards, bool):
            raise ConfigError("redact_cards", self.redact_cards, "true | false")
        set_(self, "redact_headers", frozenset(h.lower() for h in self.redact_headers))
        # A fragment that normalizes to nothing ("-", "__") would match every field name.
        fields = dict.fromkeys(n for n in map(normalize_field_name, self.redact_fields) if n)
        set_(self, "redact_fields", tuple(fields))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TraceConfig:
        """Read every ``TIMETRACER_*`` variable; raise :class:`ConfigError` on a bad value."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return None if value is None else value.strip()

        kwargs: dict[str, object] = {}
        if (raw := get(envvars.TIMETRACER_MODE)) is not None:
            kwargs["mode"] = _parse_mode(envvars.TIMETRACER_MODE, raw or "off")
        if raw := get(envvars.TIMETRACER_DIR):
            kwargs["cassette_dir"] = Path(raw)
        if raw := get(envvars.TIMETRACER_CASSETTE):
            kwargs["cassette"] = Path(raw)
        if raw := get(envvars.TIMETRACER_COMPRESSION):
            if raw.lower() not in COMPRESSIONS:
                raise ConfigError(envvars.TIMETRACER_COMPRESSION, raw, " | ".join(COMPRESSIONS))
            kwargs["compression"] = raw.lower()
        if raw := get(envvars.TIMETRACER_SAMPLE_RATE):
            kwargs["sample_rate"] = _parse_rate(envvars.TIMETRACER_SAMPLE_RATE, raw)
        if (raw := get(envvars.TIMETRACER_ERRORS_ONLY)) is not None:
            kwargs["errors_only"] = _parse_bool(envvars.TIMETRACER_ERRORS_ONLY, raw)
        if raw := get(envvars.TIMETRACER_MAX_BODY_BYTES):
            kwargs["max_body_bytes"] = _parse_size(envvars.TIMETRACER_MAX_BODY_BYTES, raw)
        if raw := get(envvars.TIMETRACER_MAX_REPLY_BYTES):
            kwargs["max_reply_bytes"] = _parse_size(envvars.TIMETRACER_MAX_REPLY_BYTES, raw)
        if raw := get(envvars.TIMETRACER_REDACT_HEADERS):
            kwargs["redact_headers"] = DEFAULT_REDACT_HEADERS | set(_split_list(raw))
        if raw := get(envvars.TIMETRACER_REDACT_FIELDS):
            kwargs["redact_fields"] = DEFAULT_REDACT_FIELDS + tuple(_split_list(raw))
        if raw := get(envvars.TIMETRACER_REDACT_CARDS):
            kwargs["redact_cards"] = _parse_bool(envvars.TIMETRACER_REDACT_CARDS, raw)
        if raw := get(envvars.TIMETRACER_EXCLUDE_PATHS):
            kwargs["exclude_paths"] = _parse_exclude_paths(envvars.TIMETRACER_EXCLUDE_PATHS, raw)
        if raw := get(envvars.TIMETRACER_IGNORE):
            kwargs["ignore"] = tuple(_split_list(raw))
        if raw := get(envvars.TIMETRACER_REPLAY_ON_MISS):
            if raw.lower() not in ON_MISS:
                raise ConfigError(envvars.TIMETRACER_REPLAY_ON_MISS, raw, " | ".join(ON_MISS))
            kwargs["replay_on_miss"] = raw.lower()
        if raw := get(envvars.TIMETRACER_LIVE):
            systems = frozenset(part.lower() for part in _split_list(raw))
            if not systems <= set(LIVE_SYSTEMS):
                raise ConfigError(envvars.TIMETRACER_LIVE, raw, ", ".join(LIVE_SYSTEMS))
            kwargs["live"] = systems
        return cls(**kwargs)  # type: ignore[arg-type]

    @property
    def recording(self) -> bool:
        """True in record mode."""
        return self.mode is Mode.RECORD

    def excludes(self, path: str) -> bool:
        """Whether requests to ``path`` are passed through without recording or replaying."""
        pattern = exclusion_pattern(self.exclude_paths)
        return pattern is not None and pattern.match(path) is not None

    def samples(self, trace_id: int) -> bool:
        """Whether the request with this trace id is recorded under ``sample_rate``."""
        if self.sample_rate >= 1:
            return True
        if self.sample_rate <= 0:
            return False
        bound = round(self.sample_rate * (1 << 64))
        return (trace_id & _TRACE_ID_LOW_MASK) < bound


@functools.lru_cache(maxsize=8)
def exclusion_pattern(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled regular expression matching any of ``patterns`` (None for no patterns).

    Every pattern is a whole-path glob (``fnmatch`` syntax, case-sensitive like URL paths);
    joining them into one expression keeps the per-request check a single match call.
    """
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def startup_config(environ: Mapping[str, str] | None = None) -> TraceConfig:
    """The configuration a process starts with.

    Like :meth:`TraceConfig.from_env`, except that with ``TIMETRACER_MODE`` off (or unset) a bad
    value elsewhere is ignored: off means off, and a typo must not stop an app that records
    nothing.
    """
    env = os.environ if environ is None else environ
    try:
        return TraceConfig.from_env(env)
    except ConfigError:
        if env.get(envvars.TIMETRACER_MODE, "").strip().lower() in ("", Mode.OFF.value):
            return TraceConfig(mode=Mode.OFF)
        raise


def _parse_mode(variable: str, raw: Mode | str) -> Mode:
    if isinstance(raw, Mode):
        return raw
    try:
        return Mode(str(raw).strip().lower())
    except ValueError:
        raise ConfigError(variable, raw, " | ".join(m.value for m in Mode)) from None


def _parse_bool(variable: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(variable, raw, "true | false (also 1/0, yes/no, on/off)")


def _parse_rate(variable: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(variable, raw, "a number from 0 to 1") from None
    if not 0 <= value <= 1:
        raise ConfigError(variable, raw, "a number from 0 to 1")
    return value


def _parse_size(variable: str, raw: str) -> int:
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(variable, raw, "a whole number of bytes >= 0") from None
    if value < 0:
        raise ConfigError(variable, raw, "a whole number of bytes >= 0")
    return value


def _is_path_pattern(pattern: object) -> bool:
    # A request path always starts with "/"; a pattern that cannot match one is a typo
    # ("health" for "/health") that would silently record what the user meant to exclude.
    return isinstance(pattern, str) and pattern.startswith(("/", "*"))


def _parse_exclude_paths(variable: str, raw: str) -> tuple[str, ...]:
    if raw.lower() == NO_EXCLUDED_PATHS:
        return ()
    patterns = tuple(_split_list(raw))
    if not all(map(_is_path_pattern, patterns)):
        raise ConfigError(variable, raw, _EXCLUDE_PATHS_ALLOWED)
    return patterns


def _split_list(raw: str) -> Iterable[str]:
    return (part.strip() for part in raw.split(",") if part.strip())

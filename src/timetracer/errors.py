"""Every error timetracer raises on purpose.

The tree::

    TimetracerError
    ├── ConfigError (ValueError)              a bad TIMETRACER_* value
    ├── CassetteError
    │   ├── CassetteNotFoundError (FileNotFoundError)
    │   ├── CassetteFormatError (ValueError)  corrupt, truncated or unknown-version file
    │   └── TruncatedPayloadError (ValueError) a payload needed for replay was cut at record time
    ├── ReplayError
    │   ├── ReplayMissError (LookupError)     a live call that no recording answers
    │   └── WireProtocolError (ValueError)    a malformed MongoDB wire message
    ├── ReceiverError (OSError)               `timetracer collect` could not start
    ├── RequestRejected (ValueError)          an OTLP/HTTP request the receiver refuses
    ├── DashboardError (OSError)              `timetracer dashboard` / `serve` could not run
    └── MissingDependencyError (ImportError)  an optional extra is not installed

Each subclass also derives from the builtin a caller would naturally catch, so
``except FileNotFoundError`` keeps working around timetracer calls.
"""

from __future__ import annotations

from pathlib import Path


class TimetracerError(Exception):
    """Base class of every error timetracer raises on purpose."""


class ConfigError(TimetracerError, ValueError):
    """A bad configuration value; the message names the variable, value and allowed values."""

    def __init__(self, variable: str, value: object, allowed: str) -> None:
        self.variable = variable
        self.value = value
        self.allowed = allowed
        super().__init__(f"{variable}={value!r} is not valid: expected {allowed}")


class CassetteError(TimetracerError):
    """A cassette could not be read or written."""


class CassetteNotFoundError(CassetteError, FileNotFoundError):
    """The cassette file (or directory) does not exist."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: no such cassette")


class CassetteFormatError(CassetteError, ValueError):
    """The file is not a readable cassette: corrupt, truncated, or of an unknown format version."""

    def __init__(self, path: Path | str | None, cause: str) -> None:
        self.path = Path(path) if path is not None else None
        # One line whatever the cause quotes: parser messages (protobuf's) span several.
        self.cause = " ".join(cause.split())
        where = str(self.path) if self.path is not None else "<cassette bytes>"
        super().__init__(f"{where}: {self.cause}")

    def at(self, path: Path | str | None) -> CassetteFormatError:
        """This error naming ``path``, when it was raised without knowing the file."""
        if self.path is not None or path is None:
            return self
        located = CassetteFormatError(path, self.cause)
        located.__cause__ = self.__cause__
        return located


class TruncatedPayloadError(CassetteError, ValueError):
    """A payload was cut at record time (over the size cap) and cannot be used for replay."""


class ReplayError(TimetracerError):
    """Replay could not answer as recorded."""


class ReplayMissError(ReplayError, LookupError):
    """A live call that no recording answers; the message is the whole diagnosis."""

    def __init__(self, diagnosis: str, *, cassette: str | None = None) -> None:
        self.diagnosis = diagnosis
        self.cassette = cassette
        super().__init__(diagnosis)


class WireProtocolError(ReplayError, ValueError):
    """A message that is not valid MongoDB wire protocol (or that the responder does not speak).

    ``code``/``code_name`` are the MongoDB error the responder answers with; ``request_id`` is
    the id of the offending message when its header could be read, else None.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int = 17,
        code_name: str = "ProtocolError",
        request_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.code_name, self.request_id = code, code_name, request_id


class ReceiverError(TimetracerError, OSError):
    """The receiver could not start, e.g. because its address is taken."""


class RequestRejected(TimetracerError, ValueError):
    """An OTLP/HTTP request the receiver refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")


class DashboardError(TimetracerError, OSError):
    """The dashboard could not be written or served (address in use, unwritable output)."""


class MissingDependencyError(TimetracerError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{module} is not installed: install it with pip install 'timetracer[{extra}]'"
        )

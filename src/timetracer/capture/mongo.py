"""PyMongo capture: the hooks given to the contrib ``PymongoInstrumentor`` in record mode.

Each command span gets the command document, the reply (every ``find``/``aggregate`` first
batch and every ``getMore`` batch is part of a reply) or the failure document, as BSON bytes.
Encoding happens here, on the calling thread, because pymongo hands the very dicts the app owns
and may change afterwards; ``bson.encode`` is C code and costs microseconds.
A heartbeat listener keeps what replay needs of each server's ``hello`` reply, so a cassette
knows whether it was recorded against a standalone server, a replica set or mongos.

This module needs pymongo; the distro imports it only when the pymongo instrumentor loads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import bson
from bson.codec_options import CodecOptions, DatetimeConversion
from opentelemetry.trace import Span
from pymongo import monitoring

from timetracer import attributes as attr
from timetracer.capture.exclusion import in_unrecorded_request
from timetracer.capture.sdk_span import set_clean_attributes
from timetracer.config import TraceConfig
from timetracer.failures import FailureLog, cause_of
from timetracer.redaction import Redactor

logger = logging.getLogger(__name__)

# Decoding for redaction must re-encode to the same BSON: dates outside Python's datetime range
# stay DatetimeMS instead of failing the whole capture.
_REDACTION_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(
    datetime_conversion=DatetimeConversion.DATETIME_AUTO
)

# The parts of a hello reply that decide how a driver talks to the server.
_HELLO_KEYS = (
    "isWritablePrimary",
    "ismaster",
    "helloOk",
    "msg",
    "setName",
    "setVersion",
    "hosts",
    "primary",
    "secondary",
    "arbiterOnly",
    "minWireVersion",
    "maxWireVersion",
    "maxBsonObjectSize",
    "maxMessageSizeBytes",
    "maxWriteBatchSize",
    "logicalSessionTimeoutMinutes",
    "readOnly",
)


class MongoCapture:
    """Hooks for ``PymongoInstrumentor`` plus a heartbeat listener, sharing one configuration."""

    def __init__(self, config: TraceConfig) -> None:
        self.config = config
        self._records_every_trace = config.sample_rate >= 1
        self.redactor = Redactor(config)
        self.failures = FailureLog(logger)
        self.enabled = True
        self._servers: dict[Any, bytes] = {}
        self._listener_registered = False
        self._lock = threading.Lock()

    def register_server_listener(self) -> None:
        """Listen to server heartbeats (once per process: pymongo has no way to unregister)."""
        with self._lock:
            if self._listener_registered:
                return
            monitoring.register(_HeartbeatRecorder(self))
            self._listener_registered = True

    def remember_server(self, address: Any, hello: Mapping[str, Any]) -> None:
        """Keep the topology-deciding part of a server's hello reply."""
        summary = {key: hello[key] for key in _HELLO_KEYS if key in hello}
        self._servers[address] = bson.encode(summary)

    def _wanted(self, span: Span) -> bool:
        # A command outside any request (start-up, scripts without a root span) has no parent
        # and would make a one-call cassette; those are left uncaptured, and so are the calls
        # of a request on an excluded path, which would otherwise make a cassette of their own.
        if (
            not self.enabled
            or not span.is_recording()
            or getattr(span, "parent", None) is None
            or in_unrecorded_request()
        ):
            return False
        return self._records_every_trace or self.config.samples(span.get_span_context().trace_id)

    def request_hook(self, span: Span, event: Any) -> None:
        """Records the command document of a ``CommandStartedEvent``."""
        if not self._wanted(span):
            return
        try:
            attributes: dict[str, Any] = {
                attr.MONGO_DATABASE: event.database_name,
                attr.MONGO_COMMAND_NAME: event.command_name,
            }
            self._put_document(
                attributes, attr.MONGO_COMMAND, attr.MONGO_COMMAND_SIZE, event.command
            )
            server = self._servers.get(event.connection_id)
            if server is not None:
                attributes[attr.MONGO_SERVER] = server
            set_clean_attributes(span, attributes)
        except Exception as exc:  # recording must never break the app's query
            self.failures.report(cause_of("mongo-command", exc), "could not record a command", exc)

    def response_hook(self, span: Span, event: Any) -> None:
        """Records the reply document of a ``CommandSucceededEvent``."""
        if not self._wanted(span):
            return
        try:
            attributes: dict[str, Any] = {}
            self._put_document(attributes, attr.MONGO_REPLY, attr.MONGO_REPLY_SIZE, event.reply)
            set_clean_attributes(span, attributes)
        except Exception as exc:  # recording must never break the app's query
            self.failures.report(cause_of("mongo-reply", exc), "could not record a reply", exc)

    def failed_hook(self, span: Span, event: Any) -> None:
        """Records the failure document of a ``CommandFailedEvent``."""
        if not self._wanted(span):
            return
        try:
            attributes: dict[str, Any] = {}
            self._put_document(attributes, attr.MONGO_FAILURE, attr.MONGO_REPLY_SIZE, event.failure)
            set_clean_attributes(span, attributes)
        except Exception as exc:  # recording must never break the app's query
            self.failures.report(cause_of("mongo-failure", exc), "could not record a failure", exc)

    def _put_document(
        self, attributes: dict[str, Any], key: str, size_key: str, document: Any
    ) -> None:
        raw = encode_document(document)
        if self.redactor.might_contain_secret(raw):
            raw = bson.encode(self.redactor.document(bson.decode(raw, _REDACTION_CODEC)))
        if len(raw) > self.config.max_reply_bytes:
            attributes[size_key] = len(raw)
        else:
            attributes[key] = raw


def encode_document(document: Any) -> bytes:
    """BSON bytes of a command, reply or failure document (raw documents are used as they are)."""
    raw = getattr(document, "raw", None)
    if isinstance(raw, bytes):
        return raw
    return bson.encode(document)


class _HeartbeatRecorder(monitoring.ServerHeartbeatListener):
    """Feeds successful heartbeats' hello replies to :meth:`MongoCapture.remember_server`."""

    def __init__(self, capture: MongoCapture) -> None:
        self._capture = capture

    def started(self, event: Any) -> None:
        """Nothing to keep when a heartbeat starts."""

    def succeeded(self, event: Any) -> None:
        """Remember the server's hello reply."""
        try:
            self._capture.remember_server(event.connection_id, event.reply.document)
        except Exception as exc:  # a listener must never break the driver's monitor
            self._capture.failures.report(
                cause_of("mongo-heartbeat", exc), "could not record a server hello", exc
            )

    def failed(self, event: Any) -> None:
        """A failed heartbeat changes nothing recorded."""

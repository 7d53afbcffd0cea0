"""Span attribute keys timetracer writes. Everything it adds lives under one prefix, so a
Collector can drop all of it with a single pattern before spans reach an ordinary backend."""

from __future__ import annotations

PREFIX = "timetracer.payload."

# Server span: the HTTP exchange, independent of which semconv mode the instrumentors use.
HTTP_METHOD = PREFIX + "http.request.method"
HTTP_PATH = PREFIX + "http.request.path"
HTTP_QUERY = PREFIX + "http.request.query"
HTTP_ROUTE = PREFIX + "http.route"
HTTP_REQUEST_HEADERS = PREFIX + "http.request.headers"
"""Flat sequence ``name, value, name, value, ...`` (names lower-case, secrets redacted)."""
HTTP_REQUEST_BODY = PREFIX + "http.request.body"
HTTP_REQUEST_BODY_SIZE = PREFIX + "http.request.body.size"
"""Bytes the client sent; larger than the stored body when it was truncated."""
HTTP_REQUEST_BODY_TRUNCATED = PREFIX + "http.request.body.truncated"
"""True when the stored request body was cut at the size cap. (Redaction can shorten a body
too, so the size alone does not say whether it was cut.)"""
HTTP_STATUS = PREFIX + "http.response.status_code"
HTTP_RESPONSE_HEADERS = PREFIX + "http.response.headers"
HTTP_RESPONSE_BODY = PREFIX + "http.response.body"
HTTP_RESPONSE_BODY_SIZE = PREFIX + "http.response.body.size"
HTTP_RESPONSE_BODY_TRUNCATED = PREFIX + "http.response.body.truncated"

# MongoDB command span: lossless BSON bytes.
MONGO_DATABASE = PREFIX + "mongo.database"
MONGO_COMMAND_NAME = PREFIX + "mongo.command_name"
MONGO_COMMAND = PREFIX + "mongo.command"
MONGO_REPLY = PREFIX + "mongo.reply"
MONGO_FAILURE = PREFIX + "mongo.failure"
MONGO_COMMAND_SIZE = PREFIX + "mongo.command.size"
"""Present only when the command was over the cap and not stored: its BSON size."""
MONGO_REPLY_SIZE = PREFIX + "mongo.reply.size"
"""Present only when the reply was over the cap and not stored: its BSON size."""
MONGO_SERVER = PREFIX + "mongo.server"
"""BSON of the parts of the server's ``hello`` reply replay needs to mirror the topology."""

# Resource attribute stamped on every cassette file.
FORMAT_VERSION = "timetracer.cassette.format_version"

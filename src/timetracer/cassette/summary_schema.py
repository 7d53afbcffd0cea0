"""A reduced protobuf schema of ``TracesData`` that reads only what a cassette summary shows.

``timetracer list`` spent two thirds of its instructions in Python walking attribute lists: each
``KeyValue`` of the OTLP schema becomes a Python object when touched, and finding four keys on
the root span and one on each call span touched every one. On the wire a repeated message with
fields ``key = 1`` and ``value = 2`` is exactly a protobuf map (maps are encoded as repeated
entries), so this schema declares ``attributes`` as ``map<string, bytes>``: the parser builds a
hash table in C, a key is found with one lookup, and a value stays the serialized ``AnyValue``
until it is read. Fields a summary never shows (events, links, the scope) are left unparsed.

The messages keep the OTLP field numbers and names, so ``root_span()`` and the rest of the model
read them as they read the real ones.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_PACKAGE = "timetracer.summary"
_Field = descriptor_pb2.FieldDescriptorProto
_ONE = _Field.LABEL_OPTIONAL
_MANY = _Field.LABEL_REPEATED

# (message, [(field, number, type, label, message type or None)]); numbers from
# opentelemetry/proto/trace/v1/trace.proto and resource/v1/resource.proto.
_MESSAGES: list[tuple[str, list[tuple[str, int, int, int, str | None]]]] = [
    ("Status", [("code", 3, _Field.TYPE_INT32, _ONE, None)]),
    (
        "Span",
        [
            ("trace_id", 1, _Field.TYPE_BYTES, _ONE, None),
            ("span_id", 2, _Field.TYPE_BYTES, _ONE, None),
            ("parent_span_id", 4, _Field.TYPE_BYTES, _ONE, None),
            ("name", 5, _Field.TYPE_STRING, _ONE, None),
            ("start_time_unix_nano", 7, _Field.TYPE_FIXED64, _ONE, None),
            ("end_time_unix_nano", 8, _Field.TYPE_FIXED64, _ONE, None),
            ("attributes", 9, _Field.TYPE_MESSAGE, _MANY, "Span.AttributesEntry"),
            ("status", 15, _Field.TYPE_MESSAGE, _ONE, "Status"),
        ],
    ),
    ("ScopeSpans", [("spans", 2, _Field.TYPE_MESSAGE, _MANY, "Span")]),
    (
        "Resource",
        [("attributes", 1, _Field.TYPE_MESSAGE, _MANY, "Resource.AttributesEntry")],
    ),
    (
        "ResourceSpans",
        [
            ("resource", 1, _Field.TYPE_MESSAGE, _ONE, "Resource"),
            ("scope_spans", 2, _Field.TYPE_MESSAGE, _MANY, "ScopeSpans"),
        ],
    ),
    ("TracesData", [("resource_spans", 1, _Field.TYPE_MESSAGE, _MANY, "ResourceSpans")]),
]


def _file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="timetracer/summary.proto", package=_PACKAGE, syntax="proto3"
    )
    for name, fields in _MESSAGES:
        message = file.message_type.add(name=name)
        for field, number, kind, label, type_name in fields:
            added = message.field.add(name=field, number=number, type=kind, label=label)
            if type_name is not None:
                added.type_name = f".{_PACKAGE}.{type_name}"
            if field == "attributes":
                _add_attribute_entry(message)
    return file


def _add_attribute_entry(message: descriptor_pb2.DescriptorProto) -> None:
    """``AttributesEntry``, nested as protoc nests a map's entry: KeyValue's wire form, with
    the ``AnyValue`` kept as bytes."""
    entry = message.nested_type.add(name="AttributesEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=_Field.TYPE_STRING, label=_ONE)
    entry.field.add(name="value", number=2, type=_Field.TYPE_BYTES, label=_ONE)


@functools.cache
def summary_traces_data() -> Any:
    """The message class: ``summary_traces_data().FromString(payload)`` parses a cassette's
    protobuf bytes; ``span.attributes`` is a mapping of key to serialized ``AnyValue``."""
    pool = descriptor_pool.DescriptorPool()  # private: never clashes with the real OTLP types
    pool.Add(_file())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.TracesData"))

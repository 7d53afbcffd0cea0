"""Writing payload attributes onto OpenTelemetry SDK spans without cleaning them a second time.

``Span.set_attributes`` passes every value through the SDK's ``_clean_attribute_value``, which
walks each header tuple item by item in Python: the largest single cost of timetracer's hooks
on the request path. The values timetracer writes are already what cleaning returns (str,
bytes, int, float, bool, tuples of str), so on an SDK span with no length limit on values they
go straight into the span's ``BoundedAttributes``, under the same two locks and with the same
outcome: the same keys in the same order, the attribute-count limit applied the same way.
Every other case (another span class, a value-length limit, a value of another type, a span
that has ended) goes through ``set_attributes`` itself. Callers whose values are clean by
construction (the MongoDB hooks, most of the HTTP recorder's writes) skip even the type scan.

This module knows the SDK's ``Span`` and ``BoundedAttributes`` internals (``_lock``,
``_end_time``, ``_attributes``, ``_dict``, ``_setitem_locked``), checked against
opentelemetry-sdk 1.45; ``tests/unit/test_capture_sdk_span.py`` compares it with
``set_attributes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import Span

# Values that _clean_attribute_value returns unchanged: these types, and tuples of str (as an
# equal tuple).
_CLEAN_TYPES = frozenset({str, bytes, int, float, bool, tuple})
_STR_ONLY = frozenset({str})
_SDK_SET_ATTRIBUTES = SdkSpan.set_attributes
# Whether a span class sets attributes as the SDK's Span does, by class: spans come from a
# handful of classes, and the answer cannot change while the class exists.
_SDK_SPAN_CLASSES: dict[type, bool] = {}
_MAX_SPAN_CLASSES = 64


def set_attributes(span: Span, attributes: Mapping[str, Any]) -> None:
    """``span.set_attributes(attributes)``; the span ends up exactly as that call leaves it."""
    bounded = _writable_attributes(span, attributes)
    if bounded is None or not _set_if_open(span, bounded, attributes):
        # Not an SDK span as this module knows it, or a value cleaning may change, or an ended
        # span (set_attributes logs the SDK's warning and drops the values).
        span.set_attributes(attributes)


def set_clean_attributes(span: Span, attributes: Mapping[str, Any]) -> None:
    """:func:`set_attributes` for attributes clean by construction, which are not scanned.

    The caller guarantees non-empty ``str`` keys and values of the types cleaning returns
    unchanged: ``str``, ``bytes``, ``int``, ``float``, ``bool``, tuples of ``str``.
    """
    bounded = _sdk_attributes(span)
    if bounded is None or not _set_if_open(span, bounded, attributes):
        span.set_attributes(attributes)


def _set_if_open(span: Span, bounded: BoundedAttributes, attributes: Mapping[str, Any]) -> bool:
    with span._lock:  # type: ignore[attr-defined]
        if span._end_time is not None:  # type: ignore[attr-defined]
            return False
        with bounded._lock:
            _set_items_locked(bounded, attributes)
    return True


def _sdk_attributes(span: Span) -> BoundedAttributes | None:
    """The span's ``BoundedAttributes`` when values can go in without cleaning, else None."""
    kind = type(span)
    is_sdk = _SDK_SPAN_CLASSES.get(kind)
    if is_sdk is None:
        is_sdk = getattr(kind, "set_attributes", None) is _SDK_SET_ATTRIBUTES
        if len(_SDK_SPAN_CLASSES) < _MAX_SPAN_CLASSES:
            _SDK_SPAN_CLASSES[kind] = is_sdk
    if not is_sdk:
        return None
    bounded = getattr(span, "_attributes", None)
    if (
        type(bounded) is not BoundedAttributes
        or bounded.max_value_len is not None
        or bounded.maxlen == 0
        or type(getattr(bounded, "_dict", None)) is not dict
    ):
        return None
    return bounded


def _writable_attributes(span: Span, attributes: Mapping[str, Any]) -> BoundedAttributes | None:
    bounded = _sdk_attributes(span)
    if bounded is None:
        return None
    # Type checks by C iteration (map(type, ...)): a loop in Python would cost what it saves.
    if "" in attributes or not _STR_ONLY.issuperset(map(type, attributes)):
        return None
    kinds = set(map(type, attributes.values()))
    if not kinds <= _CLEAN_TYPES:
        return None
    if tuple in kinds:
        for value in attributes.values():
            if type(value) is tuple and not _STR_ONLY.issuperset(map(type, value)):
                return None
    return bounded


def _set_items_locked(bounded: BoundedAttributes, attributes: Mapping[str, Any]) -> None:
    items = bounded._dict
    maxlen = bounded.maxlen
    if items.keys().isdisjoint(attributes) and (
        maxlen is None or len(items) + len(attributes) <= maxlen
    ):
        # New keys, and room for all of them: _setitem_locked would append each in turn.
        items.update(attributes)
        return
    for key, value in attributes.items():
        bounded._setitem_locked(key, value)

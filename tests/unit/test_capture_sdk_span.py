"""``timetracer.capture.sdk_span``: payload attributes land as ``set_attributes`` puts them."""

from __future__ import annotations

import logging
from typing import Any
from unittest.mock import Mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import attributes as otel_attributes
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind

from timetracer import attributes as attr
from timetracer.capture import sdk_span
from timetracer.capture.sdk_span import set_attributes, set_clean_attributes

HTTP_REQUEST = {
    attr.HTTP_METHOD: "POST",
    attr.HTTP_PATH: "/items/7/orders",
    attr.HTTP_QUERY: "",
    attr.HTTP_REQUEST_HEADERS: ("host", "shop", "content-type", "application/json"),
}
HTTP_RESPONSE = {
    attr.HTTP_ROUTE: "/items/{sku}/orders",
    attr.HTTP_STATUS: 200,
    attr.HTTP_RESPONSE_HEADERS: ("content-length", "2"),
    attr.HTTP_RESPONSE_BODY: b"{}",
    attr.HTTP_RESPONSE_BODY_SIZE: 2,
    attr.HTTP_RESPONSE_BODY_TRUNCATED: False,
}


class Named:
    """A value the SDK turns into its ``str``."""

    def __str__(self) -> str:
        return "named"


def span_pair(limits: SpanLimits | None = None, **initial: Any) -> tuple[Any, Any]:
    tracer = TracerProvider(span_limits=limits, shutdown_on_exit=False).get_tracer("test")
    return (
        tracer.start_span("sdk", kind=SpanKind.SERVER, attributes=initial or None),
        tracer.start_span("ours", kind=SpanKind.SERVER, attributes=initial or None),
    )


def typed(value: Any) -> Any:
    """A value with its type spelled out, so ``("a",)`` and ``["a"]`` compare different."""
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(typed(item) for item in value))
    return (type(value), value)


def stored(span: Any) -> tuple[list[tuple[str, Any]], int]:
    """The span's attributes in order, typed, and how many it dropped."""
    return [(key, typed(value)) for key, value in span.attributes.items()], span.dropped_attributes


def test_payload_attributes_land_in_order_after_the_existing_ones() -> None:
    sdk, ours = span_pair(**{"http.method": "POST"})

    sdk.set_attributes(HTTP_REQUEST)
    sdk.set_attributes(HTTP_RESPONSE)
    set_attributes(ours, HTTP_REQUEST)
    set_attributes(ours, HTTP_RESPONSE)

    assert stored(ours) == stored(sdk)
    assert next(iter(ours.attributes)) == "http.method"


def test_payload_attributes_skip_the_sdks_cleaning(monkeypatch: pytest.MonkeyPatch) -> None:
    _, ours = span_pair()

    def no_cleaning(*args: Any) -> Any:
        raise AssertionError("cleaned again")

    monkeypatch.setattr(otel_attributes, "_clean_attribute_value", no_cleaning)
    set_attributes(ours, HTTP_REQUEST)

    assert dict(ours.attributes) == HTTP_REQUEST


def test_a_key_set_again_moves_to_the_end_as_with_set_attributes() -> None:
    sdk, ours = span_pair(**{attr.HTTP_STATUS: 0, "http.route": "/"})

    sdk.set_attributes(HTTP_RESPONSE)
    set_attributes(ours, HTTP_RESPONSE)

    assert stored(ours) == stored(sdk)


def test_the_attribute_count_limit_drops_the_oldest_as_with_set_attributes() -> None:
    sdk, ours = span_pair(SpanLimits(max_span_attributes=4), **{"a": 1, "b": 2})

    sdk.set_attributes(HTTP_RESPONSE)
    set_attributes(ours, HTTP_RESPONSE)

    assert stored(ours) == stored(sdk)
    assert ours.dropped_attributes == 4


def test_a_value_length_limit_is_applied_by_the_sdk() -> None:
    sdk, ours = span_pair(SpanLimits(max_span_attribute_length=3))

    sdk.set_attributes(HTTP_REQUEST)
    set_attributes(ours, HTTP_REQUEST)

    assert stored(ours) == stored(sdk)
    assert ours.attributes[attr.HTTP_PATH] == "/it"


def test_values_the_sdk_would_change_are_cleaned_by_it() -> None:
    sdk, ours = span_pair()
    values = {"list": ["a", "b"], "mixed": ("a", 1), "object": Named(), "none": None}

    sdk.set_attributes(values)
    set_attributes(ours, values)

    assert stored(ours) == stored(sdk)
    assert ours.attributes["list"] == ("a", "b")


WRITERS = pytest.mark.parametrize("write", [set_attributes, set_clean_attributes])


@WRITERS
def test_an_ended_span_keeps_its_attributes_and_the_sdk_warns(
    write: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, ours = span_pair()
    ours.end()

    with caplog.at_level(logging.WARNING):
        write(ours, HTTP_REQUEST)

    assert dict(ours.attributes) == {}
    assert "Setting attribute on ended span." in caplog.messages


@WRITERS
def test_other_spans_get_their_own_set_attributes(write: Any) -> None:
    span = Mock()

    write(span, HTTP_REQUEST)

    span.set_attributes.assert_called_once_with(HTTP_REQUEST)
    write(NonRecordingSpan(SpanContext(1, 2, is_remote=False)), HTTP_REQUEST)


_KEYS = st.sampled_from(["a", "b", "c", attr.HTTP_STATUS, attr.HTTP_REQUEST_HEADERS, ""])
_VALUES = st.one_of(
    st.text(max_size=6),
    st.binary(max_size=6),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=4), max_size=3).map(tuple),
    st.lists(st.text(max_size=4), max_size=3),
    st.lists(st.one_of(st.text(max_size=2), st.integers()), max_size=3).map(tuple),
    st.just(Named()),
)
_ATTRIBUTES = st.dictionaries(st.one_of(_KEYS, st.just(7)), _VALUES, max_size=5)


def test_the_fast_path_is_taken_for_what_timetracer_writes() -> None:
    # Guards the benefit: an SDK change that disables the fast path would pass the other tests.
    _, ours = span_pair()

    for attributes in (HTTP_REQUEST, HTTP_RESPONSE):
        assert sdk_span._writable_attributes(ours, attributes) is not None


_CLEAN_VALUES = st.one_of(
    st.text(max_size=6),
    st.binary(max_size=6),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.text(max_size=4), max_size=3).map(tuple),
)
_CLEAN_ATTRIBUTES = st.dictionaries(_KEYS.filter(bool), _CLEAN_VALUES, max_size=5)


# set_attributes takes anything; set_clean_attributes only what its callers guarantee.
_SETTERS = st.sampled_from(
    [(set_attributes, _ATTRIBUTES), (set_clean_attributes, _CLEAN_ATTRIBUTES)]
)


@settings(max_examples=400, deadline=None)
@given(
    initial=st.dictionaries(_KEYS.filter(bool), st.text(max_size=3), max_size=3),
    setter=_SETTERS,
    data=st.data(),
    max_attributes=st.sampled_from([0, 1, 2, 4, 128]),
    max_length=st.sampled_from([None, 3]),
)
def test_attributes_under_any_limits_end_up_as_set_attributes_leaves_them(
    initial: dict[str, str],
    setter: tuple[Any, Any],
    data: st.DataObject,
    max_attributes: int,
    max_length: int | None,
) -> None:
    write, attribute_sets = setter
    limits = SpanLimits(max_span_attributes=max_attributes, max_span_attribute_length=max_length)
    sdk, ours = span_pair(limits, **initial)

    for attributes in data.draw(st.lists(attribute_sets, min_size=1, max_size=4)):
        sdk.set_attributes(attributes)
        write(ours, attributes)

    assert stored(ours) == stored(sdk)


def test_clean_attributes_skip_the_type_scan_and_the_cleaning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, ours = span_pair()

    def refused(*args: Any) -> Any:
        raise AssertionError("scanned or cleaned")

    monkeypatch.setattr(sdk_span, "_writable_attributes", refused)
    monkeypatch.setattr(otel_attributes, "_clean_attribute_value", refused)
    set_clean_attributes(ours, HTTP_RESPONSE)

    assert dict(ours.attributes) == HTTP_RESPONSE


def test_a_span_class_verdict_is_remembered_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_span, "_SDK_SPAN_CLASSES", {})
    monkeypatch.setattr(sdk_span, "_MAX_SPAN_CLASSES", 2)
    _, ours = span_pair()
    others = [type(f"Span{n}", (Mock,), {})() for n in range(4)]

    for span in [ours, *others, ours]:
        set_clean_attributes(span, {"a": "b"})

    assert len(sdk_span._SDK_SPAN_CLASSES) == 2
    assert sdk_span._SDK_SPAN_CLASSES[type(ours)] is True
    for other in others:
        other.set_attributes.assert_called_once_with({"a": "b"})

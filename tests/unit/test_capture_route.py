"""``timetracer.capture.route``: where each framework keeps the route template."""

from __future__ import annotations

from types import SimpleNamespace

from timetracer.capture.route import route_template


def test_litestar_path_template_wins() -> None:
    scope = {
        "path": "/items/7",
        "path_template": "/items/{item_id:int}",
        "route": SimpleNamespace(path="/ignored"),
    }

    assert route_template(scope, {"http.route": "/items/7"}) == "/items/{item_id:int}"


def test_fastapi_matched_route_in_the_scope_is_used() -> None:
    scope = {"path": "/items/7", "route": SimpleNamespace(path="/items/{item_id}")}

    assert route_template(scope, {"http.route": "/other"}) == "/items/{item_id}"


def test_the_instrumentors_http_route_span_attribute_is_the_next_fallback() -> None:
    scope = {"path": "/items/7", "path_template": "", "route": object()}

    assert route_template(scope, {"http.route": "/items/{item_id}"}) == "/items/{item_id}"


def test_the_raw_path_is_the_last_fallback() -> None:
    assert route_template({"path": "/items/7"}, {"http.route": ""}) == "/items/7"
    assert route_template({"path": "/items/7"}, None) == "/items/7"


def test_a_scope_without_a_path_falls_back_to_the_root() -> None:
    assert route_template({}, None) == "/"

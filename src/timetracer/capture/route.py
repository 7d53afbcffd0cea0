"""Where each framework keeps the route template of a matched request.

Litestar's ``http.route`` span attribute is the raw path; it puts the template in
``scope["path_template"]``. Starlette and FastAPI get theirs from the contrib instrumentors'
``http.route`` attribute, and FastAPI also leaves the matched route in ``scope["route"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def route_template(scope: Mapping[str, Any], span_attributes: Mapping[str, Any] | None) -> str:
    """The route template for a request, falling back to its raw path."""
    template = scope.get("path_template")
    if isinstance(template, str) and template:
        return template
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    if span_attributes is not None:
        from_span = span_attributes.get("http.route")
        if isinstance(from_span, str) and from_span:
            return from_span
    return str(scope.get("path", "/"))

"""Pointing every PyMongo client at the responder (pymongo 4.20's client classes).

``MongoClient`` and ``AsyncMongoClient`` are wrapped at construction: whatever host, URI or
credentials the app passes, the client connects to the responder's loopback address with a
direct connection and no authentication or TLS. Options that shape the commands themselves
(write concern, read concern, retryWrites, ...) are kept, so replayed commands match the
recorded ones. Motor builds a ``MongoClient`` underneath and is covered by the same wrapper.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

CLIENT_CLASSES = (
    ("pymongo.synchronous.mongo_client", "MongoClient"),
    ("pymongo.asynchronous.mongo_client", "AsyncMongoClient"),
)
# Options that choose where and how to connect; the responder is a plain loopback server.
_CONNECTION_OPTIONS = frozenset(
    name.lower()
    for name in (
        "username", "password", "authSource", "authMechanism", "authMechanismProperties",
        "tls", "ssl", "tlsCAFile", "tlsCertificateKeyFile", "tlsCertificateKeyFilePassword",
        "tlsAllowInvalidCertificates", "tlsAllowInvalidHostnames", "tlsInsecure", "tlsCRLFile",
        "tlsDisableOCSPEndpointCheck", "ssl_cert_reqs", "replicaSet", "directConnection",
        "loadBalanced", "srvServiceName", "srvMaxHosts", "compressors", "zlibCompressionLevel",
        "host", "port", "proxyHost", "proxyPort", "proxyUsername", "proxyPassword",
    )
)  # fmt: skip
_URI = re.compile(r"^mongodb(?:\+srv)?://(?P<hosts>[^/?]*)/?(?P<db>[^?]*)(?:\?(?P<query>.*))?$")


def _uri_parts(host: Any) -> tuple[str, list[tuple[str, str]]]:
    """The default database and the options of a MongoDB URI (no DNS lookups, no validation)."""
    uri = host[0] if isinstance(host, Sequence) and not isinstance(host, str) and host else host
    if not isinstance(uri, str):
        return "", []
    match = _URI.match(uri)
    if match is None:
        return "", []
    return match["db"], parse_qsl(match["query"] or "", keep_blank_values=True)


def responder_uri(host: Any, address: tuple[str, int]) -> str:
    """A URI for the responder keeping the original's default database and command options."""
    database, options = _uri_parts(host)
    kept = [(k, v) for k, v in options if k.lower() not in _CONNECTION_OPTIONS]
    kept.append(("directConnection", "true"))
    return f"mongodb://{address[0]}:{address[1]}/{database}?{urlencode(kept)}"


def redirected_arguments(
    args: Sequence[Any], kwargs: Mapping[str, Any], address: tuple[str, int], listener: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Constructor arguments that point a client at ``address`` with ``listener`` attached."""
    host = args[0] if args else kwargs.get("host")
    rest = list(args[2:]) if len(args) > 2 else []  # document_class, tz_aware, ... positionally
    kept = {k: v for k, v in kwargs.items() if k.lower() not in _CONNECTION_OPTIONS}
    listeners = list(kept.get("event_listeners") or ())
    if listener not in listeners:
        listeners.append(listener)
    kept["event_listeners"] = listeners
    return (responder_uri(host, address), None, *rest), kept


class ClientRedirector:
    """Wraps the client classes' constructors; :meth:`undo` restores them."""

    def __init__(self, address: Callable[[], tuple[str, int]], listener: Any) -> None:
        self._address = address
        self._listener = listener
        self._wrapped: list[tuple[Any, str]] = []

    def apply(self) -> None:
        """Redirect every client constructed from now on."""
        import importlib

        for module_name, class_name in CLIENT_CLASSES:
            wrap_function_wrapper(module_name, f"{class_name}.__init__", self._construct)
            self._wrapped.append((getattr(importlib.import_module(module_name), class_name), "__init__"))

    def undo(self) -> None:
        """Construct clients as before :meth:`apply`."""
        for owner, attribute in self._wrapped:
            unwrap(owner, attribute)
        self._wrapped.clear()

    def _construct(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        new_args, new_kwargs = redirected_arguments(args, kwargs, self._address(), self._listener)
        return wrapped(*new_args, **new_kwargs)

"""Pointing every PyMongo client at the responder (pymongo 4.20's client classes).

``MongoClient`` and ``AsyncMongoClient`` are wrapped at construction: whatever host, URI or
credentials the app passes, the client connects to the responder's loopback address with a
direct connection and no authentication or TLS. Options that shape the commands themselves
(write concern, read concern, retryWrites, ...) are kept, so replayed commands match the
recorded ones. Motor builds a ``MongoClient`` underneath and is covered by the same wrapper.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode

from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from timetracer_replay.scope import ClientOrigin

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
    query = match["query"] or ""
    # MongoDB URIs may separate options with ";" instead of "&" (not both), as pymongo accepts.
    separator = ";" if ";" in query and "&" not in query else "&"
    return match["db"], parse_qsl(query, keep_blank_values=True, separator=separator)


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
    """Redirects client construction while applied; :meth:`undo` stops it.

    ``listener_for(origin)`` makes the command listener attached to each redirected client,
    given how the app constructed it. The client classes are wrapped once, whatever number of
    redirectors are applied; the one applied last decides, and undoing one (in any order)
    hands over to the one applied before it.
    """

    def __init__(
        self, address: Callable[[], tuple[str, int]], listener_for: Callable[[ClientOrigin], Any]
    ) -> None:
        self._address = address
        self._listener_for = listener_for
        self._bypass = threading.local()

    def apply(self) -> None:
        """Redirect every client constructed from now on."""
        _REDIRECTORS.push(self)

    def undo(self) -> None:
        """Stop redirecting (clients go to the previous redirector, or nowhere new)."""
        _REDIRECTORS.remove(self)

    @contextmanager
    def bypassed(self) -> Iterator[None]:
        """Construct clients normally inside the block, in this thread (hybrid replay)."""
        self._bypass.active = True
        try:
            yield
        finally:
            self._bypass.active = False

    def construct(self, wrapped: Any, args: Any, kwargs: Any) -> Any:
        """Build one client, redirected unless bypassed."""
        if getattr(self._bypass, "active", False):
            return wrapped(*args, **kwargs)
        origin = ClientOrigin(tuple(args), dict(kwargs))
        listener = self._listener_for(origin)
        new_args, new_kwargs = redirected_arguments(args, kwargs, self._address(), listener)
        return wrapped(*new_args, **new_kwargs)


class _ActiveRedirectors:
    """The redirectors applied in this process, and the one wrap of the client classes."""

    def __init__(self) -> None:
        self._stack: list[ClientRedirector] = []
        self._lock = threading.Lock()
        self._wrapped: list[Any] = []

    def push(self, redirector: ClientRedirector) -> None:
        with self._lock:
            if redirector in self._stack:
                return
            if not self._stack:
                for module_name, class_name in CLIENT_CLASSES:
                    wrap_function_wrapper(module_name, f"{class_name}.__init__", self._construct)
                    module = importlib.import_module(module_name)
                    self._wrapped.append(getattr(module, class_name))
            self._stack.append(redirector)

    def remove(self, redirector: ClientRedirector) -> None:
        with self._lock:
            if redirector not in self._stack:
                return
            self._stack.remove(redirector)
            if not self._stack:
                for owner in self._wrapped:
                    unwrap(owner, "__init__")
                self._wrapped.clear()

    def _construct(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        with self._lock:
            current = self._stack[-1] if self._stack else None
        if current is None:
            return wrapped(*args, **kwargs)
        return current.construct(wrapped, args, kwargs)


_REDIRECTORS = _ActiveRedirectors()

"""``timetracer serve``: the live dashboard on the standard library's threading HTTP server.

The routes and the checks every request goes through are in :mod:`.handler`.
"""

from __future__ import annotations

import logging
import secrets
import socket
import socketserver
import threading
from http.server import ThreadingHTTPServer
from typing import Any

from timetracer.dashboard.catalog import CassetteCatalog
from timetracer.dashboard.handler import DashboardHandler
from timetracer.dashboard.page import render_live
from timetracer.dashboard.replay import ReplayAction
from timetracer.errors import DashboardError

logger = logging.getLogger(__name__)


class DashboardServer(ThreadingHTTPServer):
    """Serves the live dashboard of ``catalog``; ``replay`` enables the replay button."""

    daemon_threads = True  # idle keep-alive connections must not hold the process open

    def __init__(
        self,
        address: tuple[str, int],
        catalog: CassetteCatalog,
        *,
        replay: ReplayAction | None = None,
    ) -> None:
        self.catalog = catalog
        self.replay = replay
        self.app_spec = replay.app_spec if replay is not None else None
        self.token = secrets.token_urlsafe(32)
        self.page = render_live(
            {"mode": "live", "token": self.token, "app": self.app_spec, "replay": bool(replay)}
        )
        self._thread: threading.Thread | None = None
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        try:
            super().__init__(address, DashboardHandler)
        except OSError as error:
            raise DashboardError(
                f"cannot listen on {address[0]}:{address[1]}: {error.strerror or error}"
            ) from error

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host's FQDN up in DNS, which nothing here needs.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def url(self) -> str:
        """The page's address."""
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside a request (reset while idle, ...): log, go on."""
        logger.debug("timetracer serve: connection from %s failed", client_address, exc_info=True)

    def start(self) -> DashboardServer:
        """Serve in a background thread."""
        # A short poll interval: shutdown() waits up to one interval for the loop to notice.
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="timetracer-serve", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port; idempotent."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

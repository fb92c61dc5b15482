"""The dashboard beside the scheduler: `tension run` serves the web app from a background thread.

One process, one store (SQLAlchemy's engine is thread-safe), so `make run` gives a working
dashboard with nothing else to start. uvicorn only installs signal handlers in the main
thread, so SIGINT/SIGTERM still reach the scheduler's handler; the scheduler stops first,
then the server is told to exit and finishes the requests in flight.

On first start with no accounts an ``admin`` account is created with a random password,
printed once and written to ``<data_dir>/initial-admin-password`` (0600), so a new
installation can be logged into without a second command.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
import uvicorn

from monitor.store import Store
from monitor.store.schema import users
from monitor.web.auth import add_user

log = logging.getLogger("tension.web")
INITIAL_PASSWORD_FILE = "initial-admin-password"
INITIAL_ADMIN = "admin"
START_TIMEOUT = 15.0


def ensure_admin(store: Store, data_dir: Path, now: dt.datetime) -> tuple[str, Path] | None:
    """Create the ``admin`` account when there is no account at all; returns its password and
    the file it was written to, or None when accounts exist already."""
    with store.transaction() as conn:
        if conn.scalar(sa.select(users.c.id).limit(1)) is not None:
            return None
    password = secrets.token_urlsafe(18)
    add_user(store, INITIAL_ADMIN, password, "admin", by="tension-monitor", now=now)
    path = Path(data_dir) / INITIAL_PASSWORD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have had wider permissions
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password, path


class DashboardServer:
    """uvicorn on a socket bound here (so a busy port is an error we can word), in a thread."""

    def __init__(self, app, host: str, port: int):
        self.app, self.host, self.port = app, host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Bind, serve, and return the URL once requests are answered. OSError if the address
        cannot be bound; RuntimeError if the server did not come up."""
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="dashboard", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the web server did not start (see the log)")
            time.sleep(0.02)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def _bind(self) -> socket.socket:
        """A listening TCP socket. Made with the IPPROTO_TCP protocol number, as uvicorn's own
        binding does: asyncio sets TCP_NODELAY only on such sockets, and without it every
        response after the first on a keep-alive connection waited 40 ms for a delayed ACK."""
        family, kind, proto, _, address = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
        return sock

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def start_dashboard(service, say: Callable[[str], None]) -> DashboardServer | None:
    """Start the dashboard for `tension run` if ``web.enabled``. A busy port is logged and the
    service runs on without it: collecting and alerting matter more than the pages."""
    from monitor.web import create_app

    web = service.settings.main.web
    if not web.enabled:
        return None
    server = DashboardServer(create_app(service.settings, store=service.store), web.host, web.port)
    try:
        url = server.start()
    except (OSError, RuntimeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        log.error("dashboard not started", extra={"fields": {
            "address": f"{web.host}:{web.port}", "error": reason,
            "hint": "set web.port in the main config, or web.enabled: false"}})
        return None
    say(f"dashboard: {url}")
    created = ensure_admin(service.store, service.settings.data_dir, dt.datetime.now(dt.timezone.utc))
    if created:
        password, path = created
        say(f"first start: dashboard account {INITIAL_ADMIN!r} created with password {password} "
            f"(shown once; also in {path}, mode 0600). Add named accounts with `tension users add`.")
    return server

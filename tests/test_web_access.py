"""Who may reach what: every route is closed without a session (found by enumerating the app's
routes, so pages added later are covered too), roles, CSRF on every POST, login rate limiting,
API tokens, and the dashboard that `tension run` serves beside the scheduler."""

from __future__ import annotations

import inspect
import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Route
from typer.testing import CliRunner

from conftest import utc, write_config
from monitor.cli import app as cli
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store.schema import api_tokens, audit_log
from monitor.web import create_app
from monitor.web.auth import SESSION_COOKIE, add_user, verify_password
from monitor.web.server import INITIAL_PASSWORD_FILE, DashboardServer, ensure_admin, start_dashboard

REPO = Path(__file__).resolve().parent.parent
NOW = utc(2026, 11, 20, 18)
PASSWORD = secrets.token_urlsafe(16)  # generated per run: no password in the repo
HTML = {"Accept": "text/html"}
# Open without a session: the login form; the health check; the partners' report intake (it has
# its own bearer tokens); the API's documentation (no data in it, and partners read it to use
# /api/reports); and logout, which only clears the cookie. /static is a mount, not a route.
PUBLIC = {"/login", "/logout", "/api/health", "/api/reports", "/api/docs", "/api/openapi.json",
          "/docs/oauth2-redirect"}


@pytest.fixture
def app(config_path, store):
    for role in ("viewer", "officer", "analyst", "admin"):
        add_user(store, role, PASSWORD, role, by="test", now=NOW)
    return create_app(load_settings(config_path), store=store, clock=lambda: NOW)


def routes(app) -> list[tuple[str, str, Route]]:
    """(method, path, route) for every route of the app, pages and API alike, with the
    prefixes of the routers they were included from."""
    found = []
    for context in iter_route_contexts(app.routes):
        if context.methods:
            found += [(method, context.path, context.original_route)
                      for method in sorted(context.methods - {"HEAD"})]
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def required_role(route: Route) -> str | None:
    """The role named in the route's ``require(role)`` dependency, if it has one."""
    stack = [getattr(route, "dependant", None)]
    while stack:
        dependant = stack.pop()
        if dependant is None:
            continue
        if getattr(dependant.call, "__qualname__", "") == "require.<locals>.dependency":
            return inspect.getclosurevars(dependant.call).nonlocals["role"]
        stack.extend(dependant.dependencies)
    return None


def login(app, role: str) -> tuple[TestClient, str]:
    client = TestClient(app, headers=HTML)
    response = client.post("/login", data={"username": role, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    return client, app.state.sessions.read(client.cookies[SESSION_COOKIE]).csrf


def test_every_route_is_closed_without_a_session(app):
    client = TestClient(app)
    checked = 0
    for method, path, _route in routes(app):
        if path in PUBLIC:
            continue
        url = concrete(path)
        if path.startswith("/api/"):
            response = client.request(method, url)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"] == "Bearer"
        elif method == "GET":
            page = client.get(url, headers=HTML, follow_redirects=False)
            assert page.status_code == 303, (path, page.status_code)
            assert page.headers["location"].startswith("/login?next=/"), path
            assert client.get(url).status_code == 401, path  # a script, not a browser
        else:
            response = client.request(method, url, headers=HTML, data={"csrf": "guess"})
            assert response.status_code == 401, (method, path, response.status_code)
        checked += 1
    assert checked >= 8


def test_a_forged_or_stale_cookie_is_no_session(app):
    client, _ = login(app, "admin")
    real = client.cookies[SESSION_COOKIE]
    for cookie in ("forged", real[:-2] + ("AA" if not real.endswith("AA") else "BB")):
        other = TestClient(app, headers=HTML, cookies={SESSION_COOKIE: cookie})
        assert other.get("/audit", follow_redirects=False).status_code == 303


def test_a_viewer_is_refused_everything_that_needs_a_higher_role(app):
    client, csrf = login(app, "viewer")
    higher = [(method, path, role) for method, path, route in routes(app)
              if (role := required_role(route)) not in (None, "viewer")]
    assert any(method == "POST" for method, _, _ in higher) and ("GET", "/audit", "admin") in higher
    for method, path, role in higher:
        response = client.request(method, concrete(path), headers={"X-CSRF-Token": csrf})
        assert response.status_code == 403, (method, path, response.status_code)
        assert f"needs the {role} role" in response.text


def test_every_post_with_a_session_needs_its_csrf_token(app, store):
    client, csrf = login(app, "admin")
    posts = [path for method, path, route in routes(app) if method == "POST" and path not in PUBLIC]
    assert "/feedback" in posts
    for path in posts:
        url = concrete(path)
        for attempt in ({"data": {"next": "/"}}, {"data": {"csrf": "not-" + csrf}},
                        {"headers": {"X-CSRF-Token": csrf[:-1]}}):
            response = client.post(url, **attempt)
            assert response.status_code == 403, (path, attempt, response.status_code)
            assert "Form refused" in response.text
    with store.transaction() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(audit_log)
                           .where(audit_log.c.action.not_in(("user.add", "login")))) == 0  # nothing done


def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(app):
    response = TestClient(app).post("/login", data={"username": "viewer", "password": PASSWORD},
                                    follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    proxied = TestClient(app).post("/login", data={"username": "viewer", "password": PASSWORD},
                                   headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert "secure" in proxied.headers["set-cookie"].lower()


def test_login_is_refused_after_five_failures(app, store):
    client = TestClient(app, headers=HTML)
    for _ in range(5):
        failed = client.post("/login", data={"username": "viewer", "password": "not the password"})
        assert failed.status_code == 401 and "Wrong username or password" in failed.text
    blocked = client.post("/login", data={"username": "viewer", "password": PASSWORD}, follow_redirects=False)
    assert blocked.status_code == 429 and SESSION_COOKIE not in blocked.cookies
    other = client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert other.status_code == 429  # the address is limited as well as the name
    with store.transaction() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(audit_log)
                           .where(audit_log.c.action == "login.failed")) == 5


def test_api_tokens_from_the_cli_act_with_their_accounts_role(config_path):
    settings = load_settings(config_path)
    store = Store.open(settings.database_url)
    try:
        add_user(store, "feed", PASSWORD, "viewer", by="test", now=NOW)
        add_user(store, "boss", PASSWORD, "admin", by="test", now=NOW)
        tokens = {}
        for name in ("feed", "boss"):
            result = CliRunner().invoke(cli, ["--config", str(config_path), "users", "token", name,
                                              "--name", "police analyst feed"])
            assert result.exit_code == 0, result.output
            tokens[name] = re.search(r"tm_[\w-]{20,}", result.stdout).group(0)
        with TestClient(create_app(settings, store=store, clock=lambda: NOW)) as client:
            def get(path: str, token: str) -> httpx.Response:
                return client.get(path, headers={"Authorization": f"Bearer {token}"})

            assert get("/api/v1/levels", tokens["feed"]).status_code == 200
            assert get("/api/v1/audit", tokens["feed"]).status_code == 403
            assert get("/api/v1/audit", tokens["boss"]).status_code == 200
            assert get("/api/v1/levels", "tm_" + "x" * 43).status_code == 401
            # A token carries no cookie, so its POSTs need no CSRF token (nothing to forge).
            verdict = client.post("/feedback", data={"post_id": "999", "head": "hate", "label": "true"},
                                  headers={"Authorization": f"Bearer {tokens['boss']}"})
            assert verdict.status_code not in (401, 403)
            with store.transaction() as conn:
                conn.execute(sa.update(api_tokens).values(revoked_at=NOW))
            assert get("/api/v1/levels", tokens["feed"]).status_code == 401
    finally:
        store.close()


# -- the dashboard beside the scheduler -----------------------------------------------------------

def test_the_first_start_creates_an_admin_once(tmp_path, store):
    stale = tmp_path / INITIAL_PASSWORD_FILE
    stale.write_text("old\n")
    stale.chmod(0o644)
    password, path = ensure_admin(store, tmp_path, NOW)

    assert path == stale and path.read_text() == password + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert verify_password(store, "admin", password).role == "admin"
    assert ensure_admin(store, tmp_path, NOW) is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_dashboard_serves_from_a_thread_and_stops(config_path, store):
    server = DashboardServer(create_app(load_settings(config_path), store=store), "127.0.0.1", 0)
    url = server.start()
    try:
        assert httpx.get(url + "api/health").status_code == 200
        assert httpx.get(url, headers=HTML).headers["location"] == "/login?next=/"
    finally:
        server.stop()
    assert not server._thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "api/health")


def test_a_busy_port_leaves_the_service_running_without_the_dashboard(config_path, store, caplog):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        (config_path.parent / "tension.yaml").open("a").write(f"web: {{port: {port}}}\n")
        said = []
        service = SimpleNamespace(settings=load_settings(config_path), store=store)
        assert start_dashboard(service, said.append) is None
    assert said == [] and "dashboard not started" in caplog.text


def test_tension_run_serves_the_dashboard_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    root = tmp_path / "config"
    config = write_config(root, main_extra=f"web: {{host: 127.0.0.1, port: {port}}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")} | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    password_file = root / "var" / INITIAL_PASSWORD_FILE
    try:
        deadline = time.monotonic() + 60
        while not password_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        password = password_file.read_text().strip()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=HTML) as browser:
            browser.post("/login", data={"username": "admin", "password": password})
            assert browser.get("/").status_code == 200
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert f"dashboard: http://127.0.0.1:{port}/" in stdout and password in stdout
    assert "Traceback" not in stderr

"""The partner API: in-process with FastAPI's TestClient, and once over real HTTP with uvicorn."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from monitor.errors import ConfigError
from monitor.reports import ContactVault, ReportsEnvironment
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store.schema import posts, report_contacts
from monitor.web import create_app

TOKEN = "police-" + secrets.token_hex(8)  # generated: no secret in the repo
OTHER = "housing-9b1e44c07a2d5e63"
KEY = Fernet.generate_key()
NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.timezone.utc)
REPORT = {
    "text": "Rumour going round the school gates that the hotel is being filled tonight",
    "place": "Workington",
    "category": "rumour",
    "occurred_at": "2026-11-20",
    "contact": "Sam (community forum) 07700 900456",
}


@pytest.fixture
def settings(config_path, monkeypatch):
    for name in ("TENSION_REPORTS_KEY", "TENSION_REPORTS_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(config_path)


def environment(tokens: str | None = f"{TOKEN},{OTHER}") -> ReportsEnvironment:
    return ReportsEnvironment(key=SecretStr(KEY.decode()), tokens=SecretStr(tokens) if tokens else None)


@pytest.fixture
def client(settings, store):
    app = create_app(settings, store=store, environment=environment(), clock=lambda: NOW)
    with TestClient(app) as client:
        yield client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def stored(store) -> tuple[int, int]:
    with store.transaction() as conn:
        return (conn.scalar(sa.select(sa.func.count()).select_from(posts)),
                conn.scalar(sa.select(sa.func.count()).select_from(report_contacts)))


def test_health(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] == "ok"


def test_a_partner_files_a_report(client, store):
    response = client.post("/api/reports", json=REPORT, headers=bearer(OTHER))

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "filed"
    with store.transaction() as conn:
        row = conn.execute(sa.select(posts)).mappings().one()
        ciphertext = conn.scalar(sa.select(report_contacts.c.ciphertext))
    assert row["external_id"] == body["id"]
    assert (row["platform"], row["source_id"]) == ("report", "reports-api")
    assert row["meta"] == {"category": "rumour", "channel": "api", "place_hints": ["workington"]}
    assert row["published_at"] == dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc)
    assert "07700" not in str(dict(row))
    assert ContactVault(KEY).open(ciphertext) == REPORT["contact"]


@pytest.mark.parametrize("headers", [{}, bearer("police-3f9c2a7d41b8e6f1"), {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_without_a_valid_token_nothing_is_filed(client, store, headers):
    response = client.post("/api/reports", json=REPORT, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"
    assert stored(store) == (0, 0)


def test_a_bad_token_is_refused_before_the_body_is_looked_at(client, store):
    response = client.post("/api/reports", json={"text": ""}, headers=bearer("wrong-token-wrong-token"))
    assert response.status_code == 401


def test_with_no_tokens_configured_the_intake_is_off(settings, store):
    app = create_app(settings, store=store, environment=environment(tokens=None))
    with TestClient(app) as client:
        response = client.post("/api/reports", json=REPORT, headers=bearer(TOKEN))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "reports_disabled"
    assert "TENSION_REPORTS_TOKENS" in response.json()["error"]["message"]
    assert stored(store) == (0, 0)


def test_bad_input_gets_field_errors_and_stores_nothing(client, store):
    bad = REPORT | {"text": "", "category": "burglary", "contact": "x" * 501, "extra": 1}
    response = client.post("/api/reports", json=bad, headers=bearer(TOKEN))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert sorted(f["field"] for f in error["fields"]) == ["category", "contact", "extra", "text"]
    assert "category: Input should be 'hate_incident', 'rumour', 'tension' or 'asb'" in error["message"]
    assert stored(store) == (0, 0)


@pytest.mark.parametrize("occurred_at, message", [
    ("2026-11-20T19:00:00Z", "occurred_at: is in the future"),  # ahead of the app's clock
    ("2026-09-01", "occurred_at: is more than 28 days ago"),
    ("2026-11-20T10:00:00", "occurred_at: give a UTC offset"),
])
def test_dates_are_checked_against_the_partnership_clock(client, store, occurred_at, message):
    response = client.post("/api/reports", json=REPORT | {"occurred_at": occurred_at}, headers=bearer(TOKEN))
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(message)
    assert response.json()["error"]["fields"][0]["field"] == "occurred_at"
    assert stored(store) == (0, 0)


def test_a_body_that_is_not_json_is_a_clear_422(client):
    response = client.post("/api/reports", content=b"{not json", headers=bearer(TOKEN) | {
        "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "body"
    assert response.json()["error"]["message"].startswith("body: not valid JSON")


def test_tokens_come_from_the_environment(settings, store, monkeypatch):
    monkeypatch.setenv("TENSION_REPORTS_TOKENS", TOKEN)
    monkeypatch.setenv("TENSION_REPORTS_KEY", KEY.decode())
    with TestClient(create_app(settings, store=store, clock=lambda: NOW)) as client:
        assert client.post("/api/reports", json=REPORT, headers=bearer(TOKEN)).status_code == 201
        assert client.post("/api/reports", json=REPORT, headers=bearer(OTHER)).status_code == 401
    monkeypatch.setenv("TENSION_REPORTS_TOKENS", "tiny")
    with pytest.raises(ConfigError, match="TENSION_REPORTS_TOKENS"):
        create_app(settings, store=store)


def test_unknown_paths_answer_in_the_same_error_shape(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


def test_over_real_http_with_uvicorn_and_its_own_store(settings, monkeypatch):
    """The app as `tension serve` would run it: uvicorn on loopback, the store opened by the app."""
    monkeypatch.setenv("TENSION_REPORTS_TOKENS", TOKEN)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            assert http.get("/api/health").json()["status"] == "ok"
            filed = http.post("/api/reports", json=REPORT | {"occurred_at": None}, headers=bearer(TOKEN))
            refused = http.post("/api/reports", json=REPORT, headers=bearer(OTHER))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert filed.status_code == 201, filed.text
    assert refused.status_code == 401
    assert not thread.is_alive()
    # The key file the app generated opens the contact it sealed.
    key = (settings.data_dir / "reports.key").read_bytes().strip()
    store = Store.open(settings.database_url)
    try:
        with store.transaction() as conn:
            ciphertext = conn.scalar(sa.select(report_contacts.c.ciphertext))
            assert conn.scalar(sa.select(posts.c.external_id)) == filed.json()["id"]
    finally:
        store.close()
    assert ContactVault(key).open(ciphertext) == REPORT["contact"]

"""Generated hostile input at every route of the web app, on SQLite and PostgreSQL: path and query
values, form fields and partner report bodies. Whatever comes in, the answer is a status the app
means (never a 500) in the house error shape, and a report is either stored once or refused
with a one-line reason."""

from __future__ import annotations

import json
import re
import secrets
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, example, given, settings as hsettings, strategies as st
from pydantic import SecretStr

from conftest import utc
from monitor.reports import ReportsEnvironment
from monitor.settings import load_settings
from monitor.store.schema import posts
from monitor.web import api, create_app, page_routers, pages
from monitor.web.auth import add_user

NOW = utc(2026, 11, 20, 18)
PASSWORD = secrets.token_urlsafe(16)
TOKEN = "partner-" + secrets.token_hex(8)
# 409 is the pages' answer to acting on an alert, silence or story that does not exist (the
# page again, with the reason); 303 the redirect after a form that worked; 307 the framework's
# redirect of a path ending in "/" (an id of "/") to the same path without it.
MEANT = {200, 303, 307, 400, 403, 404, 409, 422}
# the session itself; a slow render; the partner intake (its bodies are tested below)
NOT_A_ROUTE = {"/login", "/logout", "/briefings/generate", "/api/reports"}

CONSTANTS = ["99999999999999999999", "-99999999999999999999", "-1", "0", "9223372036854775808",
             "9999-12-31", "0001-01-01", "10000-01-01", "2026-02-30", "99999999999999999999d", "-4h",
             "1e308", "nan", "inf", "\x00", "a\x00b", "\ud800", "\udfff x", "x" * 20_000, "",
             " ", "../../etc/passwd", "<script>alert(1)</script>", "%00", "1 OR 1=1"]
HOSTILE = st.one_of(
    st.sampled_from(CONSTANTS),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=60),
)
# Values a route accepts, so that generated requests also reach past the first check.
ORDINARY = st.sampled_from(["1", "2", "hate", "4h", "workington", "testshire", "2026-11-20", "firing",
                            "day", "md", "rumour", "yes", "true", "false", "all", "alertname=x"])
VALUE = st.one_of(HOSTILE, ORDINARY)


# A value each parameter accepts, so that a sweep puts one hostile value past the other checks.
GOOD = {"action": "level.set", "at": "2026-11-20T10:00", "briefing_id": "1", "category": "rumour",
        "claim": "a claim", "cluster_id": "c1", "comment": "ok", "contact": "", "day": "2026-11-20",
        "days": "7", "description": "d", "duration": "4h", "extra": "", "fingerprint": "a" * 12, "fmt": "md",
        "head": "hate", "judgement": "fine", "label": "true", "limit": "10", "locality": "workington",
        "locality_id": "workington", "match": "alertname=x", "next": "/", "occurred_on": "2026-11-20",
        "page": "1", "place": "Workington", "post_id": "1", "reason": "a reason", "report": "r",
        "rules_yaml": "rules: []", "silence_id": "s1", "state": "firing", "status": "false", "text": "t",
        "title": "t", "version_id": "1"}


def routes() -> list[tuple[str, APIRoute]]:
    found = []
    for router in (api.router, pages.router, *page_routers()):
        for route in router.routes:
            if isinstance(route, APIRoute) and route.path not in NOT_A_ROUTE:
                found.extend((method, route) for method in sorted(route.methods) if method in ("GET", "POST"))
    return found


ROUTES = routes()


@pytest.fixture
def app(config_path, store):
    settings = load_settings(config_path)
    environment = ReportsEnvironment(key=SecretStr(Fernet.generate_key().decode()), tokens=SecretStr(TOKEN))
    add_user(store, "admin", PASSWORD, "admin", by="test", now=NOW)
    return create_app(settings, store=store, environment=environment, clock=lambda: NOW)


@pytest.fixture
def admin(app):
    client = TestClient(app, headers={"Accept": "text/html"}, raise_server_exceptions=False)
    assert client.post("/login", data={"username": "admin", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    client.csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/alerts").text).group(1)
    return client


def assert_house_shape(response, path: str) -> None:
    if response.status_code < 400:
        return
    if path.startswith("/api/"):
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"]["message"], str), body
        assert body["error"]["code"] and "\n" not in body["error"]["message"]
    else:
        assert response.headers["content-type"].startswith("text/html"), response.text[:200]
        assert "<h1>" in response.text


def encode(value: str) -> str:
    """Percent-encoded as a hostile client may send it: a lone surrogate as its raw bytes."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def fill(route: APIRoute, values: dict) -> str:
    path = route.path
    for param in route.dependant.path_params:
        path = path.replace("{" + param.name + "}", encode(values[param.name]) or "x")
    return path


def form(values: dict) -> str:
    return "&".join(f"{encode(name)}={encode(value)}" for name, value in values.items())


def send(client: TestClient, method: str, route: APIRoute, values: dict):
    path = fill(route, values)
    query = form({p.name: values[p.name] for p in route.dependant.query_params})
    url = f"{path}?{query}" if query else path
    if method == "GET":
        return client.get(url, follow_redirects=False)
    body = form({p.name: values[p.name] for p in route.dependant.body_params} | {"csrf": client.csrf})
    return client.post(url, content=body.encode(), follow_redirects=False,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picked=st.sampled_from(ROUTES), data=st.data())
def test_any_value_in_any_route_gets_a_meant_answer_in_the_house_shape(admin, picked, data):
    method, route = picked
    names = [p.name for p in (*route.dependant.path_params, *route.dependant.query_params,
                              *route.dependant.body_params)]
    values = {name: data.draw(VALUE, label=name) for name in names}
    response = send(admin, method, route, values)
    path = fill(route, values)
    event(f"status {response.status_code}")
    assert response.status_code in MEANT, (method, path, response.status_code, response.text[:300])
    assert_house_shape(response, path)


def test_every_hostile_value_in_every_parameter_of_every_route(admin):
    """The sweep beside the generated test: each hostile value in turn in each parameter, the
    others set to a value the route accepts."""
    wrong = []
    for method, route in ROUTES:
        names = [p.name for p in (*route.dependant.path_params, *route.dependant.query_params,
                                  *route.dependant.body_params)]
        for name in names:
            for value in CONSTANTS:
                values = {n: GOOD.get(n, "1") for n in names} | {name: value}
                response = send(admin, method, route, values)
                if response.status_code not in MEANT:
                    wrong.append((method, route.path, name, value[:30], response.status_code))
                else:
                    assert_house_shape(response, fill(route, values))
    assert not wrong


@pytest.mark.parametrize("path", ["/briefings/99999999999999999999", "/briefings/-1",
                                  "/api/v1/levels?day=9999-12-31", "/api/v1/levels?day=0001-01-01",
                                  "/tuning/versions/99999999999999999999/revert",
                                  "/feedback?post_id=99999999999999999999"])
def test_the_out_of_range_numbers_of_the_issue_are_refused_in_the_house_shape(admin, path):
    if path.startswith("/feedback"):
        path, query = path.split("?")
        response = admin.post(path, data={"csrf": admin.csrf, "post_id": query.split("=")[1], "head": "hate",
                                          "label": "true"})
        assert response.status_code == 422 and "<h1>" in response.text
        return
    response = (admin.post(path, data={"csrf": admin.csrf}) if path.endswith("revert") else admin.get(path))
    assert response.status_code == 422
    assert_house_shape(response, path)
    api_response = admin.get(path, headers={"Accept": "application/json"}) if not path.endswith("revert") else None
    if api_response is not None:
        assert api_response.status_code == 422 and api_response.json()["error"]["code"] == "invalid_request"


REPORT_FIELDS = {
    "text": st.one_of(st.text(max_size=200), st.sampled_from(["x" * 6000, "a\x00b", "\ud800", "ok report"])),
    "place": st.one_of(st.text(max_size=50), st.sampled_from(["Workington", "", "\x00"])),
    "category": st.one_of(st.sampled_from(["rumour", "asb", "hate_incident", "incident", ""]), st.text(max_size=10)),
    "occurred_at": st.sampled_from(["2026-11-20", "0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31",
                                    "9999-12-31T23:59:59-14:00", "2026-11-20T10:00:00", "yesterday", ""]),
    "contact": st.one_of(st.none(), st.text(max_size=30), st.just("\ud800")),
}
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=20), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
VALID = st.fixed_dictionaries(
    {"text": st.text(min_size=1, max_size=300), "place": st.sampled_from(["Workington", "workington", "Vulcan Park"]),
     "category": st.sampled_from(["rumour", "asb", "tension"])},
    optional={"occurred_at": st.sampled_from(["2026-11-20", "2026-11-19T10:00:00Z"]),
              "contact": st.text(max_size=40)})
BODIES = st.one_of(
    VALID.map(lambda d: json.dumps(d).encode()),
    st.fixed_dictionaries({}, optional={k: st.one_of(v, JSON_VALUES) for k, v in REPORT_FIELDS.items()})
    .map(lambda d: json.dumps(d).encode()),
    st.fixed_dictionaries({k: v for k, v in REPORT_FIELDS.items()}).map(lambda d: json.dumps(d).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.sampled_from([b'{"text": "caf\xe9", "place": "Workington", "category": "rumour"}', b"\xff\xfe{", b"",
                     b'{"\\ud800\\n": 1, "text": "x", "place": "Workington", "category": "rumour"}',
                     b'{"text": "' + b"y" * 300_000 + b'", "place": "Workington", "category": "rumour"}']),
)


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
@example(body=b'{"\\ud800\\n": 1, "text": "x", "place": "Workington", "category": "rumour"}')
@example(body=b'{"text": "a\\u0000b", "place": "Workington", "category": "rumour"}')
def test_a_report_body_is_stored_once_or_refused_with_one_line(app, store, body):
    client = TestClient(app, raise_server_exceptions=False)
    with store.transaction() as conn:
        before = conn.scalar(sa.select(sa.func.count()).select_from(posts))
    response = client.post("/api/reports", content=body, headers={
        "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with store.transaction() as conn:
        after = conn.scalar(sa.select(sa.func.count()).select_from(posts))
    event(f"status {response.status_code}")
    # 400: a body that is not UTF-8 at all, refused by the framework before it is read as JSON
    assert response.status_code in (201, 400, 422), (body[:200], response.status_code, response.text[:300])
    if response.status_code == 201:
        assert after == before + 1 and response.json()["status"] == "filed"
    else:
        assert after == before
        error = response.json()["error"]
        assert error["code"] in ("invalid_request", "http_error") and error["message"]
        assert "\n" not in error["message"]

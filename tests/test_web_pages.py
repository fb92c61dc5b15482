"""The dashboard's read pages and their JSON API, in-process, on SQLite and PostgreSQL:
overview, locality, sources, audit log, /api/v1, and the inline SVG they draw."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import LOCALITIES, utc
from monitor.settings import load_settings
from monitor.store.schema import (
    alerts,
    audit_log,
    cluster_windows,
    fetch_state,
    level_overrides,
    locality_windows,
    narrative_clusters,
    narrative_windows,
    post_localities,
    post_scores,
    posts,
    tension_levels,
)
from monitor.web import create_app, svg
from monitor.web.auth import add_user

NOW = utc(2026, 11, 20, 18, 0)
TODAY = utc(2026, 11, 20)
PASSWORD = secrets.token_urlsafe(16)  # generated per run: no password in the repo
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
PSEUDONYM = secrets.token_hex(32)  # an author pseudonym is 64 hex digits; made per run, none in the repo
HATEFUL = ("@fictional_ringleader says https://example.org/x they should all leave Workington #Workington "
           "(write to ringleader@example.net)")
CLEANED = ("[account removed] says [link removed] they should all leave Workington #Workington "
           "(write to [address removed])")


@pytest.fixture
def settings(config_path):
    # A third place, so the area outline (a convex hull) is a polygon.
    (config_path.parent / "localities" / "test.yaml").write_text(LOCALITIES.replace(
        "sensitive_sites:",
        "  - {id: seaton, name: Seaton, kind: village, latitude: 54.67, longitude: -3.51}\nsensitive_sites:"))
    return load_settings(config_path)


def _window(locality: str, window: str, start: dt.datetime, posts_: int, **counts) -> dict:
    row = {"locality_id": locality, "window": window, "start": start, "posts": posts_, "scored": posts_,
           "unread": 0, "hate": 0, "offensive": 0, "conspiracy": 0, "narrative": 0, "mobilisation": 0,
           "sites": 0, "reports": 0, "authors": max(1, posts_ // 2), "negativity_sum": 0.0,
           "tension_sum": 0.3 * posts_, "tension_max": 0.6, "computed_at": NOW}
    return row | counts


def _post(conn, post_id: int, text: str, at: dt.datetime, labels: list[str], locality: str | None) -> None:
    conn.execute(sa.insert(posts).values(
        id=post_id, source_id="replay-test", external_id=f"e{post_id}", platform="facebook",
        url=f"https://facebook.example/fictional_user/{post_id}", author_pseudonym=PSEUDONYM, text=text,
        content_hash=f"h{post_id}", published_at=at, collected_at=at, meta={}))
    conn.execute(sa.insert(post_scores).values(
        post_id=post_id, status="scored", language="en", model_version="test", scored_at=at,
        hate=0.91 if "hate" in labels else 0.02, offensive=0.1, conspiracy=0.05, mobilisation=0.01,
        negativity=0.5, tension=0.7, labels=labels, target_groups=[], explanation={}))
    if locality:
        conn.execute(sa.insert(post_localities).values(post_id=post_id, locality_id=locality, confidence=0.9))


def seed(store) -> None:
    """A small, fictional week: levels, an analyst's level, alerts, narratives, a story, posts."""
    with store.transaction() as conn:
        days = [_window("workington", "day", TODAY - i * DAY, 40 + 10 * (i == 0), hate=6 if i == 0 else 1,
                        narrative=4 if i == 0 else 0) for i in range(14)]
        hours = [_window("workington", "hour", NOW - i * HOUR, 3) for i in range(0, 24 * 7 * 4 + 48, 5)]
        conn.execute(sa.insert(locality_windows), days + hours + [
            _window("testshire", "day", TODAY - i * DAY, 80) for i in range(14)])
        drivers = {"components": [{"component": "hate", "value": 0.12, "intensity": 0.6, "points": 18.0}],
                   "volume": {"baseline": "same_weekday", "expected": 41.0, "z": 1.0, "p_value": 0.1,
                              "guard": None}}
        conn.execute(sa.insert(tension_levels), [
            {"locality_id": "workington", "day": TODAY - i * DAY, "index": 55.0 if i == 0 else 20.0,
             "level": 4 if i == 0 else 2, "trend": 12.0 if i == 0 else 0.0, "drivers": drivers,
             "computed_at": NOW} for i in range(8)] + [
            {"locality_id": "maryport", "day": TODAY, "index": 18.0, "level": 2, "trend": -7.0,
             "drivers": {}, "computed_at": NOW},
            {"locality_id": "testshire", "day": TODAY, "index": 31.0, "level": 3, "trend": 0.0,
             "drivers": {}, "computed_at": NOW}])
        conn.execute(sa.insert(level_overrides).values(
            locality_id="maryport", level=3, reason="derby match on Saturday", set_by="sam",
            set_at=NOW - 2 * HOUR))
        alert = {"rule_id": "hate-high", "value": 0.3, "evaluated_at": NOW, "active_since": NOW - 3 * HOUR,
                 "annotations": {}}
        conn.execute(sa.insert(alerts), [
            alert | {"fingerprint": "a" * 64, "state": "firing", "fired_at": NOW - 2 * HOUR,
                     "labels": {"alertname": "hate-high", "locality": "workington", "severity": "high"},
                     "annotations": {"summary": "Hateful posts about Workington are well above usual"}},
            alert | {"fingerprint": "b" * 64, "state": "firing", "fired_at": NOW - HOUR,
                     "labels": {"alertname": "narrative-spreading", "severity": "medium"},
                     "annotations": {"summary": "A tracked false narrative is spreading"}},
            alert | {"fingerprint": "c" * 64, "state": "resolved", "fired_at": NOW - 30 * HOUR,
                     "resolved_at": NOW - 20 * HOUR,
                     "labels": {"alertname": "hate-high", "locality": "maryport", "severity": "high"},
                     "annotations": {"summary": "Old resolved alert in Maryport"}}])
        conn.execute(sa.insert(narrative_windows).values(
            narrative_id="test-myth", window="day", start=TODAY - DAY, posts=9,
            localities={"workington": 4, "maryport": 5}, platforms={"x": 9}, computed_at=NOW))
        conn.execute(sa.insert(narrative_clusters).values(
            id="em-20261120-1", status="candidate", first_seen=NOW - 5 * HOUR, last_seen=NOW,
            centroid=b"\0" * 16, terms=["warehouse", "fire", "hostel"],
            excerpts=["the warehouse fire was no accident"]))
        conn.execute(sa.insert(cluster_windows).values(
            cluster_id="em-20261120-1", start=TODAY, window="day", size=14, authors=9, flagged=0.6,
            reportable=True, localities={"workington": 6}, platforms={"x": 14}, computed_at=NOW))
        _post(conn, 1, HATEFUL, NOW - HOUR, ["hate", "offensive"], "workington")
        _post(conn, 2, "Roadworks on the A66 near Workington again", NOW - 2 * HOUR, [], "workington")
        _post(conn, 3, "Grey skies over Workington, what a week", NOW - 3 * HOUR, ["negativity"], "workington")
        _post(conn, 4, "Old flagged post about Workington", NOW - 9 * DAY, ["hate"], "workington")
        _post(conn, 5, "Flagged post about Maryport only", NOW - HOUR, ["mobilisation"], "maryport")
        conn.execute(sa.insert(fetch_state).values(
            source_id="replay-test", consecutive_failures=2, next_poll_at=NOW + 5 * dt.timedelta(minutes=1),
            last_success_at=NOW - HOUR, last_error="feed unreachable: timed out", status="failing",
            updated_at=NOW))


@pytest.fixture
def app(settings, store):
    seed(store)
    for role in ("viewer", "officer", "analyst", "admin"):
        add_user(store, role, PASSWORD, role, by="test", now=NOW)
    return create_app(settings, store=store, clock=lambda: NOW)


def client_as(app, role: str) -> TestClient:
    client = TestClient(app, headers={"Accept": "text/html"})
    response = client.post("/login", data={"username": role, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303
    return client


def section(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element with id {element_id}"
    return match.group(2)


def audit_rows(store, action: str) -> list[dict]:
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute(sa.select(audit_log).where(audit_log.c.action == action))
                .mappings()]


# -- overview --------------------------------------------------------------------------------

def test_overview_shows_firing_alerts_map_and_both_levels(app):
    html = client_as(app, "viewer").get("/").text

    firing = section(html, "firing-alerts")
    assert "Hateful posts about Workington are well above usual" in firing and "Workington" in firing
    assert "A tracked false narrative is spreading" in firing and "the whole area" in firing
    assert "Old resolved alert in Maryport" not in html
    assert '<svg class="map"' in html and "<polygon" in html
    assert re.search(r'data-locality="workington" data-level="4"', html)
    assert f'fill="{svg.LEVEL_FILL[4]}"' in html
    table = section(html, "localities")
    workington = re.search(r'<tr data-locality="workington">(.*?)</tr>', table, re.S).group(1)
    assert 'level-4">4<' in workington and "↑ +12" in workington and "hate 12% +18" in workington
    assert '<span class="badge firing">1</span>' in workington
    maryport = re.search(r'<tr data-locality="maryport">(.*?)</tr>', table, re.S).group(1)
    assert 'level-2">2<' in maryport and 'level-3">3<' in maryport and "sam" in maryport
    assert "↓ -7" in maryport
    assert table.index('data-locality="testshire"') < table.index('data-locality="workington"')
    assert PSEUDONYM not in html


# -- locality --------------------------------------------------------------------------------

def test_locality_page_for_a_viewer_has_counts_but_no_post_text(app, store):
    html = client_as(app, "viewer").get("/localities/workington").text

    assert html.count('<svg class="chart"') == 2
    assert "A test myth" in html  # the narrative seen there
    assert "warehouse, fire, hostel" in html  # the emerging story touching it
    assert "Hateful posts about Workington" in html and "Old resolved alert" not in html
    flagged = section(html, "flagged-posts")
    assert "hate 12," in flagged  # 6 today and 1 on each of the 6 days before
    assert "should all leave" not in html and "Roadworks" not in html
    assert audit_rows(store, "posts.view") == []


def test_locality_page_for_an_officer_shows_cleaned_flagged_posts_and_audits_the_view(app, store):
    html = client_as(app, "officer").get("/localities/workington").text

    flagged = section(html, "flagged-posts")
    assert CLEANED in flagged
    assert "ringleader" not in html and "example.org" not in html and "example.net" not in html
    assert PSEUDONYM not in html and "fictional_user" not in html  # no author, no link
    assert "Roadworks" not in flagged  # no head's label
    assert "Grey skies" not in flagged  # negativity alone is not flagged
    assert "Old flagged post" not in flagged  # older than the week
    assert "Maryport only" not in flagged  # another place
    assert "hate&nbsp;0.91" in flagged
    assert 'action="/feedback"' not in html  # feedback is for analysts
    [row] = audit_rows(store, "posts.view")
    assert row["actor"] == "officer" and row["object_id"] == "workington"
    assert row["detail"]["locality"] == "workington" and row["detail"]["posts"] == 1
    assert row["detail"]["window"] == f"{(NOW - 7 * DAY).isoformat()}/{NOW.isoformat()}"


def test_an_analyst_gets_a_feedback_form_per_label(app):
    client = client_as(app, "analyst")
    html = client.get("/localities/workington").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    forms = re.findall(r'<form method="post" action="/feedback"[^>]*>(.*?)</form>', html, re.S)
    assert len(forms) == 2  # hate and offensive
    for form, head in zip(forms, ("hate", "offensive")):
        assert f'name="csrf" value="{csrf}"' in form and 'name="post_id" value="1"' in form
        assert f'name="head" value="{head}"' in form and 'name="next" value="/localities/workington"' in form
        assert 'name="label" value="true"' in form and 'name="label" value="false"' in form


def test_the_whole_area_has_a_page_and_an_unknown_place_is_404(app):
    client = client_as(app, "officer")
    area = client.get("/localities/testshire")
    assert area.status_code == 200 and "whole area" in area.text
    assert "A tracked false narrative is spreading" in area.text
    assert "they should all leave" in area.text and "Maryport only" in area.text
    assert client.get("/localities/atlantis").status_code == 404


# -- sources and audit -----------------------------------------------------------------------

def test_sources_page_shows_what_the_cli_shows(app, settings, store):
    from monitor.source_health import source_health

    html = client_as(app, "viewer").get("/sources").text
    [health] = source_health(settings, store, NOW)
    row = re.search(r'<tr data-source="replay-test">(.*?)</tr>', html, re.S).group(1)
    assert health.health == "failing" and ">failing<" in row
    assert "1.0h ago" in row and "in 5m" in row and "<td>2</td>" in row
    assert "feed unreachable: timed out" in row


def test_audit_log_is_admin_only_newest_first_paged_and_filtered(app, store):
    with store.transaction() as conn:
        conn.execute(sa.insert(audit_log), [
            {"at": NOW + HOUR - i * dt.timedelta(minutes=1), "actor": "sam", "action": "level.set" if i % 3 else
             "alert.ack", "object_type": "x", "object_id": f"o{i}", "detail": {"n": i}} for i in range(120)])
    for role in ("viewer", "officer", "analyst"):
        assert client_as(app, role).get("/audit").status_code == 403
    admin = client_as(app, "admin")

    first = admin.get("/audit").text
    ids = [int(i) for i in re.findall(r'data-audit="(\d+)"', first)]
    assert len(ids) == 50 and 'rel="next"' in first and 'rel="prev"' not in first
    assert "o0<" in first.split('data-audit=')[1]  # the newest first
    last = admin.get("/audit?page=3").text
    assert 'rel="next"' not in last and 'rel="prev"' in last
    filtered = admin.get("/audit?action=alert.ack").text
    assert len(re.findall(r'data-audit="', filtered)) == 40
    assert "level.set</td>" not in filtered and 'value="alert.ack" selected' in filtered


# -- the JSON API ----------------------------------------------------------------------------

def test_api_gives_the_pages_figures(app, store):
    client = client_as(app, "viewer")
    levels = {r["id"]: r for r in client.get("/api/v1/levels").json()}
    assert levels["workington"]["computed_level"] == 4 and levels["workington"]["trend_arrow"] == "↑"
    assert levels["maryport"]["analyst_level"] == 3 and levels["maryport"]["shown_level"] == 3
    assert levels["workington"]["firing_alerts"] == 1 and levels["testshire"]["firing_alerts"] == 1

    places = {p["id"]: p for p in client.get("/api/v1/localities").json()}
    assert places["seaton"]["latitude"] == 54.67 and places["testshire"]["kind"] == "area"

    detail = client.get("/api/v1/localities/workington").json()
    assert len(detail["daily"]) == 28 and len(detail["hourly"]) == 48
    assert detail["daily"][-1] == {"day": "2026-11-20", "posts": 50, "expected": 41.0, "index": 55.0, "level": 4}
    assert detail["counts"][0]["hate"] == 6 and detail["narratives"][0]["posts"] == 4
    assert detail["emerging"][0]["here"] == 6 and detail["alerts"][0]["place"] == "Workington"
    assert client.get("/api/v1/localities/atlantis").status_code == 404

    assert [a["summary"] for a in client.get("/api/v1/alerts").json()] == [
        "Hateful posts about Workington are well above usual", "A tracked false narrative is spreading"]
    resolved = client.get("/api/v1/alerts", params={"state": "resolved"}).json()
    assert [a["place"] for a in resolved] == ["Maryport"]
    assert client.get("/api/v1/sources").json()[0]["health"] == "failing"

    summary = client.get("/api/v1/narratives").json()
    assert summary["tracked"][0]["id"] == "test-myth" and summary["tracked"][0]["posts"] == 9
    assert summary["emerging"][0]["authors"] == 9

    assert client.get("/api/v1/localities/workington/posts").status_code == 403  # viewers see counts
    assert client.get("/api/v1/audit").status_code == 403
    assert PSEUDONYM not in str(detail)


def test_api_posts_are_for_officers_and_audited(app, store):
    posts_ = client_as(app, "officer").get("/api/v1/localities/workington/posts").json()
    assert [p["id"] for p in posts_] == [1]
    assert posts_[0]["text"] == CLEANED
    assert set(posts_[0]) == {"id", "published_at", "platform", "text", "labels", "scores"}
    assert len(audit_rows(store, "posts.view")) == 1


def test_openapi_documents_the_api_and_its_models(app):
    schema = client_as(app, "viewer").get("/api/openapi.json").json()
    for path in ("/api/v1/levels", "/api/v1/localities", "/api/v1/localities/{locality_id}",
                 "/api/v1/alerts", "/api/v1/sources", "/api/v1/narratives"):
        assert path in schema["paths"], path
        assert "$ref" in str(schema["paths"][path]["get"]["responses"]["200"]), path
    assert {"apiToken", "session"} <= set(schema["components"]["securitySchemes"])
    assert {"LocalityLevel", "LocalityDetail", "AlertOut", "SourceOut", "NarrativesSummary"} <= set(
        schema["components"]["schemas"])
    assert not any(p == "/" or p.startswith("/localities") for p in schema["paths"])  # pages stay out


# -- inline SVG ------------------------------------------------------------------------------

def test_series_chart_breaks_lines_where_there_is_no_data():
    points = [svg.SeriesPoint(f"h{i}", i, None if i == 2 else 1.0, None if i in (2, 3) else 0.5)
              for i in range(6)]
    chart = svg.series_chart(points, title="<b>t</b>", tension_label="mean", tension_max=1)
    assert chart.count("<polyline") == 2 + 2 and "<b>" not in chart and "&lt;b&gt;" in chart
    assert chart.count("<rect") == 6 + 1  # a bar per point, and the legend's swatch
    assert "No data" in svg.series_chart([], title="t", tension_label="m", tension_max=1)


def test_map_escapes_names_and_outlines_the_area():
    places = [svg.MapPlace(f"p{i}", f"<Place {i}>", 54 + i / 10, -3 + (i % 2) / 10, level=1 + i,
                           computed_level=1, labelled=True) for i in range(4)]
    drawn = svg.locality_map(places, area_name="Testshire")
    assert "<polygon" in drawn and "&lt;Place 0&gt;" in drawn and "<Place" not in drawn
    assert 'href="/localities/p3"' in drawn and "level 4, computed 1" in drawn

"""The dashboard's working areas in-process (FastAPI TestClient), on SQLite and PostgreSQL:
alerts (ack, silence, expire), narratives (promote, dismiss), community reports (intake and the
audited triage list), briefings (edit, approve, sandboxed view, downloads) and threshold tuning
(backtest, sweep, save with validation, diff, revert, incidents).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr

from conftest import utc
from monitor.reports import ReportsEnvironment
from monitor.settings import load_settings
from monitor.store.schema import (
    alert_events, alerts, amplification_bursts, audit_log, briefings, claims, cluster_windows, locality_windows,
    narrative_clusters, narrative_windows, posts, report_contacts, rule_versions, silences,
)
from monitor.web import create_app
from monitor.web.auth import add_user

NOW = utc(2026, 11, 20, 18)
HOUR = dt.timedelta(hours=1)
PASSWORD = secrets.token_urlsafe(16)  # generated per run: no password in the repo
ZERO = dict.fromkeys(("unread", "offensive", "conspiracy", "narrative", "mobilisation", "sites",
                      "reports", "authors", "negativity_sum", "tension_sum", "tension_max"), 0)


@pytest.fixture
def app(config_path, store):
    settings = load_settings(config_path)
    for name, role in (("vic", "viewer"), ("olly", "officer"), ("ana", "analyst")):
        add_user(store, name, PASSWORD, role, by="test", now=NOW)
    environment = ReportsEnvironment(key=SecretStr(Fernet.generate_key().decode()), tokens=None)
    return create_app(settings, store=store, environment=environment, clock=lambda: NOW)


class Browser:
    """A logged-in TestClient that knows its session's CSRF token."""

    def __init__(self, app, username: str):
        self.client = TestClient(app, headers={"Accept": "text/html"})
        response = self.client.post("/login", data={"username": username, "password": PASSWORD},
                                    follow_redirects=False)
        assert response.status_code == 303, response.text
        page = self.client.get("/login").text
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, follow_redirects=False, **kw)


def actions(store, action: str) -> list[dict]:
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute(sa.select(audit_log).where(audit_log.c.action == action)).mappings()]


def count(store, table, *where) -> int:
    with store.transaction() as conn:
        return conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where))


# -- alerts -----------------------------------------------------------------------------------

def _alert(fp: str, state: str, **labels) -> dict:
    labels = {"alertname": "hate-high", "category": "hate", "severity": "high", **labels}
    fired = NOW - 3 * HOUR
    return {"fingerprint": fp, "rule_id": labels["alertname"], "labels": labels,
            "annotations": {"summary": "A high share of hateful posts", "description": "hate share 40%"},
            "state": state, "value": 0.4, "active_since": fired - HOUR, "fired_at": fired if state != "pending" else None,
            "resolved_at": NOW - HOUR if state == "resolved" else None, "last_true_at": NOW, "evaluated_at": NOW}


@pytest.fixture
def with_alerts(store):
    with store.transaction() as conn:
        conn.execute(sa.insert(alerts), [_alert("a" * 64, "firing", locality="workington"),
                                         _alert("b" * 64, "pending", locality="maryport"),
                                         _alert("c" * 64, "resolved", locality="maryport")])
        conn.execute(sa.insert(alert_events), [
            {"fingerprint": "a" * 64, "at": NOW - 4 * HOUR, "from_state": None, "to_state": "pending", "value": 0.3,
             "detail": {"reason": "condition true"}},
            {"fingerprint": "a" * 64, "at": NOW - 3 * HOUR, "from_state": "pending", "to_state": "firing",
             "value": 0.4, "detail": {"reason": "held for 30m"}}])


def test_alerts_are_listed_by_state_for_viewers_without_actions(app, with_alerts):
    viewer = Browser(app, "vic")
    page = viewer.get("/alerts")
    assert page.status_code == 200
    text = page.text
    assert "Firing (1)" in text and "Pending (1)" in text and "Resolved in the last 7 days (1)" in text
    assert "Workington" in text and "Maryport" in text and "Acknowledge" not in text
    assert viewer.post(f"/alerts/{'a' * 64}/ack", {"comment": "x"}).status_code == 403

    history = viewer.get(f"/alerts/{'a' * 12}")
    assert history.status_code == 200 and "held for 30m" in history.text and "Add silence" not in history.text
    assert viewer.get("/alerts/ffffffffffff").status_code == 404


def test_an_officer_acknowledges_silences_and_expires(app, store, with_alerts):
    officer = Browser(app, "olly")
    done = officer.post(f"/alerts/{'a' * 64}/ack", {"comment": "police aware", "next": "/alerts"})
    assert done.status_code == 303 and done.headers["location"] == "/alerts?done=ack"
    with store.transaction() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.fingerprint == "a" * 64)).mappings().one()
    assert (row["acknowledged_by"], row["ack_comment"]) == ("olly", "police aware")
    assert actions(store, "alert.acknowledge")[0]["actor"] == "olly"
    assert "police aware" in officer.get("/alerts").text
    assert officer.post(f"/alerts/{'b' * 64}/ack", {}).status_code == 409  # pending: not acknowledgeable

    form = officer.get(f"/alerts/{'a' * 12}").text
    prefilled = [m.replace("&#34;", '"') for m in re.findall(r'name="match" value="([^"]+)"', form)]
    assert {'locality="workington"', 'severity="high"', 'alertname="hate-high"'} <= set(prefilled)
    refused = officer.post(f"/alerts/{'a' * 64}/silence",
                           {"match": ['locality="workington"'], "reason": " ", "duration": "2h"})
    assert refused.status_code == 422 and "reason" in refused.text and count(store, silences) == 0
    refused = officer.post(f"/alerts/{'a' * 64}/silence",
                           {"match": ['locality="workington"'], "reason": "march", "duration": "soon"})
    assert refused.status_code == 422 and "not a duration" in refused.text and count(store, silences) == 0
    refused = officer.post(f"/alerts/{'a' * 64}/silence", {"match": ['locality="workington"'], "reason": "march",
                                                           "duration": "99999999999999999999d"})
    assert refused.status_code == 422 and "far too long" in refused.text and count(store, silences) == 0

    added = officer.post(f"/alerts/{'a' * 64}/silence", {"match": ['locality="workington"', 'severity="high"'],
                                                         "reason": "planned march, police aware", "duration": "2h"})
    assert added.status_code == 303
    with store.transaction() as conn:
        silence = conn.execute(sa.select(silences)).mappings().one()
    assert silence["created_by"] == "olly" and silence["ends_at"] == NOW + 2 * HOUR
    assert {m["label"] for m in silence["matchers"]} == {"locality", "severity"}
    listed = officer.get("/alerts").text
    assert "silenced by olly" in listed and "planned march" in listed

    assert officer.post(f"/silences/{silence['id']}/expire").status_code == 303
    assert actions(store, "silence.expire")[0]["object_id"] == silence["id"]
    assert "silenced by" not in officer.get("/alerts").text


# -- narratives ---------------------------------------------------------------------------------

@pytest.fixture
def with_narratives(store):
    day = utc(2026, 11, 19)
    with store.transaction() as conn:
        conn.execute(sa.insert(narrative_windows), [{
            "narrative_id": "test-myth", "window": w, "start": day, "posts": 12,
            "localities": {"workington": 9, "maryport": 3}, "platforms": {"x": 12}, "computed_at": NOW}
            for w in ("day", "hour")])
        for cid in ("em-20261119-1", "em-20261119-2"):
            conn.execute(sa.insert(narrative_clusters).values(
                id=cid, status="candidate", first_seen=day, last_seen=day, centroid=b"\0" * 16,
                terms=["warehouse", "fire", cid[-1]], excerpts=[f"the warehouse fire was no accident {cid[-1]}"]))
            conn.execute(sa.insert(cluster_windows).values(
                cluster_id=cid, start=day, window="day", size=14, authors=11, flagged=0.8, reportable=True,
                localities={"workington": 14}, platforms={"x": 14}, computed_at=NOW))
        conn.execute(sa.insert(amplification_bursts).values(
            signature="s" * 64, started_at=day + 10 * HOUR, ended_at=day + 10 * HOUR + dt.timedelta(minutes=40),
            posts=60, authors=52, new_authors=30, excerpt="Please share: the council is hiding it",
            localities={"maryport": 60}, platforms={"x": 60}, detected_at=NOW))


def test_narratives_show_the_week_and_analysts_review_emerging_stories(app, store, with_narratives):
    viewer = Browser(app, "vic")
    page = viewer.get("/narratives").text
    assert "A test myth" in page and "Workington (9), Maryport (3)" in page
    assert "em-20261119-1" in page and "warehouse" in page and "11 accounts" in page
    assert "Please share: the council is hiding it" in page and "60" in page
    assert "Promote" not in page
    assert viewer.post("/narratives/emerging/em-20261119-1/promote", {"status": "false"}).status_code == 403

    analyst = Browser(app, "ana")
    assert "Promote to the library" in analyst.get("/narratives").text
    done = analyst.post("/narratives/emerging/em-20261119-1/promote",
                        {"status": "false", "title": "Warehouse fire rumour", "claim": "The fire was arson"})
    assert done.status_code == 303
    with store.transaction() as conn:
        claim = conn.execute(sa.select(claims)).mappings().one()
        states = dict(conn.execute(sa.select(narrative_clusters.c.id, narrative_clusters.c.status)).all())
    assert (claim["id"], claim["title"], claim["text"]) == ("em-20261119-1", "Warehouse fire rumour",
                                                            "The fire was arson")
    refused = analyst.post("/narratives/emerging/em-20261119-2/dismiss", {"reason": "  "})
    assert refused.status_code == 409 and "needs a reason" in refused.text
    assert analyst.post("/narratives/emerging/em-20261119-2/dismiss", {"reason": "local joke"}).status_code == 303
    with store.transaction() as conn:
        states = dict(conn.execute(sa.select(narrative_clusters.c.id, narrative_clusters.c.status)).all())
    assert states == {"em-20261119-1": "promoted", "em-20261119-2": "dismissed"}
    after = analyst.get("/narratives").text
    assert "Warehouse fire rumour" in after  # now in the library, as an imported claim
    assert "Emerging stories not in the library (0)" in after
    assert len(actions(store, "narrative.promote")) == len(actions(store, "narrative.dismiss")) == 1


# -- community reports -------------------------------------------------------------------------

def test_officers_file_reports_and_triage_them_audited_without_contacts(app, store):
    assert Browser(app, "vic").get("/reports").status_code == 403
    officer = Browser(app, "olly")
    refused = officer.post("/reports", {"text": "Leaflets pushed through doors", "place": "Workington",
                                        "category": "", "contact": "07700 900123"})
    assert refused.status_code == 422 and 'id="error-category"' in refused.text
    assert count(store, posts) == 0 and "07700 900123" not in refused.text
    future = officer.post("/reports", {"text": "x", "place": "Workington", "category": "rumour",
                                       "occurred_on": "2026-11-25"})
    assert future.status_code == 422 and 'id="error-occurred_on"' in future.text and count(store, posts) == 0

    filed = officer.post("/reports", {"text": "Leaflets pushed through doors on Vulcan Road, photo from @neighbour1 "
                                              "at https://pics.example/1", "place": "workington",
                                      "category": "hate_incident", "occurred_on": "2026-11-19",
                                      "contact": "Sam 07700 900123"})
    assert filed.status_code == 303 and filed.headers["location"].startswith("/reports?filed=")
    with store.transaction() as conn:
        post = conn.execute(sa.select(posts)).mappings().one()
    assert (post["platform"], post["source_id"], post["title"]) == ("report", "reports-web", "Workington")
    assert post["meta"]["category"] == "hate_incident" and post["meta"]["channel"] == "web"
    assert post["author_pseudonym"] is None and count(store, report_contacts) == 1

    before = len(actions(store, "posts.view"))
    page = officer.get(filed.headers["location"])
    assert page.status_code == 200
    assert "Leaflets pushed through doors on Vulcan Road" in page.text and "Hate incident" in page.text
    assert "not scored yet" in page.text and "Sam 07700 900123" not in page.text
    assert "@neighbour1" not in page.text and "pics.example" not in page.text  # as on every page of posts
    assert "[account removed]" in page.text and "[link removed]" in page.text
    viewed = actions(store, "posts.view")
    assert len(viewed) == before + 1
    assert viewed[-1]["actor"] == "olly" and viewed[-1]["detail"]["locality"] == "all"
    assert viewed[-1]["detail"]["posts"] == 1 and "/" in viewed[-1]["detail"]["window"]
    assert "Vulcan Road" not in officer.get("/reports?locality=maryport").text
    assert actions(store, "posts.view")[-1]["detail"]["locality"] == "maryport"


# -- briefings --------------------------------------------------------------------------------

def test_briefings_are_generated_edited_approved_and_shown_sandboxed(app, store):
    viewer, analyst = Browser(app, "vic"), Browser(app, "ana")
    assert "Generate draft" not in viewer.get("/briefings").text
    assert viewer.post("/briefings/generate").status_code == 403
    made = analyst.post("/briefings/generate")
    assert made.status_code == 303
    briefing_id = int(re.search(r"/briefings/(\d+)", made.headers["location"]).group(1))
    with store.transaction() as conn:
        row = conn.execute(sa.select(briefings)).mappings().one()
    assert row["id"] == briefing_id and row["status"] == "draft"
    assert row["period_start"] == utc(2026, 11, 9) and row["data"]["meta"]["origin"] == "web"

    archive = viewer.get("/briefings").text
    assert "2026-11-09 to 2026-11-15" in archive and "draft" in archive
    page = viewer.get(f"/briefings/{briefing_id}").text
    assert f'src="/briefings/{briefing_id}/view" sandbox' in page and "Save judgement" not in page
    view = viewer.get(f"/briefings/{briefing_id}/view")
    assert view.headers["content-security-policy"].startswith("sandbox") and "DRAFT" in view.text
    pdf = viewer.get(f"/briefings/{briefing_id}/download/pdf")
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    assert "tension briefing" in viewer.get(f"/briefings/{briefing_id}/download/md").text.lower()
    assert viewer.get(f"/briefings/{briefing_id}/download/docx").status_code == 404
    assert viewer.get("/briefings/999").status_code == 404
    assert viewer.post(f"/briefings/{briefing_id}/approve").status_code == 403

    edited = analyst.post(f"/briefings/{briefing_id}/judgement", {"judgement": "Quiet week; no action needed."})
    assert edited.status_code == 303
    with store.transaction() as conn:
        row = conn.execute(sa.select(briefings)).mappings().one()
    assert row["key_judgement"] == "Quiet week; no action needed." and row["status"] == "draft"
    assert row["judgement_edited_by"] == "ana" and "Quiet week; no action needed." in row["html"]
    assert actions(store, "briefing.judgement_edit")[0]["detail"]["edited"] == "Quiet week; no action needed."
    assert analyst.post(f"/briefings/{briefing_id}/judgement", {"judgement": " "}).status_code == 409

    assert analyst.post(f"/briefings/{briefing_id}/approve", {"judgement": ""}).status_code == 303
    with store.transaction() as conn:
        row = conn.execute(sa.select(briefings)).mappings().one()
    assert (row["status"], row["approved_by"], row["key_judgement"]) == ("approved", "ana",
                                                                        "Quiet week; no action needed.")
    assert "DRAFT" not in viewer.get(f"/briefings/{briefing_id}/view").text
    again = analyst.post(f"/briefings/{briefing_id}/judgement", {"judgement": "Changed after approval"})
    assert again.status_code == 409 and "approved" in again.text
    assert "approved" in viewer.get(f"/briefings/{briefing_id}/download/pdf").headers["content-disposition"]


# -- threshold tuning ---------------------------------------------------------------------------

@pytest.fixture
def hateful_afternoon(store):
    """Six hours of 40% hateful posts about Workington: the test rule (above 0.2, for 30m) fires once."""
    start = utc(2026, 11, 18, 12)
    with store.transaction() as conn:
        conn.execute(sa.insert(locality_windows), [
            {"locality_id": "workington", "window": "hour", "start": start + i * HOUR, "posts": 20, "scored": 20,
             "hate": 8, "computed_at": start, **ZERO} for i in range(6)])


def test_backtests_and_sweeps_show_what_a_threshold_change_does(app, store, hateful_afternoon):
    assert Browser(app, "olly").get("/tuning").status_code == 403
    analyst = Browser(app, "ana")
    page = analyst.get("/tuning").text
    assert "hate-high" in page and "above=0.2" in page and "min_posts=10" in page
    assert "kind: threshold" in page  # the rules file itself, in the editor

    run = analyst.get("/tuning", params={"run": "backtest", "from": "2026-11-18", "to": "2026-11-19"}).text
    assert re.search(r'id="backtest-total">1<', run) and "2026-W47" in run
    changed = analyst.get("/tuning", params={"run": "backtest", "from": "2026-11-18", "to": "2026-11-19",
                                             "change": "hate-high.above=0.5"}).text
    assert re.search(r'id="backtest-total">0<', changed) and "1 → 0" in changed
    bad = analyst.get("/tuning", params={"run": "backtest", "from": "2026-11-18", "to": "2026-11-19",
                                         "change": "hate-high.nonsense=1"})
    assert bad.status_code == 422 and "no numeric field" in bad.text

    swept = analyst.get("/tuning", params={"run": "sweep", "target": "hate-high.above", "values": "0.1:0.5:0.1",
                                           "from": "2026-11-18", "to": "2026-11-19"}).text
    assert swept.count("<circle") == 5 and "0.2 (current)" in swept and 'class="sweep"' in swept

    assert analyst.post("/tuning/incidents", {"locality": "workington", "at": "2026-11-18T20:00",
                                              "description": "Gathering outside the hall"}).status_code == 303
    assert analyst.post("/tuning/incidents", {"locality": "nowhere", "at": "2026-11-18T20:00",
                                              "description": "x"}).status_code == 422
    scored = analyst.get("/tuning", params={"run": "backtest", "from": "2026-11-18", "to": "2026-11-19"}).text
    assert "Gathering outside the hall" in scored and re.search(r"recall <strong>100%</strong>", scored)


def test_rules_are_saved_as_versions_with_errors_named_diffed_and_reverted(app, store, config_path):
    analyst = Browser(app, "ana")
    rules_file = config_path.parent / "rules.yaml"
    original = rules_file.read_text()
    broken = original.replace("above: 0.2", "above: high")
    refused = analyst.post("/tuning/rules", {"rules_yaml": broken, "reason": "try"})
    assert refused.status_code == 422 and "rules[0].threshold.above" in refused.text and "Nothing was saved" in refused.text
    assert "above: high" in refused.text  # the edited text is kept for correcting
    unknown = analyst.post("/tuning/rules", {"rules_yaml": original.replace("[workington]", "[atlantis]"),
                                             "reason": "try"})
    assert unknown.status_code == 422 and "atlantis" in unknown.text
    assert rules_file.read_text() == original and count(store, rule_versions) == 0

    saved = analyst.post("/tuning/rules", {"rules_yaml": original.replace("above: 0.2", "above: 0.3"),
                                           "reason": "too noisy"})
    assert saved.status_code == 303 and "above: 0.3" in rules_file.read_text()
    with store.transaction() as conn:
        versions = conn.execute(sa.select(rule_versions).order_by(rule_versions.c.id)).mappings().all()
    assert [v["created_by"] for v in versions] == ["(file on disk)", "ana"]
    page = analyst.get("/tuning").text
    assert "too noisy" in page and "above=0.3" in page and "since the service started" in page
    diff = analyst.get("/tuning", params={"run": "diff", "a": versions[0]["id"], "b": versions[1]["id"]}).text
    assert re.search(r'class="del">-.*above: 0.2', diff) and re.search(r'class="add">\+.*above: 0.3', diff)

    assert analyst.post(f"/tuning/versions/{versions[0]['id']}/revert", {"reason": "back"}).status_code == 303
    assert rules_file.read_text() == original and count(store, rule_versions) == 3
    assert [a["action"] for a in actions(store, "rules.revert")] == ["rules.revert"]

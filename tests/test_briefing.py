"""The weekly briefing: figures gathered from the aggregate tables (SQLite and PostgreSQL), the
drafted key judgement, the archive and approval (audited), the scheduled job's e-mail with the
PDF attached (real SMTP on loopback), the cron job, and one-line errors for bad input."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from alerts.notify import deliver
from conftest import utc, write_config
from monitor import cli
from monitor.briefing import archive, data, job, online, period, when
from monitor.cli import app
from monitor.errors import ConfigError, TensionError
from monitor.levels import set_level
from monitor.settings import load_settings
from monitor.store.schema import (
    alert_events,
    alerts,
    amplification_bursts,
    audit_log,
    claims,
    cluster_windows,
    fetch_state,
    locality_windows,
    narrative_clusters,
    narrative_windows,
    outbox,
    post_localities,
    post_scores,
    posts,
    tension_levels,
)
from test_delivery import smtp  # noqa: F401 - the aiosmtpd fixture

W47 = period.iso_week("2026-W47")  # Mon 16 Nov to Sun 22 Nov 2026
PSEUDONYM = "f" * 64
NOW = utc(2026, 11, 23, 7)
runner = CliRunner()
cli.out.width = cli.err.width = 240


def settings_for(tmp_path, *, briefing: str = "", alerting: str | None = None):
    root = tmp_path / "config"
    main = write_config(root, main_extra=briefing)
    if alerting is not None:
        (root / "alerting.yaml").write_text(alerting)
    return load_settings(main)


def _window(locality: str, day: dt.datetime, posts_: int, **counts) -> dict:
    row = {"locality_id": locality, "window": "day", "start": day, "posts": posts_, "scored": posts_,
           "unread": 0, "hate": 0, "offensive": 0, "conspiracy": 0, "narrative": 0, "mobilisation": 0,
           "sites": 0, "reports": 0, "authors": posts_, "negativity_sum": 0.0, "tension_sum": 0.0,
           "tension_max": 0.0, "computed_at": NOW}
    return row | counts


def _level(locality: str, day: dt.datetime, index: float, level: int, points: float = 30.0) -> dict:
    drivers = {"components": [{"component": "hate", "value": 0.25, "intensity": 1.0, "points": points}]}
    return {"locality_id": locality, "day": day, "index": index, "level": level, "trend": 0.0,
            "drivers": drivers, "computed_at": NOW}


def _post(conn, n: int, when_: dt.datetime, *, platform="facebook", text="", meta=None, mobilisation=None,
          place=None, site=None) -> None:
    post_id = conn.execute(sa.insert(posts).values(
        source_id="replay-test", external_id=f"e{n}", platform=platform, author_pseudonym=PSEUDONYM,
        url=f"https://example.invalid/{n}", text=text, content_hash=f"h{n}", published_at=when_,
        collected_at=when_, meta=meta or {}).returning(posts.c.id)).scalar_one()
    if mobilisation is not None:
        conn.execute(sa.insert(post_scores).values(
            post_id=post_id, status="scored", language="en", model_version="t", scored_at=when_,
            mobilisation=mobilisation, tension=0.5, labels=["mobilisation"], target_groups=[], explanation={}))
    if place:
        conn.execute(sa.insert(post_localities).values(post_id=post_id, locality_id=place, confidence=0.9,
                                                       site_id=site))


def fill_week(store, settings) -> None:
    """A week (W47) and four weeks before it, written straight into the tables the briefing reads."""
    day = W47.start
    with store.transaction() as conn:
        rows = []
        for week in range(1, 5):  # W43-W46: 100 posts a day, 2 hateful, 1 report
            for i in range(7):
                rows.append(_window("testshire", day - week * dt.timedelta(days=7) + dt.timedelta(days=i), 100,
                                    hate=2, reports=1))
        for i in range(7):
            rows.append(_window("testshire", day + dt.timedelta(days=i), 200, hate=10, reports=2, unread=3))
            rows.append(_window("workington", day + dt.timedelta(days=i), 120, hate=8))
            rows.append(_window("maryport", day + dt.timedelta(days=i), 5))
        conn.execute(sa.insert(locality_windows), rows)
        conn.execute(sa.insert(tension_levels), [
            _level("testshire", day - dt.timedelta(days=4), 20.0, 2),
            _level("testshire", day + dt.timedelta(days=3), 45.0, 3),
            _level("workington", day - dt.timedelta(days=4), 25.0, 2),
            _level("workington", day, 20.0, 2),
            _level("workington", day + dt.timedelta(days=3), 55.0, 4),
            _level("maryport", day + dt.timedelta(days=1), 2.0, 1, points=2.0),
        ])
        conn.execute(sa.insert(narrative_windows), [
            {"narrative_id": "test-myth", "window": "day", "start": day + dt.timedelta(days=2), "posts": 30,
             "localities": {"workington": 20, "maryport": 5}, "platforms": {"facebook": 20, "x": 10},
             "computed_at": NOW},
            {"narrative_id": "test-myth", "window": "day", "start": day - dt.timedelta(days=3), "posts": 5,
             "localities": {"workington": 5}, "platforms": {"x": 5}, "computed_at": NOW},
            {"narrative_id": "test-myth", "window": "hour", "start": utc(2026, 11, 10, 8), "posts": 1,
             "localities": {}, "platforms": {"x": 1}, "computed_at": NOW},
        ])
        for fp, fired, resolved, rule in (("a" * 64, utc(2026, 11, 17, 9), utc(2026, 11, 19, 9), "hate-high"),
                                          ("b" * 64, utc(2026, 11, 14, 9), utc(2026, 11, 16, 3), "hate-high"),
                                          ("c" * 64, utc(2026, 11, 2, 9), utc(2026, 11, 3, 9), "hate-high")):
            conn.execute(sa.insert(alerts).values(
                fingerprint=fp, rule_id=rule, state="resolved", fired_at=fired, resolved_at=resolved,
                evaluated_at=NOW, labels={"alertname": rule, "locality": "workington", "severity": "high",
                                          "category": "hate"},
                annotations={"summary": "A high share of hateful posts"}))
            conn.execute(sa.insert(alert_events), [
                {"fingerprint": fp, "at": fired, "from_state": "pending", "to_state": "firing", "detail": {}},
                {"fingerprint": fp, "at": resolved, "from_state": "firing", "to_state": "resolved", "detail": {}}])
        conn.execute(sa.insert(audit_log).values(at=utc(2026, 11, 18, 10), actor="Officer B",
                                                 action="alert.acknowledge", object_type="alert",
                                                 object_id="a" * 64, detail={}))
        _post(conn, 1, utc(2026, 11, 17, 12), platform="report", meta={"category": "rumour"})
        _post(conn, 2, utc(2026, 11, 18, 12), platform="report", meta={"category": "rumour"})
        _post(conn, 3, utc(2026, 11, 19, 12), platform="report", meta={"category": "hate_incident"})
        _post(conn, 4, utc(2026, 11, 9, 12), platform="report", meta={"category": "rumour"})
        call = "Saturday 21st November 2pm at Test Hall @organiser_one https://t.me/x bring everyone"
        _post(conn, 5, utc(2026, 11, 19, 20), text=call, mobilisation=0.95, place="workington", site="test-hall")
        _post(conn, 6, utc(2026, 11, 20, 9), text="Tomorrow 2pm Test Hall, be there", mobilisation=0.9,
              place="workington", site="test-hall")
        _post(conn, 7, utc(2026, 11, 20, 9), platform="x", text="Sat 2pm Test Hall", mobilisation=0.99,
              place="workington", site="test-hall")
        _post(conn, 8, utc(2026, 11, 20, 9), text="Saturday 2pm maybe", mobilisation=0.5, place="maryport")
        for cid, status, reportable in (("c1", "candidate", True), ("c2", "dismissed", True),
                                        ("c3", "candidate", False)):
            conn.execute(sa.insert(narrative_clusters).values(
                id=cid, status=status, first_seen=utc(2026, 11, 18, 22), last_seen=utc(2026, 11, 20),
                centroid=b"\0" * 8, terms=["warehouse", "fire", "cover"],
                excerpts=["They hid who started the fire @someone_x https://bit.ly/abc"]))
            conn.execute(sa.insert(cluster_windows).values(
                cluster_id=cid, start=utc(2026, 11, 19), window="day", size=12, authors=9, flagged=0.7,
                reportable=reportable, localities={"workington": 8}, platforms={"facebook": 12}, computed_at=NOW))
        conn.execute(sa.insert(amplification_bursts).values(
            signature="s" * 64, started_at=utc(2026, 11, 19, 20, 5), ended_at=utc(2026, 11, 19, 20, 45), posts=60,
            authors=52, new_authors=40, excerpt="SHARE THIS @amp_user the council are giving the flats away",
            localities={"workington": 30}, platforms={"x": 60}, detected_at=NOW))
        conn.execute(sa.insert(fetch_state).values(source_id="replay-test", consecutive_failures=0, status="ok",
                                                   updated_at=NOW, last_success_at=utc(2026, 11, 22)))
    set_level(store, "maryport", 3, "Rumours at the school gate", "Analyst A", utc(2026, 11, 18))


@pytest.fixture
def week(store, tmp_path):
    settings = settings_for(tmp_path)
    fill_week(store, settings)
    return store, settings


def test_levels_peak_change_and_analyst_level(week):
    store, settings = week
    figures = data.gather(store, settings, W47, NOW)
    overall = figures["overall"]
    assert (overall["level"], overall["index"], overall["change"], overall["arrow"]) == (3, 45.0, 25.0, "↑")
    places = {r["id"]: r for r in figures["localities"]}
    workington = places["workington"]
    assert (workington["level"], workington["index"], workington["change"]) == (4, 55.0, 30.0)
    assert workington["peak_day"] == utc(2026, 11, 19).isoformat() and workington["posts"] == 840
    assert workington["daily"][0] == 20.0 and workington["drivers"].startswith("hate 25% +30")
    maryport = places["maryport"]
    assert maryport["level"] == 1 and maryport["analyst"]["level"] == 3 and maryport["shown_level"] == 3
    assert figures["localities"][0]["id"] == "workington"  # highest shown level first
    assert [r["posts"] for r in figures["volume"]] == [200] * 7


def test_incidents_and_reports_against_earlier_weeks(week):
    store, settings = week
    figures = data.gather(store, settings, W47, NOW)
    rows = {r["key"]: r for r in figures["incidents"]}
    assert (rows["posts"]["count"], rows["posts"]["baseline"], rows["posts"]["change_pct"]) == (1400, 700.0, 100)
    assert (rows["hate"]["count"], rows["hate"]["baseline"]) == (70, 14.0)
    assert rows["unread"]["count"] == 21 and rows["posts"]["baseline_periods"] == 4
    reports = {r["key"]: r for r in figures["reports"]}
    assert reports["rumour"]["count"] == 2 and reports["hate incident"]["count"] == 1
    assert reports["rumour"]["baseline"] == 0.25  # one in W46 over four monitored weeks


def test_alerts_fired_acknowledged_resolved(week):
    store, settings = week
    summary = data.gather(store, settings, W47, NOW)["alerts"]
    assert (summary["fired"], summary["acknowledged"], summary["resolved"]) == (1, 1, 2)
    assert len(summary["rows"]) == 2 and all(r["where"] == "Workington" for r in summary["rows"])
    assert "Officer B" not in json.dumps(summary)


def test_narratives_gatherings_emerging_and_amplification(week):
    store, settings = week
    figures = data.gather(store, settings, W47, NOW)
    [myth] = figures["narratives"]
    assert (myth["title"], myth["status"], myth["posts"], myth["previous_posts"], myth["trend"]) == (
        "A test myth", "false", 30, 5, "↑")
    assert myth["localities"] == ["Workington (20)", "Maryport (5)"] and myth["localities_reached"] == 2
    assert myth["first_seen"] == utc(2026, 11, 10, 8).isoformat()
    [call] = figures["gatherings"]  # X posts and low scores are left out
    assert (call["place"], call["site"], call["posts"], call["likely_date"]) == ("Workington", "Test Hall", 2,
                                                                                  "2026-11-21")
    assert call["named_times"] == ["Saturday 21 November 14:00 (2)"]
    [cluster] = figures["emerging"]  # dismissed and below-the-line clusters are left out
    assert cluster["id"] == "c1" and cluster["size"] == 12 and cluster["localities"] == ["Workington (8)"]
    assert cluster["excerpts"] == ["They hid who started the fire [account removed] [link removed]"]
    [burst] = figures["amplification"]
    assert burst["minutes"] == 40 and "@" not in burst["excerpt"]
    text = json.dumps(figures)
    assert PSEUDONYM not in text and "organiser_one" not in text and "example.invalid" not in text


def test_fact_checked_claim_with_its_fact_check_as_counter_messaging(week):
    store, settings = week
    with store.transaction() as conn:
        conn.execute(sa.insert(claims).values(
            id="FC 12", text="The warehouse fire was arson by migrants", title="Warehouse fire claim",
            status="false", rating="False", url="https://fullfact.org/fc12", publisher="Full Fact",
            imported_from="t.jsonl", imported_at=NOW))
        conn.execute(sa.insert(narrative_windows).values(
            narrative_id="claim-fc-12", window="day", start=utc(2026, 11, 20), posts=9,
            localities={"workington": 9}, platforms={"x": 9}, computed_at=NOW))
    found = {n["id"]: n for n in data.gather(store, settings, W47, NOW)["narratives"]}
    claim = found["claim-fc-12"]
    assert (claim["title"], claim["status"], claim["posts"], claim["trend"]) == ("Warehouse fire claim", "false", 9,
                                                                                 "new")
    assert claim["counter_messaging"] == [{"title": "Fact check: Full Fact", "url": "https://fullfact.org/fc12"}]


def test_excerpt_removes_accounts_links_and_addresses():
    text = "Ask @Cllr_Smith or mail jo@example.org, see https://x.com/a/status/1 and u/someone  now " + "x" * 200
    cleaned = online.clean_excerpt("📢 " + text)
    assert "@" not in cleaned and "http" not in cleaned and "someone" not in cleaned
    assert cleaned.startswith("Ask [account removed] or mail [address removed], see [link removed] and "
                              "[account removed] now") and len(cleaned) <= online.EXCERPT_MAX


@pytest.mark.parametrize("text, phrase, day", [
    ("Saturday 21st November, 2pm, outside the hotel", "Saturday 21 November 14:00", dt.date(2026, 11, 21)),
    ("Sat 21/11 2pm be there", "Saturday 21 November 14:00", dt.date(2026, 11, 21)),
    ("Tomorrow 2pm. Riverside", "Saturday 21 November 14:00", dt.date(2026, 11, 21)),
    ("meet 1.15 Saturday", "Saturday 21 November", dt.date(2026, 11, 21)),
    ("Saturday 21st 2pm, bring everyone", "Saturday 21 November 14:00", dt.date(2026, 11, 21)),
    ("at 18:30", "18:30", None),
    ("nothing named", "", None),
])
def test_dates_and_times_a_call_names(text, phrase, day):
    found = when.mentioned(text, dt.date(2026, 11, 20))
    assert (found.phrase, found.date) == (phrase, day)


def test_periods_and_their_errors():
    assert (W47.start, W47.end, W47.label) == (utc(2026, 11, 16), utc(2026, 11, 23), "2026-W47")
    assert period.day_range("2026-11-16", "2026-11-22") == W47
    assert period.day_range("2026-11-17", "2026-11-24").label == "2026-11-17_2026-11-24"
    assert period.last_complete_week(utc(2026, 11, 23, 7)) == W47
    assert period.choose(None, None, None, utc(2026, 11, 29, 23)) == W47
    for args, message in ((("2026-W60", None, None), "2026 has no week 60"),
                          (("47", None, None), "is not an ISO week"),
                          ((None, "2026-11-20", "2026-11-01"), "is before --from"),
                          ((None, "2026-11-20", None), "go together"),
                          (("2026-W47", "2026-11-20", "2026-11-21"), "either --week or --from/--to"),
                          ((None, "2026-01-01", "2026-03-01"), "at most 31")):
        with pytest.raises(TensionError, match=message):
            period.choose(*args, NOW)


def test_generate_archive_and_approve_with_audit(week):
    store, settings = week
    made = job.generate(store, settings, W47, NOW)
    again = job.generate(store, settings, W47, NOW)
    assert (made.version, again.version) == (1, 2) and made.rendered.pdf.startswith(b"%PDF")
    assert "DRAFT — for analyst review" in made.rendered.html and "DRAFT — for analyst review" in made.rendered.markdown
    judgement = made.judgement
    assert "Workington (level 4 red" in judgement and "possible offences — refer to police" in judgement
    assert "2 posts called people to gather in Workington, 2 naming Test Hall" in judgement
    for text in (made.rendered.html, made.rendered.markdown):
        assert PSEUDONYM not in text and "organiser_one" not in text and "example.invalid" not in text
        assert "Test Hall" in text and "Rumours at the school gate" in text and "Cluster c1" in text

    approved = archive.approve(store, made.id, by="Analyst A", now=NOW + dt.timedelta(hours=1),
                               judgement="Tension rose in Workington.\n\nRisk of disorder: moderate.")
    assert approved["status"] == "approved" and approved["judgement_edited_by"] == "Analyst A"
    assert "DRAFT — for analyst review" not in approved["html"] and "Risk of disorder: moderate." in approved["html"]
    assert "approved by Analyst A" in approved["markdown"] and approved["pdf"].startswith(b"%PDF")
    stored = archive.load(store, made.id)
    assert stored["data"] == made.data and stored["key_judgement"].startswith("Tension rose")
    with store.transaction() as conn:
        audit = conn.execute(sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.object_id)
                             .where(audit_log.c.object_type == "briefing").order_by(audit_log.c.id)).all()
    assert audit == [("Analyst A", "briefing.judgement_edit", str(made.id)),
                     ("Analyst A", "briefing.approve", str(made.id))]
    with pytest.raises(TensionError, match="already approved by Analyst A"):
        archive.approve(store, made.id, by="Analyst B", now=NOW)
    with pytest.raises(TensionError, match="no briefing with id 999"):
        archive.approve(store, 999, by="Analyst B", now=NOW)
    listed = archive.list_briefings(store)
    assert [(b.id, b.status) for b in listed] == [(again.id, "draft"), (made.id, "approved")]


def test_scheduled_job_emails_the_pdf_once(store, tmp_path, smtp):  # noqa: F811
    port, mailbox = smtp
    alerting = ("receivers:\n  - name: officers\n    urls: ['mailto://127.0.0.1:%d?from=t@example.com"
                "&to=cohesion@example.org']\nroute: {receiver: officers}\n" % port)
    settings = settings_for(tmp_path, alerting=alerting,
                            briefing=f"briefing: {{distribution: [officers], out_dir: {tmp_path / 'out'}}}\n")
    fill_week(store, settings)
    service = SimpleNamespace(store=store, settings=settings, rng=__import__("random").Random(1))
    made = job.scheduled_briefing(service, NOW)
    assert made is not None and made.period == W47
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{made.stem}.html", f"{made.stem}.md", f"{made.stem}.pdf"]
    assert job.scheduled_briefing(service, NOW + dt.timedelta(hours=1)) is None  # once a week
    with store.transaction() as conn:
        [queued] = conn.execute(sa.select(outbox)).mappings().all()
    assert queued["kind"] == "briefing" and queued["receiver"] == "officers"
    report = deliver(service, NOW + dt.timedelta(minutes=1))
    assert (report.sent, report.errors) == (1, [])
    [envelope] = mailbox.received
    mail = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert mail["Subject"].startswith("OFFICIAL-SENSITIVE: Testshire tension briefing 2026-W47")
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{made.stem}.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "DRAFT" in body.upper() and PSEUDONYM not in body and "Test Hall" not in body


def test_unknown_distribution_receiver_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"briefing.distribution\[0\]: unknown receiver 'nobody'"):
        settings_for(tmp_path, briefing="briefing: {distribution: [nobody]}\n")


def test_cron_job_at_the_configured_local_time(tmp_path):
    from monitor.scheduler import BRIEFING_JOB, ServiceScheduler

    settings = settings_for(tmp_path, briefing="briefing: {day: tue, time: '06:30'}\n")
    service = SimpleNamespace(settings=settings, sources={}, store=SimpleNamespace(load_states=dict))
    runner_ = ServiceScheduler(service)
    runner_.scheduler.start = lambda: None  # jobs are added but nothing runs
    runner_.start()
    trigger = runner_.scheduler.get_job(BRIEFING_JOB).trigger
    summer = trigger.get_next_fire_time(None, utc(2026, 6, 1, 12))
    assert summer.isoformat() == "2026-06-02T06:30:00+01:00"  # UK time, in BST
    assert trigger.get_next_fire_time(None, utc(2026, 11, 20)).isoformat() == "2026-11-24T06:30:00+00:00"


def test_cli_generates_lists_and_reports_bad_input(tmp_path, monkeypatch):
    main = write_config(tmp_path / "config")
    monkeypatch.delenv("TENSION_DATA_DIR", raising=False)
    monkeypatch.delenv("TENSION_DATABASE_URL", raising=False)
    out = tmp_path / "out"
    made = runner.invoke(app, ["--config", str(main), "briefing", "--from", "2026-11-16", "--to", "2026-11-22",
                               "--format", "html,md", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert "briefing 1 for 2026-W47 (version 1, draft)" in made.output
    assert sorted(p.suffix for p in out.iterdir()) == [".html", ".md"]
    listed = runner.invoke(app, ["--config", str(main), "briefing", "list"])
    assert listed.exit_code == 0 and "2026-11-16 to 2026-11-22" in listed.output and "draft" in listed.output
    judgement = tmp_path / "judgement.txt"
    judgement.write_text("Quiet week; no action needed.\n")
    approved = runner.invoke(app, ["--config", str(main), "briefing", "approve", "1", "--by", "Analyst A",
                                   "--judgement-file", str(judgement), "--out", str(out)])
    assert approved.exit_code == 0, approved.output
    assert "approved by Analyst A with the analyst's key judgement" in approved.output
    [approved_html] = out.glob("*-approved.html")
    assert "Quiet week; no action needed." in approved_html.read_text()
    blocker = tmp_path / "file"
    blocker.write_text("")
    for args, message in ((["--week", "2026-W99"], "2026 has no week 99"),
                          (["--format", "pdf,docx"], "--format 'pdf,docx'"),
                          (["--out", str(blocker / "sub")], "--out"),
                          (["approve", "7", "--by", "A", "--out", str(out)], "no briefing with id 7")):
        result = runner.invoke(app, ["--config", str(main), "briefing", *args])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1

"""Alert rules: the shipped YAML rule tests, and the lifecycle on SQLite and PostgreSQL.

The YAML tests (config/rules.test.yaml) are the contract for the shipped rules; the tests here
pin the Prometheus semantics underneath them with synthetic aggregates written straight into
the store, the way promtool feeds synthetic series.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from typer.testing import CliRunner

from alerts.evaluate import Scope, evaluate, evaluate_rules
from alerts.lifecycle import apply, fingerprint
from alerts.rule_tests import expand, run_file
from alerts.rules import RuleFile
from conftest import utc
from monitor import cli
from monitor.cli import app
from monitor.errors import ConfigError
from monitor.settings import load_settings
from monitor.store.schema import (
    alert_events,
    alerts,
    locality_windows,
    post_localities,
    post_scores,
    posts,
)
from sources.base import FetchState

REPO = Path(__file__).resolve().parent.parent
START = utc(2026, 11, 16)  # a Monday
SCOPE = Scope(area_id="testshire", localities=("workington", "maryport"),
              names={"workington": "Workington", "test-hall": "Test Hall"})
runner = CliRunner()
cli.out.width = cli.err.width = 240


def rules(*items: dict):
    return RuleFile.model_validate({"rules": list(items)}).rules


HATE = {"id": "hate-high", "kind": "threshold", "summary": "hate", "metric": "hate_share",
        "above": 0.2, "min_posts": 10, "for": "30m"}


def window(store, locality: str, start: dt.datetime, *, posts_: int, hate: int = 0,
           kind: str = "hour") -> None:
    zero = dict.fromkeys(("unread", "offensive", "conspiracy", "narrative", "mobilisation", "sites",
                          "reports", "authors", "negativity_sum", "tension_sum", "tension_max"), 0)
    with store.transaction() as conn:
        conn.execute(sa.insert(locality_windows).values(
            locality_id=locality, window=kind, start=start, posts=posts_, scored=posts_, hate=hate,
            computed_at=start, **zero))


def step(store, ruleset, now: dt.datetime, scope: Scope = SCOPE):
    return apply(store, evaluate_rules(store, scope, ruleset, now), ruleset, now)


def run(store, ruleset, start: dt.datetime, minutes: int, scope: Scope = SCOPE) -> list:
    """Evaluate every minute; the transitions made, as (minute, from, to)."""
    out = []
    for m in range(minutes + 1):
        now = start + dt.timedelta(minutes=m)
        out += [(m, t.from_state, t.to_state) for t in step(store, ruleset, now, scope)]
    return out


def rows(store, table=alerts) -> list[dict]:
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


# -- the YAML rule tests ---------------------------------------------------------------------

def test_shipped_rule_tests_pass_against_shipped_rules():
    results = run_file(REPO / "config" / "rules.test.yaml")
    assert len(results) >= 7
    assert [r.name for r in results if not r.passed] == [], "\n".join(
        line for r in results for line in r.failures)


def test_every_rule_kind_has_a_shipped_rule_test():
    settings = load_settings(REPO / "config" / "tension.yaml")
    tested = (REPO / "config" / "rules.test.yaml").read_text()
    kinds = {rule.kind for rule in settings.rules.rules if f"alertname: {rule.id}" in tested}
    assert kinds == {"threshold", "anomaly", "narrative_spread", "mobilisation", "level_change",
                     "source_health", "amplification", "emerging_narrative"}


def test_series_notation_follows_promtool():
    assert expand("1+2x3 5x2 _ _x2 -1 0.5") == [1, 3, 5, 7, 5, 5, 5, None, None, None, -1, 0.5]
    with pytest.raises(ValueError, match="'1y3'"):
        expand("1y3")


def _test_file(tmp_path: Path, body: str) -> Path:
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {id: hate-high, kind: threshold, summary: hate, metric: hate_share, "
        "above: 0.2, for: 30m}\n")
    path = tmp_path / "rules.test.yaml"
    path.write_text("rule_files: [rules.yaml]\narea: testshire\n" + body)
    return path


FAILING = """\
tests:
  - name: expects firing too early
    input_series:
      - {locality: workington, metric: scored, values: "20 20 20"}
      - {locality: workington, metric: hate, values: "10 10 10"}
    alert_rule_test:
      - eval_time: 40m
        alertname: hate-high
        exp_alerts: [{labels: {locality: workington}, state: firing}]
"""


def test_a_failing_rule_test_shows_expected_and_got(tmp_path):
    [result] = run_file(_test_file(tmp_path, FAILING))
    assert not result.passed
    text = "\n".join(result.failures)
    assert "at 40m, hate-high:" in text
    assert "expected firing" in text and "locality=workington" in text
    assert "got      pending" in text


def test_a_bad_test_file_names_file_and_field(tmp_path):
    path = _test_file(tmp_path, FAILING.replace('"10 10 10"', '"10 ten 10"'))
    with pytest.raises(ConfigError) as error:
        run_file(path)
    assert str(error.value).startswith(f"{path}: tests[0].input_series[1].values:")
    path = _test_file(tmp_path, FAILING.replace("alertname: hate-high", "alertname: nope"))
    with pytest.raises(ConfigError, match=r"alert_rule_test\[0\]\.alertname: no rule 'nope'"):
        run_file(path)


def test_cli_rules_test_exit_codes(tmp_path):
    path = _test_file(tmp_path, FAILING.replace("state: firing", "state: pending"))
    ok = runner.invoke(app, ["rules", "test", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "PASS expects firing too early" in ok.output and "SUCCESS 1 passed, 0 failed" in ok.output
    failing = runner.invoke(app, ["rules", "test", str(_test_file(tmp_path, FAILING))])
    assert failing.exit_code == 1
    assert "FAIL expects firing too early" in failing.output and "FAILED 0 passed, 1 failed" in failing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("rule_files: [rules.yaml]\ntests: [{name: x, alert_rule_test: [], extra: 1}]\n")
    broken = runner.invoke(app, ["rules", "test", str(bad)])
    assert broken.exit_code == 1
    assert f"error: {bad}: tests[0].extra: unknown key" in broken.output
    assert "Traceback" not in broken.output


# -- rule models -----------------------------------------------------------------------------

def test_mobilisation_rules_refuse_for_and_reserved_labels_are_refused():
    with pytest.raises(ValidationError, match="fire at once"):
        rules({"id": "m", "kind": "mobilisation", "summary": "s", "for": "5m"})
    with pytest.raises(ValidationError, match="set by the evaluator"):
        rules(HATE | {"labels": {"locality": "elsewhere"}})
    assert rules({"id": "m", "kind": "mobilisation", "summary": "s"})[0].severity == "high"


def test_fingerprint_is_the_sorted_labels_hash():
    labels = {"locality": "workington", "alertname": "hate-high"}
    assert fingerprint(labels) == fingerprint(dict(reversed(labels.items())))
    expected = hashlib.sha256(b'[["alertname","hate-high"],["locality","workington"]]').hexdigest()
    assert fingerprint(labels) == expected


# -- lifecycle on both backends ------------------------------------------------------------

def test_pending_then_firing_after_for(store):
    window(store, "workington", START, posts_=40, hate=20)
    changes = run(store, rules(HATE), START, 40)
    assert changes == [(0, None, "pending"), (30, "pending", "firing")]
    [row] = rows(store)
    assert row["state"] == "firing" and row["fired_at"] == START + dt.timedelta(minutes=30)
    assert row["labels"] == {"alertname": "hate-high", "locality": "workington", "category": "tension",
                             "severity": "medium"}
    assert row["annotations"]["description"].startswith("hate share 50% (20 of 40 posts) since 23:00")
    assert row["annotations"]["dashboard"] == "http://127.0.0.1:8080/localities/workington"


def test_condition_clearing_before_for_drops_the_pending_alert(store):
    window(store, "workington", START, posts_=40, hate=20)
    window(store, "workington", START + dt.timedelta(hours=1), posts_=400)
    changes = run(store, rules(HATE), START + dt.timedelta(minutes=45), 30)
    assert changes == [(0, None, "pending"), (15, "pending", "inactive")]
    assert rows(store) == []  # never fired: the notifier never saw it
    assert [e["to_state"] for e in rows(store, alert_events)] == ["pending", "inactive"]


def test_keep_firing_for_holds_then_resolves(store):
    ruleset = rules(HATE | {"for": "0s", "keep_firing_for": "20m"})
    window(store, "workington", START, posts_=40, hate=20)
    window(store, "workington", START + dt.timedelta(hours=1), posts_=0)
    # True until 01:59 (the 00:00 bucket is read until 02:00), then kept 20 minutes.
    changes = run(store, ruleset, START + dt.timedelta(minutes=100), 60)
    assert changes == [(0, None, "firing"), (39, "firing", "resolved")]
    [row] = rows(store)
    assert row["last_true_at"] == START + dt.timedelta(minutes=119)
    assert row["resolved_at"] == START + dt.timedelta(minutes=139)


def test_resolved_alert_fires_again_as_a_new_episode_under_the_same_fingerprint(store):
    ruleset = rules(HATE | {"for": "0s"})
    window(store, "workington", START, posts_=40, hate=20)
    window(store, "workington", START + dt.timedelta(hours=5), posts_=40, hate=30)
    first = run(store, ruleset, START, 180)
    second = run(store, ruleset, START + dt.timedelta(hours=5), 1)
    assert first == [(0, None, "firing"), (120, "firing", "resolved")]
    assert second == [(0, "resolved", "firing")]
    [row] = rows(store)
    events = rows(store, alert_events)
    assert {e["fingerprint"] for e in events} == {row["fingerprint"]}
    assert [(e["from_state"], e["to_state"]) for e in events] == [
        (None, "firing"), ("firing", "resolved"), ("resolved", "firing")]
    assert row["resolved_at"] is None and row["fired_at"] == START + dt.timedelta(hours=5)


def test_pending_that_clears_after_an_earlier_episode_returns_to_resolved(store):
    window(store, "workington", START, posts_=40, hate=20)
    run(store, rules(HATE), START, 130)  # fired at 00:30, resolved at 02:00
    window(store, "workington", START + dt.timedelta(hours=5), posts_=40, hate=20)
    window(store, "workington", START + dt.timedelta(hours=6), posts_=400)
    changes = run(store, rules(HATE), START + dt.timedelta(hours=5, minutes=50), 20)
    assert changes == [(0, "resolved", "pending"), (10, "pending", "inactive")]
    [row] = rows(store)
    assert row["state"] == "resolved" and row["resolved_at"] == START + dt.timedelta(hours=2)


def test_acknowledgement_columns_are_never_written(store):
    window(store, "workington", START, posts_=40, hate=20)
    run(store, rules(HATE), START, 31)
    with store.transaction() as conn:
        conn.execute(sa.update(alerts).values(acknowledged_by="officer", ack_comment="on it",
                                              acknowledged_at=START))
    run(store, rules(HATE), START + dt.timedelta(minutes=32), 120)
    [row] = rows(store)
    assert row["state"] == "resolved"
    assert (row["acknowledged_by"], row["ack_comment"]) == ("officer", "on it")


def test_too_few_posts_never_fire_a_share(store):
    window(store, "maryport", START, posts_=8, hate=6)
    assert run(store, rules(HATE | {"for": "0s"}), START, 5) == []


def _history(store, locality: str, hourly: list[int], start: dt.datetime) -> None:
    with store.transaction() as conn:
        conn.execute(sa.insert(locality_windows), [
            {"locality_id": locality, "window": "hour", "start": start + dt.timedelta(hours=i),
             "posts": n, "scored": n, "hate": n, "computed_at": start,
             **dict.fromkeys(("unread", "offensive", "conspiracy", "narrative", "mobilisation",
                              "sites", "reports", "authors", "negativity_sum", "tension_sum",
                              "tension_max"), 0)}
            for i, n in enumerate(hourly) if n])


ANOMALY = {"id": "hate-anomaly", "kind": "anomaly", "summary": "s", "metric": "hate_posts",
           "min_count": 8, "max_p_value": 0.001}


def test_small_counts_never_fire_an_anomaly_however_quiet_the_history(store):
    first = START - dt.timedelta(days=28)
    _history(store, "maryport", [1] + [0] * 671 + [3, 4], first)   # 7 < min_count
    _history(store, "workington", [1] + [0] * 671 + [4, 5], first)  # 9: fires
    changes = step(store, rules(ANOMALY), START + dt.timedelta(hours=1, minutes=59))
    assert [(t.labels["locality"], t.to_state) for t in changes] == [("workington", "firing")]
    [row] = rows(store)
    assert "usual for this hour of the week: 0.2" in row["annotations"]["description"]


def test_ewma_baseline_follows_the_recent_level(store):
    ewma = rules(ANOMALY | {"baseline": "ewma", "history": "3d", "alpha": 0.2})
    _history(store, "workington", [5] * 72 + [40, 40], START - dt.timedelta(days=3))
    _history(store, "maryport", [30] * 72 + [32, 32], START - dt.timedelta(days=3))  # busy anyway
    [change] = step(store, ewma, START + dt.timedelta(minutes=90))
    assert change.labels["locality"] == "workington" and change.to_state == "firing"
    [row] = rows(store)
    assert "usual from the recent trend: 7.5" in row["annotations"]["description"]


def test_without_a_week_of_history_an_anomaly_falls_back_to_the_recent_trend(store):
    # Two days of data only: earlier weeks are unknown, not zero, so the same hour of the week
    # cannot be compared; the hours observed so far are (a new deployment is not blind for a week).
    _history(store, "workington", [2] * 48 + [40, 40], START - dt.timedelta(days=2))
    _history(store, "maryport", [30] * 48 + [32, 32], START - dt.timedelta(days=2))  # busy anyway
    changes = step(store, rules(ANOMALY), START + dt.timedelta(minutes=90))
    assert [(t.labels["locality"], t.to_state) for t in changes] == [("workington", "firing")]
    [row] = rows(store)
    # the usual level is the observed 2 posts an hour, read as the window is read at half past
    # (the hour before plus half of this one: 3), not diluted by the weeks before monitoring
    assert "usual from the recent trend: 3.0" in row["annotations"]["description"]


def _post(conn, n: int, *, locality: str, platform: str, score: float, at: dt.datetime,
          site: str | None = None) -> None:
    post_id = conn.execute(sa.insert(posts).values(
        source_id="s", external_id=str(n), platform=platform, meta={}, text="SECRET TEXT",
        author_pseudonym="pseudo-abc123", url="https://example.org/p/1",
        content_hash=f"h{n}", published_at=at, collected_at=at)).inserted_primary_key[0]
    conn.execute(sa.insert(post_scores).values(
        post_id=post_id, status="scored", language="en", model_version="m", scored_at=at,
        mobilisation=score, labels=[], target_groups=[], explanation={}))
    conn.execute(sa.insert(post_localities).values(post_id=post_id, locality_id=locality,
                                                   confidence=1.0, site_id=site))


def test_mobilisation_fires_at_once_per_place_and_site_never_from_x(store):
    ruleset = rules({"id": "gather", "kind": "mobilisation", "summary": "call to gather",
                     "within": "6h"})
    at = START + dt.timedelta(hours=10)
    with store.transaction() as conn:
        for n in range(3):  # three posts, one alert
            _post(conn, n, locality="workington", site="test-hall", platform="facebook", score=0.9, at=at)
        _post(conn, 10, locality="maryport", platform="x", score=0.99, at=at)
        _post(conn, 11, locality="maryport", platform="X", score=0.99, at=at)
        _post(conn, 12, locality="maryport", platform="reddit", score=0.2, at=at)
    changes = step(store, ruleset, at)
    assert [(t.labels.get("site"), t.labels["locality"], t.to_state) for t in changes] == [
        ("test-hall", "workington", "firing")]
    [row] = rows(store)
    assert row["labels"]["severity"] == "high" and row["value"] == 3
    assert row["annotations"]["description"].startswith(
        "3 posts calling people to gather at Test Hall (Workington) in the last 6h")
    text = str(row["annotations"]) + str(rows(store, alert_events))
    assert "SECRET" not in text and "pseudo-abc123" not in text and "example.org" not in text
    assert [t.to_state for t in step(store, ruleset, at + dt.timedelta(hours=6))] == ["resolved"]


def test_source_health_failing_gone_and_silent(store):
    ruleset = rules({"id": "src", "kind": "source_health", "summary": "s",
                     "max_consecutive_failures": 3, "silent_for": "24h"})
    store.save_state(FetchState("ok-feed", last_success_at=START))
    store.save_state(FetchState("flaky", consecutive_failures=3, status="failing", last_success_at=START))
    store.save_state(FetchState("removed", status="gone", last_success_at=START))
    store.save_state(FetchState("replay", status="exhausted", last_success_at=START - dt.timedelta(days=9)))
    changes = step(store, ruleset, START + dt.timedelta(hours=1))
    assert sorted(t.labels["source"] for t in changes) == ["flaky", "removed"]
    assert all(t.labels["locality"] == "testshire" for t in changes)
    later = step(store, ruleset, START + dt.timedelta(hours=25))
    assert [t.labels["source"] for t in later] == ["ok-feed"]
    only = Scope(area_id="testshire", sources=("ok-feed",))
    assert [c.labels["source"] for c in evaluate_rules(store, only, ruleset, START) if True] == ["ok-feed"]


def test_day_windows_aligned_to_utc_or_local_midnight_are_both_read(store):
    rule = rules(HATE | {"window": "day", "for": "0s"})
    summer = utc(2026, 7, 1, 12)
    window(store, "workington", utc(2026, 6, 30, 23), posts_=40, hate=20, kind="day")  # local
    window(store, "maryport", utc(2026, 7, 1, 0), posts_=40, hate=20, kind="day")  # UTC
    active = [c.labels["locality"] for c in evaluate_rules(store, SCOPE, rule, summer) if c.active]
    assert active == ["workington", "maryport"]


def test_evaluate_with_settings_uses_configured_places_and_stage_runs(store, config_path):
    settings = load_settings(config_path)
    window(store, "workington", START, posts_=40, hate=20)
    window(store, "atlantis", START, posts_=40, hate=20)  # not configured: ignored
    candidates = evaluate(store, settings, START + dt.timedelta(minutes=5))
    assert [(c.labels["locality"], c.active) for c in candidates] == [("workington", True)]


def test_stage_writes_alerts_and_rules_eval_only_reads(config_path):
    from types import SimpleNamespace

    from alerts.lifecycle import evaluate_alerts
    from monitor.store import Store

    settings = load_settings(config_path)
    store = Store.open(settings.database_url)
    try:
        window(store, "workington", START, posts_=40, hate=20)
        at = "2026-11-16T00:10:00"
        shown = runner.invoke(app, ["--config", str(config_path), "rules", "eval", "--at", at])
        assert shown.exit_code == 0, shown.output
        assert "hate-high" in shown.output and "hate share 50% (20 of 40 posts)" in shown.output
        assert "1 of 1 conditions true" in shown.output
        assert rows(store) == []  # a dry run
        service = SimpleNamespace(store=store, settings=settings)
        [t] = evaluate_alerts(service, START + dt.timedelta(minutes=10))
        assert (t.rule_id, t.to_state) == ("hate-high", "pending")
    finally:
        store.close()

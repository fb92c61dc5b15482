"""Catch-up evaluation: hours the alert stage did not see live are replayed, oldest first.

The data here is hourly aggregates written straight into the store (both backends), the rules
and routing are real, and dispatch queues real outbox rows, so the test follows one alert from
rising to the officers' queued message to its resolved message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace

import sqlalchemy as sa

from alerts.catch_up import steps
from alerts.lifecycle import evaluate_alerts
from alerts.routing import AlertingConfig
from alerts.rules import RuleFile
from conftest import utc
from monitor.settings import load_settings
from monitor.store.schema import alert_events, alerts, locality_windows, outbox, stage_state
from sources.base import FetchState

START = utc(2026, 11, 16)  # a Monday
HOUR = dt.timedelta(hours=1)
ZERO = dict.fromkeys(("unread", "offensive", "conspiracy", "narrative", "mobilisation", "sites",
                      "reports", "authors", "negativity_sum", "tension_sum", "tension_max"), 0)


def service(store, config_path, *, catch_up: str = "7d"):
    settings = load_settings(config_path)
    rules = RuleFile.model_validate({"rules": [
        {"id": "hate-high", "kind": "threshold", "summary": "hate", "metric": "hate_share",
         "above": 0.2, "min_posts": 10, "for": "30m"},
        {"id": "feeds", "kind": "source_health", "summary": "feed", "max_consecutive_failures": 3},
    ]})
    alerting = AlertingConfig.model_validate({
        "catch_up": catch_up,
        "receivers": [{"name": "officers", "urls": ["json://127.0.0.1:9/hook"]}],
        "route": {"receiver": "officers", "group_by": ["alertname", "locality"], "group_wait": "30s"}})
    return SimpleNamespace(store=store, settings=dataclasses.replace(settings, rules=rules,
                                                                     alerting=alerting))


def hours(store, locality: str, start: dt.datetime, hate: list[int], posts: int = 20) -> None:
    with store.transaction() as conn:
        conn.execute(sa.insert(locality_windows), [
            {"locality_id": locality, "window": "hour", "start": start + i * HOUR, "posts": posts,
             "scored": posts, "hate": n, "computed_at": start, **ZERO} for i, n in enumerate(hate)])


def history(store) -> list[tuple[dt.datetime, str | None, str]]:
    with store.transaction() as conn:
        return [(r.at, r.from_state, r.to_state) for r in conn.execute(
            sa.select(alert_events).order_by(alert_events.c.id))]


def test_steps_are_the_ends_of_the_missed_hours():
    now = utc(2026, 11, 20, 12, 20)
    before = dt.timedelta(microseconds=1)
    got = steps(utc(2026, 11, 20, 9, 10), None, now, dt.timedelta(days=7))
    assert got == [utc(2026, 11, 20, h) - before for h in (10, 11, 12)]
    # a first run starts at the oldest aggregated hour, but never before the limit
    assert len(steps(None, utc(2026, 11, 19, 12), now, dt.timedelta(days=7))) == 24
    assert len(steps(None, utc(2026, 10, 1), now, dt.timedelta(hours=5))) == 5


def test_nothing_to_catch_up_when_live_off_or_empty():
    now = utc(2026, 11, 20, 12, 20)
    assert steps(now - dt.timedelta(seconds=15), None, now, dt.timedelta(days=7)) == []
    assert steps(now - 50 * dt.timedelta(minutes=1), None, now, dt.timedelta(days=7)) == []
    assert steps(None, None, now, dt.timedelta(days=7)) == []  # no data yet
    assert steps(utc(2026, 11, 1), None, now, dt.timedelta(0)) == []  # catch_up: 0s


def test_an_alert_that_rose_and_fell_while_behind_fires_resolves_and_is_announced(store, config_path):
    svc = service(store, config_path)
    # 20 posts an hour about Workington; hours 30-32 of the replay are hateful
    hours(store, "workington", START, [0] * 30 + [15, 15, 15] + [0] * 20)
    now = START + 53 * HOUR + dt.timedelta(minutes=5)
    assert evaluate_alerts(svc, now) == []  # the live evaluation at `now`: all quiet again

    at = [(t - START, before, after) for t, before, after in history(store)]
    assert at == [
        (31 * HOUR - dt.timedelta(microseconds=1), None, "pending"),   # 30:00-31:00 complete
        (32 * HOUR - dt.timedelta(microseconds=1), "pending", "firing"),
        (35 * HOUR - dt.timedelta(microseconds=1), "firing", "resolved"),  # both hours read quiet
    ]
    with store.transaction() as conn:
        titles = [r.title for r in conn.execute(sa.select(outbox).order_by(outbox.c.id))]
        mark = conn.execute(sa.select(stage_state)).one()
    assert len(titles) == 2 and titles[1].startswith("Resolved")
    assert "hate" in titles[0]
    assert mark.watermark == now


def test_caught_up_stage_does_not_replay_again_and_resumes_from_its_watermark(store, config_path):
    svc = service(store, config_path)
    hours(store, "workington", START, [0] * 10)
    evaluate_alerts(svc, START + 10 * HOUR)
    with store.transaction() as conn:
        assert conn.execute(sa.select(stage_state.c.watermark)).scalar() == START + 10 * HOUR
    hours(store, "workington", START + 10 * HOUR, [15, 15, 15])  # arrives late, all at once
    tick = START + 10 * HOUR + dt.timedelta(seconds=15)
    evaluate_alerts(svc, tick)  # a live tick: evaluated at `now` only
    assert history(store) == [(tick, None, "pending")]
    now = START + 13 * HOUR + dt.timedelta(minutes=1)
    evaluate_alerts(svc, now)  # three hours behind: the ends of 10:00, 11:00 and 12:00, then now
    assert history(store)[1:] == [(START + 11 * HOUR - dt.timedelta(microseconds=1), "pending", "firing")]
    with store.transaction() as conn:
        assert conn.execute(sa.select(stage_state.c.watermark)).scalar() == now
        assert conn.execute(sa.select(alerts.c.evaluated_at)).scalar() == now


def test_source_health_is_held_during_catch_up_and_judged_live(store, config_path):
    svc = service(store, config_path)
    hours(store, "workington", START, [0] * 24)
    store.save_state(FetchState("replay-test", consecutive_failures=4, status="failing",
                                last_success_at=START))
    now = START + 24 * HOUR + dt.timedelta(minutes=1)
    [t] = evaluate_alerts(svc, now)
    assert (t.rule_id, t.to_state, t.at) == ("feeds", "firing", now)  # not back-dated
    with store.transaction() as conn:
        assert conn.execute(sa.select(alerts.c.fired_at)).scalar() == now


def test_catch_up_zero_evaluates_only_now(store, config_path):
    svc = service(store, config_path, catch_up="0s")
    hours(store, "workington", START, [0] * 30 + [15, 15, 15] + [0] * 20)
    evaluate_alerts(svc, START + 53 * HOUR)
    assert history(store) == []

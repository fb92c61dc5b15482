"""Late and incomplete data: the alert stage waits for an hour's posts to be counted, and goes
back over hours whose counts late posts changed (alerts.catch_up).

Posts and their scores are written straight into the store here (both backends), then the real
aggregation stage counts them and the real alert stage, lifecycle and dispatch run on the
counts, so each test follows the watermark, the alert's history and the queued messages.
The last test runs the whole pipeline (replay source, models, webhook on loopback).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging

import numpy as np
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.catch_up import STUCK_AFTER, steps
from alerts.dispatch import dispatch
from alerts.rules import RuleFile
from alerts.lifecycle import evaluate_alerts
from conftest import utc
from monitor.aggregate import aggregate
from monitor.amplification import detect
from monitor.emerging.clustering import Found
from monitor.emerging.tracking import WindowStory, save_window
from monitor.store.schema import (
    alert_events,
    cluster_windows,
    locality_windows,
    outbox,
    post_localities,
    post_scores,
    posts,
    stage_state,
)
from monitor.pipeline import STAGES, late_posts_scored
from monitor.store.stage_state import save_watermark
from test_catch_up import history, service

START = utc(2026, 11, 16)  # a Monday
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
BEFORE = dt.timedelta(microseconds=1)


class Feed:
    """Posts about Workington, written as collect and scoring would write them."""

    def __init__(self, store):
        self.store, self.next_id = store, 1

    def hour(self, hour: int, n: int, *, hate: bool = False, collected_at: dt.datetime,
             scored_at: dt.datetime | None, text: str = "fictional", authors: int = 7) -> list[int]:
        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        at = START + hour * HOUR
        with self.store.transaction() as conn:
            conn.execute(sa.insert(posts), [{
                "id": i, "source_id": "test", "external_id": str(i), "platform": "x",
                "author_pseudonym": f"a{i % authors}", "text": text, "content_hash": f"h{i}",
                "published_at": at + k * dt.timedelta(minutes=59) / n, "collected_at": collected_at,
                "meta": {}} for k, i in enumerate(ids)])
            conn.execute(sa.insert(post_localities), [
                {"post_id": i, "locality_id": "workington", "confidence": 0.9, "site_id": None}
                for i in ids])
        if scored_at is not None:
            self.score(ids, hate=hate, at=scored_at)
        return ids

    def score(self, ids: list[int], *, hate: bool, at: dt.datetime) -> None:
        with self.store.transaction() as conn:
            conn.execute(sa.insert(post_scores), [{
                "post_id": i, "status": "scored", "language": "en", "model_version": "test",
                "scored_at": at, "hate": 0.9 if hate else 0.0, "offensive": 0.0, "conspiracy": 0.0,
                "mobilisation": 0.0, "negativity": 0.1, "tension": 0.2,
                "labels": ["hate"] if hate else [], "target_groups": [], "explanation": {}}
                for i in ids])


def mark(store) -> dt.datetime:
    with store.transaction() as conn:
        return conn.scalar(sa.select(stage_state.c.watermark).where(stage_state.c.stage == "alerts"))


def titles(store) -> list[str]:
    with store.transaction() as conn:
        return [r.title for r in conn.execute(sa.select(outbox).order_by(outbox.c.id))]


def at_hour_end(hour: int) -> dt.datetime:
    return START + (hour + 1) * HOUR - BEFORE


HATE_EPISODE = [(at_hour_end(6), None, "pending"), (at_hour_end(7), "pending", "firing"),
                (at_hour_end(9), "firing", "resolved")]


def test_an_hour_with_posts_still_to_count_waits_until_they_are_counted(store, config_path):
    svc = service(store, config_path)
    feed = Feed(store)
    now = START + 10 * HOUR + 5 * MINUTE
    for hour in range(10):
        feed.hour(hour, 12, collected_at=START + hour * HOUR, scored_at=START + hour * HOUR)
    # Twelve hateful posts in each of 06:00 and 07:00: collected, not yet scored.
    waiting = feed.hour(6, 12, collected_at=now - 10 * MINUTE, scored_at=None)
    waiting += feed.hour(7, 12, collected_at=now - 10 * MINUTE, scored_at=None)
    aggregate(svc, now)
    assert evaluate_alerts(svc, now) == []
    assert history(store) == [] and mark(store) == START + 6 * HOUR  # 00:00-06:00 evaluated

    feed.score(waiting, hate=True, at=now + MINUTE)  # scored, not yet aggregated: still waiting
    evaluate_alerts(svc, now + 2 * MINUTE)
    assert history(store) == [] and mark(store) == START + 6 * HOUR

    aggregate(svc, now + 3 * MINUTE)
    evaluate_alerts(svc, now + 4 * MINUTE)
    assert history(store) == HATE_EPISODE  # the real times, from the hour-end steps
    assert mark(store) == now + 4 * MINUTE
    assert len(titles(store)) == 2 and titles(store)[1].startswith("Resolved")


def test_a_stuck_post_never_stops_alerting_and_is_replayed_once_counted(store, config_path, caplog):
    svc = service(store, config_path)
    feed = Feed(store)
    now = START + 10 * HOUR + 5 * MINUTE
    for hour in range(10):
        feed.hour(hour, 12, collected_at=START + hour * HOUR, scored_at=START + hour * HOUR)
    stuck = feed.hour(6, 12, collected_at=now - STUCK_AFTER - MINUTE, scored_at=None)
    stuck += feed.hour(7, 12, collected_at=now - STUCK_AFTER - MINUTE, scored_at=None)
    aggregate(svc, now)
    with caplog.at_level(logging.WARNING, logger="tension.alerts"):
        evaluate_alerts(svc, now)
    assert mark(store) == now and history(store) == []  # evaluated without them
    [warning] = [r for r in caplog.records if r.getMessage() == "hours evaluated with posts not yet counted"]
    assert warning.fields["posts"] == 24 and warning.fields["from"] == "2026-11-16T06:00+00:00"

    later = now + 2 * HOUR  # scored at last: the hours they changed are evaluated again
    feed.score(stuck, hate=True, at=later)
    aggregate(svc, later)
    evaluate_alerts(svc, later + MINUTE)
    assert history(store) == HATE_EPISODE
    messages = titles(store)
    assert len(messages) == 2 and "hate" in messages[0] and messages[1].startswith("Resolved")


def test_six_hours_delivered_late_fire_once_with_their_real_times(store, config_path):
    """A collector back from a six-hour outage delivers 04:00-10:00 after the stage has passed
    those hours: the stage goes back to 04:00, the alert fires and resolves at its real times,
    and each is announced once, however often the stage runs afterwards."""
    svc = service(store, config_path)
    feed = Feed(store)
    now = START + 12 * HOUR + 5 * MINUTE
    for hour in [*range(4), 10, 11]:
        feed.hour(hour, 12, collected_at=START + hour * HOUR, scored_at=START + hour * HOUR)
    aggregate(svc, now)
    evaluate_alerts(svc, now)
    assert history(store) == [] and mark(store) == now

    back = now + 20 * MINUTE
    for hour in range(4, 10):  # the outage's six hours; 06:00 and 07:00 were hateful
        feed.hour(hour, 12, collected_at=back, scored_at=back)
        if hour in (6, 7):
            feed.hour(hour, 12, hate=True, collected_at=back, scored_at=back)
    aggregate(svc, back)
    for minutes in range(1, 6):  # the stage runs every tick; one replay, one episode
        evaluate_alerts(svc, back + minutes * MINUTE)
    assert history(store) == HATE_EPISODE
    messages = titles(store)
    assert len(messages) == 2 and "hate" in messages[0] and messages[1].startswith("Resolved")
    with store.transaction() as conn:
        [fired] = conn.execute(sa.select(alert_events.c.detail).where(
            alert_events.c.to_state == "firing")).scalars().all()
    assert fired["rule_id"] == "hate-high"


def test_a_replay_leaves_an_alert_decided_later_alone(store, config_path):
    """Late posts make hate-high true at 02:00-03:00, but the same alert already fired (and was
    announced) at 06:00 live: the replay does not rewrite or re-announce it."""
    svc = service(store, config_path)
    feed = Feed(store)
    for hour in range(6):
        feed.hour(hour, 12, collected_at=START + hour * HOUR, scored_at=START + hour * HOUR)
    feed.hour(6, 12, hate=True, collected_at=START + 6 * HOUR, scored_at=START + 6 * HOUR)
    now = START + 6 * HOUR + 40 * MINUTE
    aggregate(svc, now)
    evaluate_alerts(svc, START + 6 * HOUR + 5 * MINUTE)
    evaluate_alerts(svc, now)
    dispatch(svc, now)
    dispatch(svc, now + MINUTE)  # after group_wait
    before, announced = history(store), titles(store)
    assert [to for _, _, to in before] == ["pending", "firing"] and len(announced) == 1

    late = now + 5 * MINUTE
    for hour in (2, 3):
        feed.hour(hour, 12, hate=True, collected_at=late, scored_at=late)
    aggregate(svc, late)
    evaluate_alerts(svc, late + MINUTE)
    dispatch(svc, late + 2 * MINUTE)
    assert history(store) == before and titles(store) == announced


def test_recount_keeps_the_time_of_rows_whose_counts_did_not_change(store, config_path):
    svc = service(store, config_path)
    feed = Feed(store)
    for hour in range(3):
        feed.hour(hour, 5, collected_at=START, scored_at=START + hour * HOUR)
    aggregate(svc, START + 3 * HOUR)
    feed.hour(1, 1, collected_at=START + 4 * HOUR, scored_at=START + 4 * HOUR)  # one late post
    aggregate(svc, START + 5 * HOUR)
    with store.transaction() as conn:
        stamps = {r.start: r.computed_at for r in conn.execute(sa.select(locality_windows).where(
            locality_windows.c.window == "hour", locality_windows.c.locality_id == "workington"))}
        ran = conn.scalar(sa.select(stage_state.c.watermark).where(stage_state.c.stage == "aggregate"))
    assert stamps == {START: START + 3 * HOUR, START + HOUR: START + 5 * HOUR,
                      START + 2 * HOUR: START + 3 * HOUR}
    assert ran == START + 5 * HOUR



def test_a_burst_found_in_late_posts_fires_in_its_own_hours(store, config_path):
    """The amplification stage finds a copy-paste burst among posts collected late, after the
    alert stage has evaluated their (recounted) hours again: the stage goes back once more."""
    svc = service(store, config_path)
    svc.settings = dataclasses.replace(svc.settings, rules=RuleFile.model_validate({"rules": [
        {"id": "copies", "kind": "amplification", "summary": "copies", "within": "6h"}]}))
    feed = Feed(store)
    now = START + 12 * HOUR + 5 * MINUTE
    for hour in range(12):
        feed.hour(hour, 3, collected_at=START + hour * HOUR, scored_at=START + hour * HOUR)
    aggregate(svc, now)
    detect(store, svc.settings.main.amplification, now)
    evaluate_alerts(svc, now)

    late = now + 20 * MINUTE  # twelve accounts, one message, at 03:00-04:00
    feed.hour(3, 12, collected_at=late, scored_at=late, authors=12,
              text="Everyone down to the harbour tonight, bring your mates and share this")
    aggregate(svc, late)
    evaluate_alerts(svc, late + MINUTE)  # the recount: no burst stored yet
    assert history(store) == []
    assert detect(store, svc.settings.main.amplification, late + 2 * MINUTE) == 1
    evaluate_alerts(svc, late + 3 * MINUTE)
    assert history(store) == [(at_hour_end(3), None, "firing"), (at_hour_end(9), "firing", "resolved")]


def test_a_story_found_in_late_posts_fires_from_its_own_day(store, config_path):
    """The emerging stage finds a reportable story in posts that arrived late, on a day the
    alert stage has already stepped through: the stage goes back to that day once; a re-run
    that finds the same story changes nothing and sends it back no further."""
    svc = service(store, config_path)
    svc.settings = dataclasses.replace(svc.settings, rules=RuleFile.model_validate({"rules": [
        {"id": "new-story", "kind": "emerging_narrative", "summary": "new story", "min_posts": 12}]}))
    feed = Feed(store)
    now = START + 12 * HOUR + 5 * MINUTE
    for hour in range(12):
        feed.hour(hour, 3, collected_at=START + hour * HOUR, scored_at=START + hour * HOUR)
    aggregate(svc, now)
    with store.transaction() as conn:
        save_watermark(conn, "emerging", now)  # it ran on time and found nothing
    evaluate_alerts(svc, now)
    assert history(store) == []

    late = now + 20 * MINUTE
    story = Found(tuple(range(14)), np.eye(8, dtype=np.float32)[0], ("harbour", "hotel"), ("an excerpt",))
    found = WindowStory(story, START + 3 * HOUR, START + 4 * HOUR, 14, 12, 0.6, True, {"workington": 14}, {"x": 14})
    for run in (late, late + 5 * MINUTE):  # found late, then the same again on the next run
        with store.transaction() as conn:
            save_window(conn, [found], start=START, window="day", local_day=START.date(), now=run,
                        track_for=DAY * 7, cosine=0.7, terms=3)
            save_watermark(conn, "emerging", run)
        evaluate_alerts(svc, run + MINUTE)
        assert history(store) == [(at_hour_end(0), None, "firing")]
    with store.transaction() as conn:
        assert conn.scalar(sa.select(cluster_windows.c.computed_at)) == late  # unchanged on the re-run


def test_the_window_stages_run_early_only_for_posts_that_arrived_late(store, config_path):
    """Amplification (every 5 min) and emerging narratives (hourly) run at once when posts over
    an hour old are scored after their last run (an outage, a backfill, the demo's week), not
    for the ordinary trickle of fresh posts."""
    svc = service(store, config_path)
    feed = Feed(store)
    last_run = START + 10 * HOUR
    early = {stage.name for stage in STAGES if stage.early}
    assert early == {"amplification", "emerging"}
    feed.hour(9, 3, collected_at=last_run + MINUTE, scored_at=last_run + MINUTE)  # 09:00-10:00: fresh
    assert not late_posts_scored(svc, last_run)
    feed.hour(5, 3, collected_at=last_run + MINUTE, scored_at=last_run + 2 * MINUTE)  # 05:00: late
    assert late_posts_scored(svc, last_run)
    assert not late_posts_scored(svc, last_run + 2 * MINUTE)  # seen by the run after them


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(last=st.integers(0, 400), now=st.integers(0, 500), until=st.none() | st.integers(0, 500),
       limit=st.integers(0, 300))
def test_steps_never_reach_an_hour_still_waiting(last, now, until, limit):
    minute = dt.timedelta(minutes=1)
    last_at, now_at = START + 7 * last * minute, START + 7 * now * minute
    until_at = None if until is None else START + until * HOUR / 4
    got = steps(last_at, None, now_at, limit * HOUR / 10, until_at)
    assert got == sorted(set(got))
    for at in got:
        assert last_at < at <= now_at and at >= now_at - limit * HOUR / 10
        assert (at + BEFORE).minute == 0 and (at + BEFORE).second == 0 and (at + BEFORE).microsecond == 0
        assert until_at is None or at + BEFORE <= until_at  # the hour ended before the wait began



@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(on_time=st.lists(st.tuples(st.integers(0, 47), st.integers(1, 4)), min_size=1, max_size=12),
       late=st.lists(st.tuples(st.integers(0, 47), st.integers(1, 4), st.booleans()), min_size=1, max_size=6))
def test_the_earliest_changed_hour_is_the_earliest_late_post(tmp_path_factory, config_path, on_time, late):
    """Whatever hours the late posts land in, aggregation marks exactly the hours they changed,
    and the alert stage's query finds the earliest of them."""
    from alerts.catch_up import changed_hour
    from monitor.store import Store

    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('stamps') / 'tension.db'}")
    try:
        svc, feed = service(store, config_path), Feed(store)
        first, second = START + 3 * DAY, START + 3 * DAY + HOUR
        for hour, n in on_time:
            feed.hour(hour, n, collected_at=START, scored_at=START + hour * HOUR)
        aggregate(svc, first)
        before = stamps(store)
        for hour, n, hate in late:
            feed.hour(hour, n, hate=hate, collected_at=second, scored_at=second)
        aggregate(svc, second)
        after = stamps(store)
        with store.transaction() as conn:
            found = changed_hour(conn, {"aggregate": first.isoformat()}, {"aggregate": second}, START)
    finally:
        store.close()
    touched = {START + hour * HOUR for hour, _, _ in late}
    assert {at for at, stamp in after.items() if stamp == second} == touched
    assert all(after[at] == stamp for at, stamp in before.items() if at not in touched)
    assert found == min(touched)


def stamps(store) -> dict[dt.datetime, dt.datetime]:
    with store.transaction() as conn:
        return {r.start: r.computed_at for r in conn.execute(sa.select(locality_windows).where(
            locality_windows.c.window == "hour", locality_windows.c.locality_id == "workington"))}


SURGE = """\
rules:
  - {id: surge, kind: anomaly, summary: Far more posts about the place than usual, metric: posts,
     window: hour, baseline: ewma, history: 7d, min_count: 15, for: 1h, localities: [workington]}
"""
ALERTING = """\
receivers:
  - {name: officers, urls_from_env: TENSION_RECEIVER_LATE_HOOK, body_format: text}
route: {receiver: officers, group_by: [alertname, locality], group_wait: 30s}
"""


def records(hours, per_hour) -> list[str]:
    """Fictional posts about Workington, ``per_hour(hour)`` of them in each hour."""
    out = []
    for hour in hours:
        n = per_hour(hour)
        for k in range(n):
            at = START + hour * HOUR + k * dt.timedelta(minutes=59) / n
            out.append(json.dumps({
                "id": f"h{hour}-{k}", "published_at": at.isoformat().replace("+00:00", "Z"),
                "platform": "facebook", "author": f"@fictional_{hour}_{k}", "lang": "en",
                "text": f"Post {k} of hour {hour}: road closed again near the harbour in #Workington",
                "fictional": True}))
    return out


def test_a_source_back_from_an_outage_fires_the_surge_in_its_hours_once(config_path, monkeypatch, httpserver):
    """The whole pipeline (replay source, models, aggregation, alerts, dispatch, delivery to a
    webhook on loopback). Hours 36-41 are missing when the service first runs at 48:05; the
    collector then delivers them, with a surge at 37:00-40:00, and the surge alert fires and
    resolves at its real times and is announced once."""
    from monitor.pipeline import run_once
    from monitor.service import Service
    from monitor.settings import load_settings

    root = config_path.parent
    (root / "rules.yaml").write_text(SURGE)
    (root / "alerting.yaml").write_text(ALERTING)
    monkeypatch.setenv("TENSION_RECEIVER_LATE_HOOK", f"json://{httpserver.host}:{httpserver.port}/hook")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    quiet = lambda hour: 1 + hour % 3  # noqa: E731 - one to three posts an hour
    (root / "posts.jsonl").write_text("\n".join(records([*range(36), *range(42, 48)], quiet)) + "\n")
    service = Service.open(load_settings(config_path))
    first = START + 48 * HOUR + 5 * MINUTE
    try:
        assert run_once(service, first)
        assert history(service.store) == [] and httpserver.log == []
        with (root / "posts.jsonl").open("a") as handle:  # back from the outage
            surge = records(range(36, 42), lambda hour: 20 if 37 <= hour <= 40 else quiet(hour))
            handle.write("\n".join(surge) + "\n")
        for minutes in (20, 21, 40):
            assert run_once(service, first + minutes * MINUTE)
        episodes = history(service.store)
    finally:
        service.close()
    assert episodes == [(at_hour_end(37), None, "pending"), (at_hour_end(38), "pending", "firing"),
                        (at_hour_end(41), "firing", "resolved")]
    sent = [json.loads(request.get_data())["title"] for request, _ in httpserver.log]
    assert len(sent) == 2 and "Far more posts" in sent[0] and sent[1].startswith("Resolved")

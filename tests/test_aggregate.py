"""Aggregation: window counts per locality and for the whole area, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from conftest import utc
from monitor.aggregate import aggregate, merge_days
from monitor.pipeline import STAGES
from monitor.settings import load_settings
from monitor.store.schema import (
    claims,
    locality_windows,
    narrative_windows,
    post_localities,
    post_narratives,
    post_scores,
    posts,
    tension_levels,
)

SCORED_AT = utc(2026, 11, 20, 12)


class Posts:
    """Writes posts with their scores, localities and narrative matches straight into the store."""

    def __init__(self, store):
        self.store = store
        self.ids = itertools.count(1)

    def add(self, published_at, *, localities=None, labels=(), status="scored", platform="x",
            author="a1", tension=0.2, negativity=0.1, narratives=(), site=None,
            scored_at=SCORED_AT, score=True) -> int:
        post_id = next(self.ids)
        with self.store.transaction() as conn:
            conn.execute(sa.insert(posts).values(
                id=post_id, source_id="test", external_id=str(post_id), platform=platform,
                author_pseudonym=author, text="fictional", content_hash=f"h{post_id}",
                published_at=published_at, collected_at=published_at, meta={}))
            if score:
                scored = status == "scored"
                conn.execute(sa.insert(post_scores).values(
                    post_id=post_id, status=status, language="en" if scored else "cy",
                    model_version="test", scored_at=scored_at,
                    hate=0.9 if "hate" in labels else 0.0 if scored else None,
                    offensive=None, conspiracy=None, mobilisation=None,
                    negativity=negativity if scored else None,
                    tension=tension if scored else None,
                    labels=list(labels), target_groups=[], explanation={}))
            places = {"workington": 0.9} if localities is None else localities
            for locality_id, confidence in places.items():
                conn.execute(sa.insert(post_localities).values(
                    post_id=post_id, locality_id=locality_id, confidence=confidence,
                    site_id=site if locality_id == "workington" else None))
            for narrative_id in narratives:
                conn.execute(sa.insert(post_narratives).values(
                    post_id=post_id, narrative_id=narrative_id, score=0.8, level="confirmed"))
        return post_id


@pytest.fixture
def service(store, config_path):
    return SimpleNamespace(store=store, settings=load_settings(config_path))


@pytest.fixture
def feed(store):
    return Posts(store)


def windows(store, window="hour") -> dict[tuple[str, dt.datetime], dict]:
    with store.transaction() as conn:
        rows = conn.execute(
            sa.select(locality_windows).where(locality_windows.c.window == window)).mappings()
        return {(r["locality_id"], r["start"]): dict(r) for r in rows}


def test_stage_registered_after_scoring():
    names = [stage.name for stage in STAGES]
    assert names.index("aggregate") == names.index("score") + 1


def test_empty_store_writes_nothing(service, store):
    assert aggregate(service, utc(2026, 11, 16, 12)) == 0
    assert windows(store) == {}


def test_counts_per_hour_and_day(service, feed, store):
    feed.add(utc(2026, 11, 16, 8, 5), labels=["hate", "offensive"], tension=0.8, author="a1")
    feed.add(utc(2026, 11, 16, 8, 40), labels=["mobilisation"], tension=0.6, author="a2",
             site="test-hall", platform="report")
    feed.add(utc(2026, 11, 16, 8, 50), status="not_scored_language", author="a2")
    feed.add(utc(2026, 11, 16, 9, 10), labels=["conspiracy"], narratives=["test-myth"],
             localities={"maryport": 0.8}, tension=0.4, author=None)
    assert aggregate(service, utc(2026, 11, 16, 12)) > 0

    hour = windows(store)[("workington", utc(2026, 11, 16, 8))]
    assert (hour["posts"], hour["scored"], hour["unread"]) == (3, 2, 1)
    assert (hour["hate"], hour["offensive"], hour["mobilisation"], hour["conspiracy"]) == (1, 1, 1, 0)
    assert (hour["sites"], hour["reports"], hour["authors"]) == (1, 1, 2)
    assert hour["tension_sum"] == pytest.approx(1.4)
    assert hour["tension_max"] == pytest.approx(0.8)
    assert hour["negativity_sum"] == pytest.approx(0.2)
    assert hour["computed_at"] == utc(2026, 11, 16, 12)

    maryport = windows(store)[("maryport", utc(2026, 11, 16, 9))]
    assert (maryport["posts"], maryport["conspiracy"], maryport["narrative"]) == (1, 1, 1)
    assert maryport["authors"] == 0  # no pseudonym stored for that source

    day = windows(store, "day")
    assert day[("workington", utc(2026, 11, 16))]["posts"] == 3
    assert day[("testshire", utc(2026, 11, 16))]["posts"] == 4
    assert day[("testshire", utc(2026, 11, 16))]["sites"] == 1
    assert day[("testshire", utc(2026, 11, 16))]["narrative"] == 1


def test_area_counts_unresolved_posts_and_min_confidence(service, feed, store):
    feed.add(utc(2026, 11, 16, 8), localities={"workington": 0.9})
    feed.add(utc(2026, 11, 16, 8), localities={"workington": 0.3})  # below min_confidence
    feed.add(utc(2026, 11, 16, 8), localities={})  # not resolved to any locality
    aggregate(service, utc(2026, 11, 16, 12))
    hours = windows(store)
    assert hours[("workington", utc(2026, 11, 16, 8))]["posts"] == 1
    assert hours[("testshire", utc(2026, 11, 16, 8))]["posts"] == 3
    assert set(hours) == {("workington", utc(2026, 11, 16, 8)), ("testshire", utc(2026, 11, 16, 8))}


def test_min_confidence_is_configurable(store, feed, tmp_path, monkeypatch):
    from conftest import write_config

    path = write_config(tmp_path / "cfg", main_extra="aggregation: {min_confidence: 0.2}\n")
    service = SimpleNamespace(store=store, settings=load_settings(path))
    feed.add(utc(2026, 11, 16, 8), localities={"workington": 0.3})
    aggregate(service, utc(2026, 11, 16, 12))
    assert windows(store)[("workington", utc(2026, 11, 16, 8))]["posts"] == 1


def test_narrative_status_decides_the_narrative_count(service, feed, store):
    with store.transaction() as conn:
        conn.execute(sa.insert(claims), [
            {"id": "cf-1", "text": "fictional false claim", "status": "false",
             "imported_from": "test", "imported_at": SCORED_AT},
            {"id": "cf-2", "text": "fictional true claim", "status": "true",
             "imported_from": "test", "imported_at": SCORED_AT},
        ])
    feed.add(utc(2026, 11, 16, 8), narratives=["claim-cf-1"])
    feed.add(utc(2026, 11, 16, 8), narratives=["claim-cf-2"])
    feed.add(utc(2026, 11, 16, 8), narratives=["test-myth", "claim-cf-1"])
    aggregate(service, utc(2026, 11, 16, 12))
    assert windows(store)[("workington", utc(2026, 11, 16, 8))]["narrative"] == 2


def test_narrative_windows_split_by_locality_and_platform(service, feed, store):
    feed.add(utc(2026, 11, 16, 8), narratives=["test-myth"], platform="x")
    feed.add(utc(2026, 11, 16, 9), narratives=["test-myth"], platform="facebook",
             localities={"maryport": 0.9})
    feed.add(utc(2026, 11, 16, 9), narratives=["test-myth"], platform="x", localities={})
    aggregate(service, utc(2026, 11, 16, 12))
    with store.transaction() as conn:
        rows = {(r["window"], r["start"]): dict(r)
                for r in conn.execute(sa.select(narrative_windows)).mappings()}
    day = rows[("day", utc(2026, 11, 16))]
    assert day["posts"] == 3
    assert day["localities"] == {"workington": 1, "maryport": 1}
    assert day["platforms"] == {"x": 2, "facebook": 1}
    assert rows[("hour", utc(2026, 11, 16, 9))]["posts"] == 2


def test_incremental_run_recounts_only_touched_days(service, feed, store):
    feed.add(utc(2026, 11, 16, 8), scored_at=utc(2026, 11, 16, 9))
    feed.add(utc(2026, 11, 17, 8), scored_at=utc(2026, 11, 17, 9))
    aggregate(service, utc(2026, 11, 17, 10))
    assert aggregate(service, utc(2026, 11, 17, 11)) == 0  # nothing new

    feed.add(utc(2026, 11, 17, 8, 30), labels=["hate"], scored_at=utc(2026, 11, 17, 11, 30))
    feed.add(utc(2026, 11, 17, 9), score=False)  # collected, not yet scored: counted as a post
    assert aggregate(service, utc(2026, 11, 17, 12)) > 0
    hours = windows(store)
    assert hours[("workington", utc(2026, 11, 17, 8))]["posts"] == 2
    assert hours[("workington", utc(2026, 11, 17, 8))]["hate"] == 1
    assert hours[("workington", utc(2026, 11, 17, 8))]["computed_at"] == utc(2026, 11, 17, 12)
    assert hours[("workington", utc(2026, 11, 17, 9))]["scored"] == 0
    # Monday was not touched, so it keeps its first computation.
    assert hours[("workington", utc(2026, 11, 16, 8))]["computed_at"] == utc(2026, 11, 17, 10)


def test_late_scored_post_within_rescan_is_picked_up(service, feed, store):
    feed.add(utc(2026, 11, 16, 8), scored_at=utc(2026, 11, 16, 9))
    aggregate(service, utc(2026, 11, 16, 10))
    # A scoring transaction stamped before the last run but committed after it.
    feed.add(utc(2026, 11, 16, 8), scored_at=utc(2026, 11, 16, 9, 55))
    aggregate(service, utc(2026, 11, 16, 10, 5))
    assert windows(store)[("workington", utc(2026, 11, 16, 8))]["posts"] == 2


def test_full_recompute_matches_incremental(service, feed, store):
    for i in range(30):
        feed.add(utc(2026, 11, 16) + dt.timedelta(hours=5 * i), labels=("hate",) if i % 4 == 0 else (),
                 scored_at=utc(2026, 11, 16) + dt.timedelta(hours=5 * i + 1))
        aggregate(service, utc(2026, 11, 16) + dt.timedelta(hours=5 * i + 2))
    incremental, levels_before = _snapshot(store)
    aggregate(service, utc(2026, 11, 30), full=True)
    assert _snapshot(store) == (incremental, levels_before)


def _snapshot(store):
    counts = {key: {c: v for c, v in row.items() if c != "computed_at"}
              for key, row in windows(store, "day").items()}
    with store.transaction() as conn:
        levels = {(r.locality_id, r.day): (r.index, r.trend)
                  for r in conn.execute(sa.select(tension_levels))}
    return counts, levels


def test_levels_written_for_touched_days(service, feed, store):
    for minute in range(12):
        feed.add(utc(2026, 11, 16, 8, minute), labels=["hate"], tension=0.7)
    aggregate(service, utc(2026, 11, 16, 12))
    with store.transaction() as conn:
        rows = {r.locality_id: r for r in conn.execute(sa.select(tension_levels))}
    assert set(rows) == {"workington", "testshire"}
    assert rows["workington"].day == utc(2026, 11, 16)
    assert rows["workington"].level >= 3
    assert rows["workington"].drivers["components"][0]["component"] == "hate"


def test_merge_days_joins_adjacent_days():
    days = [utc(2026, 11, 16), utc(2026, 11, 17), utc(2026, 11, 19), utc(2026, 11, 16)]
    assert merge_days(days) == [(utc(2026, 11, 16), utc(2026, 11, 18)),
                                (utc(2026, 11, 19), utc(2026, 11, 20))]

"""Emerging narratives and amplification on the demo week, with the real models.

`tension run --once` plays the fictional week (bundled config, replay only). The warehouse-fire
rumour about "Marlbeck House" is deliberately not in the narrative library: it must surface as
an emerging narrative (at most three stories, told apart by the scenario's own thread labels)
whose largest story keeps its id and is reported on consecutive days. The scripted copy-paste burst
(60 posts, 52 accounts, 40 minutes) must raise an amplification alert. Chatter that clusters
must stay below the reporting line. Promoting the rumour makes later posts match it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.privacy import clean_excerpt
from monitor.settings import load_settings
from monitor.store.schema import cluster_windows, narrative_clusters, post_narratives, posts
from test_demo_alerts import demo_config

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    config = demo_config(tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    env["TENSION_DATA_DIR"] = str(tmp / "var")
    run = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "run", "--once"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return config, env, tmp / "var" / "tension.db"


def tension(config: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)


def windows(db: Path) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(
            sa.select(cluster_windows, narrative_clusters.c.terms)
            .join(narrative_clusters, narrative_clusters.c.id == cluster_windows.c.cluster_id)
            .order_by(cluster_windows.c.start)).mappings()]
    engine.dispose()
    return rows


def threads_by_excerpt() -> dict[str, set[str]]:
    """The scenario's own ground truth: cleaned excerpt -> the threads its posts belong to."""
    threads: dict[str, set[str]] = {}
    for line in (REPO / "config" / "demo" / "scenario.jsonl").read_text().splitlines():
        record = json.loads(line)
        threads.setdefault(clean_excerpt(record["text"]).lower(), set()).add(record["thread"])
    return threads


def stories_of(db: Path, thread: str) -> list[str]:
    """Cluster ids most of whose central posts come from one scenario thread, most posts first."""
    threads = threads_by_excerpt()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        clusters = {r.id: r.excerpts for r in conn.execute(sa.select(narrative_clusters))}
    engine.dispose()
    ours = [cid for cid, shown in clusters.items()
            if shown and sum(threads.get(e.lower(), set()) == {thread} for e in shown) * 2 > len(shown)]
    size = {cid: sum(w["size"] for w in windows(db) if w["cluster_id"] == cid) for cid in ours}
    return sorted(ours, key=lambda cid: -size[cid])


def test_untracked_rumour_is_one_emerging_narrative_with_a_stable_id_on_consecutive_days(demo):
    config, env, db = demo
    listed = tension(config, env, "narratives", "emerging", "--window", "week", "--format", "json",
                     "--no-refresh")
    assert listed.returncode == 0, listed.stderr
    rumour = stories_of(db, "rumour")
    # the rumour's templates (blame, "is it true", "next it'll be...") may form more than one story,
    # but not a scatter of them
    assert 1 <= len(rumour) <= 3, rumour
    rid = rumour[0]
    assert rid in {e["id"] for e in json.loads(listed.stdout)}
    seen = sorted(w["start"] for w in windows(db) if w["cluster_id"] == rid)
    reported = sorted(w["start"] for w in windows(db) if w["cluster_id"] == rid and w["reportable"])
    # the same id on consecutive days, above the reporting line on two consecutive ones
    assert any(b - a == dt.timedelta(days=1) for a, b in zip(seen, seen[1:])), seen
    assert any(b - a == dt.timedelta(days=1) for a, b in zip(reported, reported[1:])), reported
    story = next(e for e in json.loads(listed.stdout) if e["id"] == rid)
    text = json.dumps(story)
    assert "@" not in text and "http" not in text  # cleaned excerpts, counts only


def test_copy_paste_burst_raises_an_amplification_alert_and_the_story_an_emerging_one(demo):
    config, env, _ = demo
    listed = tension(config, env, "alerts", "list", "--state", "all", "--format", "json")
    alerts = json.loads(listed.stdout)
    [amp] = [a for a in alerts if a["kind"] == "amplification"]
    assert amp["fired_at"] and "60 near-identical posts from 52 different accounts" in amp["annotations"]["description"]
    assert any(a["kind"] == "emerging_narrative" and a["fired_at"] for a in alerts)


def test_clusters_of_ordinary_chatter_stay_below_the_reporting_line(demo):
    _, _, db = demo
    threads = threads_by_excerpt()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        clusters = {r.id: r.excerpts for r in conn.execute(sa.select(narrative_clusters))}
    engine.dispose()

    def chatter(cluster_id: str) -> bool:  # its most central posts are everyday chatter
        kinds = [threads.get(e.lower(), set()) for e in clusters[cluster_id]]
        return bool(kinds) and all(k and k <= {"chatter"} for k in kinds)

    rows = windows(db)
    # with the v1.2 heads little chatter is flagged or tense, so it may not cluster at all; where it
    # does, it stays below the reporting line
    assert not [w for w in rows if w["reportable"] and chatter(w["cluster_id"])]
    assert all(w["size"] < 12 for w in rows if chatter(w["cluster_id"]))


def test_a_promoted_story_is_matched_from_the_next_scoring_run(demo):
    from monitor.collect import post_row
    from monitor.scoring import score_pending
    from monitor.service import Service
    from sources.base import FetchState, Post

    config, env, db = demo
    rid = stories_of(db, "rumour")[0]
    promoted = tension(config, env, "narratives", "promote", rid, "--status", "false", "--by", "analyst.a",
                       "--title", "Warehouse fire arson rumour", "--claim",
                       "The Harker & Benn warehouse fire in Workington was arson by Marlbeck House residents "
                       "and the police are covering it up")
    assert promoted.returncode == 0, promoted.stderr
    settings = load_settings(config)
    settings = dataclasses.replace(settings, environment=settings.environment.model_copy(
        update={"data_dir": db.parent}))
    service = Service.open(settings)
    try:
        service.library_version = (-1, None)  # as if the service had started before the promotion
        now = dt.datetime.now(dt.timezone.utc)
        row = post_row(Post(source_id="late", external_id="late-1", published_at=now, author_handle="u1",
                            text="Everyone knows Marlbeck House lads torched the Harker & Benn warehouse, "
                                 "police covering it up #Workington"),
                       platform="facebook", keep_author=True, pseudonymiser=service.pseudonymiser, now=now)
        service.store.ingest([row], FetchState("late"))
        score_pending(service, now)
        with service.store.transaction() as conn:
            matched = set(conn.scalars(sa.select(post_narratives.c.narrative_id).join(
                posts, posts.c.id == post_narratives.c.post_id).where(posts.c.external_id == "late-1")))
    finally:
        service.close()
    assert f"claim-{rid}" in matched

"""Emerging narratives and coordinated amplification, without the models: clustering, tracking,
bursts, the two rule kinds and analyst review. (The demo week with the real models is in
tests/test_demo_alerts.py and tests/test_emerging_demo.py.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from alerts.evaluate import Scope, evaluate_rules
from alerts.rules import RuleFile
from conftest import utc
from monitor.amplification import AmplificationSettings, bursts_in, detect, near_groups
from monitor.emerging.clustering import Found, stories
from monitor.emerging.review import current, dismiss, promote
from monitor.emerging.tracking import Known, WindowStory, match, save_window
from monitor.errors import TensionError
from monitor.privacy import clean_excerpt
from monitor.store.schema import (
    amplification_bursts,
    audit_log,
    claims,
    narrative_clusters,
    posts,
)

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "config" / "demo" / "scenario.jsonl"
DAY = utc(2026, 11, 20)


def scenario(thread: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in SCENARIO.read_text().splitlines() if line.strip()]
    return [r for r in rows if thread is None or r["thread"] == thread]


def around(direction: np.ndarray, n: int, rng, spread: float = 0.15) -> np.ndarray:
    v = direction + rng.normal(scale=spread, size=(n, direction.size))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# -- clustering --------------------------------------------------------------------------------

def test_two_wordings_of_one_story_merge_on_their_rare_words_and_chatter_stays_apart():
    rng = np.random.default_rng(3)
    a, b, c = (rng.normal(size=64) for _ in range(3))
    vectors = np.vstack([around(a, 8, rng), around(b, 8, rng), around(c, 8, rng)]).astype(np.float32)
    texts = ([f"the Lowmill warehouse fire was the Marlbeck hostel lot, police covering it up {i}"
              for i in range(8)]
             + [f"is it true about the Lowmill fire and the Marlbeck hostel? my sister heard {i}"
                for i in range(8)]
             + [f"bins not emptied again on our street in Workington this week {i}" for i in range(8)])
    found = stories(vectors, texts, min_size=5, max_points=1000, ignore_terms={"workington"})
    assert sorted(len(f.members) for f in found) == [8, 16]
    story = next(f for f in found if len(f.members) == 16)
    assert {"lowmill", "marlbeck"} <= set(story.terms)
    assert all(abs(float(np.linalg.norm(f.centroid)) - 1) < 1e-5 for f in found)
    assert len(story.excerpts) <= 3


def test_wordings_that_share_only_a_name_merge_and_known_words_or_lower_case_slang_do_not():
    rng = np.random.default_rng(4)
    dirs = [rng.normal(size=64) for _ in range(4)]
    vectors = np.vstack([around(d, 6, rng) for d in dirs]).astype(np.float32)
    texts = ([f"So now the Harker & Benn fire was 'accidental'? pull the other one {i}" for i in range(6)]
             + [f"Lads from Marlbeck seen running off from Harker & Benn, police said nowt {i}"
                for i in range(6)]
             + [f"that hostel in town is a disgrace, marra, shut it down {i}" for i in range(6)]
             + [f"new hostel opening near the station, marra says it looks smart {i}" for i in range(6)])
    known = {"hostel", "town", "disgrace", "shut", "down", "station", "smart", "fire", "police", "lads"}
    merged = stories(vectors, texts, min_size=5, max_points=1000, known_words=known)
    assert sorted(len(f.members) for f in merged) == [6, 6, 12]  # "Harker" links the first two only
    apart = stories(vectors, texts, min_size=5, max_points=1000)  # no vocabulary: no names rule
    assert sorted(len(f.members) for f in apart) == [6, 6, 6, 6]


def test_above_max_points_the_rest_joins_the_nearest_cluster():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=32), rng.normal(size=32)
    vectors = np.vstack([around(a, 1500, rng, 0.05), around(b, 1500, rng, 0.05)]).astype(np.float32)
    texts = ["alpha story words here"] * 1500 + ["beta other words there"] * 1500
    found = stories(vectors, texts, min_size=20, max_points=1000)
    assert len(found) == 2
    for f in found:  # fitted on a third; nearly all the rest joined, never the wrong story
        assert len(f.members) >= 1450 and len({m // 1500 for m in f.members}) == 1


def test_excerpts_drop_handles_and_links_and_stay_short():
    text = "@kev_k look https://t.co/x1 " + "word " * 60
    shown = clean_excerpt(text)
    assert "@" not in shown and "http" not in shown and len(shown) <= 140


def test_a_story_keeps_its_id_when_it_continues_and_new_ones_get_new_ids():
    unit = np.eye(4, dtype=np.float32)
    known = [Known("em-1", unit[0], ("marlbeck", "fire")), Known("em-2", unit[1], ("bins",))]
    found = [Found((0,), unit[0], ("marlbeck", "fire", "hostel"), ()),
             Found((1,), unit[2], ("riverside", "hotel"), ()),
             Found((2,), unit[3], ("bins", "street", "week"), ())]
    assert match(found, known, cosine=0.7, terms=3) == ["em-1", None, None]
    assert match(found, known, cosine=0.7, terms=1) == ["em-1", None, "em-2"]


def test_a_close_centroid_without_a_shared_term_is_a_new_story():
    # short local posts sit close together in MiniLM space whatever they are about: lifts to the
    # football must not continue the Riverside Hotel story on centroid alone
    v = np.eye(4, dtype=np.float32)[0]
    known = [Known("em-1", v, ("riverside", "hotel", "saturday"))]
    near = (v * 0.95 + np.eye(4, dtype=np.float32)[1] * 0.3).astype(np.float32)
    near /= np.linalg.norm(near)
    chatter = Found((0,), near, ("game", "lift", "going"), ())
    same_story = Found((0,), near, ("riverside", "today", "bring"), ())
    assert match([chatter], known, cosine=0.7, terms=3) == [None]
    assert match([same_story], known, cosine=0.7, terms=3) == ["em-1"]


def _story(vector, size: int, reportable: bool, at: dt.datetime, terms=("marlbeck", "fire", "hostel")):
    found = Found(tuple(range(size)), vector, terms, ("an excerpt",))
    return WindowStory(found, at, at + dt.timedelta(hours=5), size, size, 0.6, reportable,
                       {"workington": size}, {"x": size})


def test_saved_windows_keep_ids_across_days_and_reruns(store):
    v = np.eye(8, dtype=np.float32)[0]
    kwargs = dict(window="day", track_for=dt.timedelta(days=7), cosine=0.7, terms=3)
    with store.transaction() as conn:
        [first] = save_window(conn, [_story(v, 14, True, DAY)], start=DAY, local_day=DAY.date(),
                              now=DAY + dt.timedelta(hours=20), **kwargs)
        [again] = save_window(conn, [_story(v, 16, True, DAY)], start=DAY, local_day=DAY.date(),
                              now=DAY + dt.timedelta(hours=23), **kwargs)  # the same day, re-run
        nxt = DAY + dt.timedelta(days=1)
        [second] = save_window(conn, [_story(v * 0.99 + np.eye(8, dtype=np.float32)[1] * 0.1, 24, True, nxt)],
                               start=nxt, local_day=nxt.date(), now=nxt + dt.timedelta(hours=20), **kwargs)
    assert first == again == second == "em-20261120-1"
    [item] = current(store, nxt + dt.timedelta(hours=21))
    assert (item.id, item.size, item.growth, item.localities) == ("em-20261120-1", 24, 8, {"workington": 24})


def test_a_day_below_the_line_does_not_replace_what_a_reported_story_showed(store):
    v = np.eye(8, dtype=np.float32)[0]
    kwargs = dict(window="day", track_for=dt.timedelta(days=7), cosine=0.7, terms=3)
    nxt, after = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    reported = dataclasses.replace(_story(v, 14, True, DAY), found=Found(tuple(range(14)), v, ("riverside", "hotel"),
                                                                         ("Riverside Hotel Saturday 2pm",)))
    quiet = dataclasses.replace(_story(v, 9, False, nxt), found=Found(tuple(range(9)), v, ("hotel", "bus"),
                                                                      ("Bus to the hotel was late again",)))
    louder = dataclasses.replace(_story(v, 20, True, after), found=Found(tuple(range(20)), v, ("riverside", "today"),
                                                                         ("2pm TODAY Riverside Hotel",)))
    with store.transaction() as conn:
        ids = [save_window(conn, [s], start=s.first_at, local_day=s.first_at.date(), now=s.last_at, **kwargs)[0]
               for s in (reported, quiet)]
        kept = conn.execute(sa.select(narrative_clusters)).mappings().one()
        ids += save_window(conn, [louder], start=after, local_day=after.date(), now=louder.last_at, **kwargs)
        shown = conn.execute(sa.select(narrative_clusters)).mappings().one()
    assert len(set(ids)) == 1
    assert (kept["excerpts"], kept["terms"]) == (["Riverside Hotel Saturday 2pm"], ["riverside", "hotel"])
    assert kept["last_seen"] == quiet.last_at  # the quiet day still counts as seen
    assert shown["excerpts"] == ["2pm TODAY Riverside Hotel"]  # a reportable day does replace them


# -- amplification ---------------------------------------------------------------------------

def _rows(records: list[dict]) -> list[dict]:
    return [{"id": i, "text": r["text"], "published_at": dt.datetime.fromisoformat(r["published_at"]),
             "author_pseudonym": r["author"], "platform": r["platform"], "content_hash": r["text"]}
            for i, r in enumerate(records)]


def test_the_demo_copy_paste_burst_is_one_burst_and_chatter_never_bursts():
    config = AmplificationSettings()
    rows = _rows(scenario())
    groups = near_groups([r["text"] for r in rows], similarity=config.similarity, num_perm=config.num_perm)
    found = [b for g in groups for b in bursts_in([rows[i] for i in g], span=config.span,
                                                  min_authors=config.min_authors, min_posts=config.min_posts)]
    threads = {r["id"]: r["thread"] for r in [dict(x, id=i) for i, x in enumerate(scenario())]}
    assert len(found) == 1
    [burst] = found
    assert {threads[r["id"]] for r in burst} == {"amplification"}
    assert len(burst) == 60 and len({r["author_pseudonym"] for r in burst}) == 52


def test_one_account_posting_the_same_text_many_times_is_not_a_burst():
    rows = [{"id": i, "text": "Share this! The council are giving the new flats away", "author_pseudonym": "a1",
             "published_at": DAY + dt.timedelta(minutes=i), "platform": "x", "content_hash": "h"}
            for i in range(30)]
    assert bursts_in(rows, span=dt.timedelta(hours=1), min_authors=8, min_posts=10) == []


def _insert_posts(store, records: list[dict], collected: dt.datetime) -> None:
    with store.transaction() as conn:
        conn.execute(sa.insert(posts), [
            {"source_id": "demo", "external_id": r["id"], "platform": r["platform"], "meta": {},
             "text": r["text"], "author_pseudonym": "p-" + r["author"], "content_hash": r["id"],
             "published_at": dt.datetime.fromisoformat(r["published_at"]), "collected_at": collected}
            for r in records])


def test_stage_stores_the_burst_as_counts_and_extends_it_as_it_grows(store):
    burst = scenario("amplification")
    burst[0] = dict(burst[0], text="@kev_k " + burst[0]["text"] + " https://t.co/abc")
    chatter = [r for r in scenario("chatter") if r["published_at"].startswith("2026-11-19")]
    _insert_posts(store, burst[:30] + chatter, utc(2026, 11, 19, 20, 30))
    assert detect(store, AmplificationSettings(), utc(2026, 11, 19, 20, 31)) == 1
    _insert_posts(store, burst[30:], utc(2026, 11, 19, 21, 0))
    detect(store, AmplificationSettings(), utc(2026, 11, 19, 21, 1))
    with store.transaction() as conn:
        [row] = conn.execute(sa.select(amplification_bursts)).mappings().all()
    assert (row["posts"], row["authors"]) == (60, 52)
    assert row["started_at"] == utc(2026, 11, 19, 20, 5, 9)
    stored = json.dumps({k: v for k, v in row.items() if k not in ("started_at", "ended_at", "detected_at")})
    assert "@" not in stored and "http" not in stored and "p-" not in stored
    assert row["new_authors"] == 52  # none of them had posted before in this store


# -- the two rule kinds ----------------------------------------------------------------------

SCOPE = Scope(area_id="cumberland", localities=("workington", "maryport"),
              names={"workington": "Workington", "maryport": "Maryport"})
RULES = RuleFile.model_validate({"rules": [
    {"id": "amp", "kind": "amplification", "summary": "copy-paste", "within": "6h"},
    {"id": "new-story", "kind": "emerging_narrative", "summary": "new story", "min_posts": 12},
]}).rules


def test_amplification_and_emerging_rules_fire_on_their_signals_and_not_after(store):
    with store.transaction() as conn:
        conn.execute(sa.insert(amplification_bursts).values(
            signature="s" * 32, started_at=utc(2026, 11, 19, 20, 5), ended_at=utc(2026, 11, 19, 20, 45),
            posts=60, authors=52, new_authors=40, excerpt="Share this! The council are giving...",
            localities={"maryport": 9}, platforms={"x": 30, "facebook": 30}, detected_at=utc(2026, 11, 19, 21)))
        save_window(conn, [_story(np.eye(8, dtype=np.float32)[0], 14, True, DAY),
                           _story(np.eye(8, dtype=np.float32)[3], 20, False, DAY, ("bins",))],
                    start=DAY, window="day", local_day=DAY.date(), now=DAY + dt.timedelta(hours=22),
                    track_for=dt.timedelta(days=7), cosine=0.7, terms=3)
    at = utc(2026, 11, 20, 1)  # the burst ended 4h15m ago; the story's window began 1h ago
    active = {(c.rule_id, c.labels["locality"], c.labels.get("burst") or c.labels.get("narrative"))
              for c in evaluate_rules(store, SCOPE, RULES, at) if c.active}
    assert active == {("amp", "maryport", "s" * 12), ("new-story", "cumberland", "em-20261120-1")}
    [amp] = [c for c in evaluate_rules(store, SCOPE, RULES, utc(2026, 11, 19, 21)) if c.rule_id == "amp"]
    assert "60 near-identical posts from 52 different accounts in 40 min" in amp.annotations["description"]
    assert not [c for c in evaluate_rules(store, SCOPE, RULES, utc(2026, 11, 22, 12)) if c.active]


# -- analyst review ----------------------------------------------------------------------------

def test_promote_adds_the_story_to_the_library_and_dismiss_needs_a_reason(store):
    with store.transaction() as conn:
        save_window(conn, [_story(np.eye(8, dtype=np.float32)[0], 14, True, DAY),
                           _story(np.eye(8, dtype=np.float32)[2], 13, True, DAY, ("other", "story", "x"))],
                    start=DAY, window="day", local_day=DAY.date(), now=DAY, track_for=dt.timedelta(days=7),
                    cosine=0.7, terms=3)
    now = DAY + dt.timedelta(hours=23)
    assert promote(store, "em-20261120-1", status="false", by="analyst.a", title="Warehouse fire arson rumour",
                   claim="The Lowmill warehouse fire was arson by Marlbeck House residents", now=now) \
        == "claim-em-20261120-1"
    with pytest.raises(TensionError, match="already promoted"):
        dismiss(store, "em-20261120-1", by="analyst.b", reason="dup", now=now)
    with pytest.raises(TensionError, match="needs a reason"):
        dismiss(store, "em-20261120-2", by="analyst.b", reason=" ", now=now)
    dismiss(store, "em-20261120-2", by="analyst.b", reason="football chatter", now=now)
    with pytest.raises(TensionError, match="no emerging narrative"):
        promote(store, "em-nope", status="false", by="a", title=None, claim=None, now=now)
    with store.transaction() as conn:
        [claim] = conn.execute(sa.select(claims)).mappings().all()
        statuses = dict(conn.execute(sa.select(narrative_clusters.c.id, narrative_clusters.c.status)).all())
        actions = [r.action for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))]
    assert (claim["id"], claim["status"], claim["title"]) == ("em-20261120-1", "false", "Warehouse fire arson rumour")
    assert statuses == {"em-20261120-1": "promoted", "em-20261120-2": "dismissed"}
    assert actions == ["narrative.promote", "narrative.dismiss"]
    assert current(store, now) == []  # reviewed stories are no longer reported

"""Emerging narratives: stories in recent posts that the narrative library does not know yet.

Each UTC day (the window; re-run through the day as posts arrive, and on demand) the posts
that a head flagged or that read as tense, and that matched no library narrative, are
clustered (``clustering``) and tracked across days under stable ids (``tracking``). A story
is reported when it is big enough, told by enough distinct people and flagged enough
(``EmergingSettings``); ordinary chatter that happens to cluster stays below that line.
Analysts promote a story to the library (it is matched from then on) or dismiss it
(``review``). Only counts, places, platforms, terms and short cleaned excerpts are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Collection, Sequence

import numpy as np
import sqlalchemy as sa

from monitor.emerging.settings import EmergingSettings
from monitor.emerging.tracking import WindowStory, save_window
from monitor.post_text import capped_text
from monitor.store import Store
from monitor.store.stage_state import save_watermark, watermark
from monitor.store.schema import (
    post_embeddings,
    post_localities,
    post_narratives,
    post_scores,
    posts,
)

log = logging.getLogger("tension.emerging")
STAGE = "emerging"
DAY = dt.timedelta(days=1)

__all__ = ["EmergingSettings", "find_emerging", "run_window", "is_candidate"]


def is_candidate(result: dict, config: EmergingSettings) -> bool:
    """Whether a scored post may belong to an emerging narrative (before library matching)."""
    if result.get("tension") is None:
        return False
    return (result["tension"] >= config.min_tension
            or (result.get("conspiracy") or 0) >= config.min_conspiracy
            or (result.get("hate") or 0) >= config.flag_hate
            or (result.get("mobilisation") or 0) >= config.flag_mobilisation)


def is_flagged(row: dict, config: EmergingSettings) -> bool:
    """A post that counts towards a story's flagged share: tense, or over a head's line. The
    mobilisation head's own label threshold (0.45) is tuned for counting calls to gather and
    also fires on some everyday plans ("everyone round to ours after the bonfire, bring a
    bottle"), so here it counts only at the call-to-gather rule's line (0.6)."""
    return ((row["tension"] or 0) >= 0.5 or "conspiracy" in (row["labels"] or ())
            or (row["hate"] or 0) >= config.flag_hate
            or (row["mobilisation"] or 0) >= config.flag_mobilisation)


def _candidates(conn: sa.Connection, start: dt.datetime, end: dt.datetime,
                config: EmergingSettings) -> list[dict]:
    matched = sa.exists().where(post_narratives.c.post_id == posts.c.id)
    flagged = sa.or_(post_scores.c.tension >= config.min_tension,
                     post_scores.c.conspiracy >= config.min_conspiracy,
                     post_scores.c.hate >= config.flag_hate, post_scores.c.mobilisation >= config.flag_mobilisation)
    rows = conn.execute(
        sa.select(posts.c.id, capped_text(), posts.c.published_at, posts.c.platform,
                  posts.c.author_pseudonym, post_scores.c.tension, post_scores.c.labels,
                  post_scores.c.hate, post_scores.c.mobilisation, post_embeddings.c.vector)
        .join(post_scores, post_scores.c.post_id == posts.c.id)
        .outerjoin(post_embeddings, post_embeddings.c.post_id == posts.c.id)
        .where(posts.c.published_at >= start, posts.c.published_at < end, posts.c.text.is_not(None),
               post_scores.c.status == "scored", flagged, ~matched)
        .order_by(posts.c.id)).mappings()
    return [dict(r) for r in rows]


def _places(conn: sa.Connection, ids: Sequence[int], min_confidence: float) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), 5000):
        chunk = list(ids[start:start + 5000])
        for post_id, locality in conn.execute(
                sa.select(post_localities.c.post_id, post_localities.c.locality_id)
                .where(post_localities.c.post_id.in_(chunk), post_localities.c.confidence >= min_confidence)):
            out.setdefault(post_id, []).append(locality)
    return out


def _vectors(store: Store, rows: list[dict], embed: Callable[[list[str]], np.ndarray] | None) -> np.ndarray:
    """Stored embeddings; posts scored before they were kept are encoded now and stored."""
    missing = [i for i, r in enumerate(rows) if r["vector"] is None]
    if missing and embed is not None:
        fresh = np.asarray(embed([rows[i]["text"] for i in missing]), dtype=np.float32)
        with store.transaction() as conn:
            conn.execute(sa.insert(post_embeddings), [
                {"post_id": rows[i]["id"], "vector": v.astype(np.float16).tobytes()}
                for i, v in zip(missing, fresh)])
        for i, v in zip(missing, fresh):
            rows[i]["vector"] = v.astype(np.float16).tobytes()
    kept = [r for r in rows if r["vector"] is not None]
    rows[:] = kept
    if not kept:
        return np.zeros((0, 384), dtype=np.float32)
    return np.stack([np.frombuffer(r["vector"], dtype=np.float16) for r in kept]).astype(np.float32)


def run_window(store: Store, config: EmergingSettings, start: dt.datetime, now: dt.datetime, *,
               ignore_terms: Sequence[str] = (), min_confidence: float = 0.5,
               embed: Callable[[list[str]], np.ndarray] | None = None,
               known_words: Collection[str] = ()) -> list[str]:
    """Cluster one day window (up to ``now``) and save it; returns the reportable cluster ids."""
    end = min(start, now - DAY) + DAY  # min(start + DAY, now), without overflow for a day near 9999-12-31
    with store.transaction() as conn:
        rows = _candidates(conn, start, end, config)
    from monitor.emerging.clustering import stories  # scikit-learn: loaded when clustering

    vectors = _vectors(store, rows, embed)
    found = stories(vectors, [r["text"] for r in rows], min_size=config.min_cluster_size,
                    max_points=config.max_points, ignore_terms=ignore_terms,
                    known_words=known_words) if len(rows) else []
    with store.transaction() as conn:
        places = _places(conn, [r["id"] for r in rows], min_confidence)
        window_stories = [_describe(f, rows, places, config) for f in found]
        ids = save_window(conn, window_stories, start=start, window="day", local_day=start.date(),
                          now=now, track_for=config.track_for, cosine=config.match_cosine,
                          terms=config.match_terms)
    return [cid for cid, story in zip(ids, window_stories) if story.reportable]


def _describe(found, rows: list[dict], places: dict[int, list[str]], config: EmergingSettings) -> WindowStory:
    members = [rows[i] for i in found.members]
    authors = len({r["author_pseudonym"] for r in members if r["author_pseudonym"]})
    flagged = sum(is_flagged(r, config) for r in members) / len(members)
    localities = Counter(loc for r in members for loc in places.get(r["id"], ()))
    reportable = (len(members) >= config.report_min_posts and authors >= config.report_min_authors
                  and flagged >= config.report_min_flagged)
    return WindowStory(found=found, first_at=min(r["published_at"] for r in members),
                       last_at=max(r["published_at"] for r in members), size=len(members),
                       authors=authors, flagged=round(flagged, 3), reportable=reportable,
                       localities=dict(localities.most_common()),
                       platforms=dict(Counter(r["platform"] for r in members).most_common()))


def place_words(settings) -> set[str]:
    """Every word of every place name: shared by all stories about a town, so never distinctive."""
    words = {w for w in settings.localities.area.name.lower().split()} | {"cumbria"}
    for loc in settings.localities.localities:
        for name in (loc.name, *loc.aliases, *loc.hashtags):
            words.update(w.strip("#").lower() for w in name.replace("-", " ").split())
    return words


def find_emerging(service, now: dt.datetime, *, force_window: dt.datetime | None = None) -> list[str]:
    """Pipeline stage: the current day, any earlier day not finished since the last run, and
    any earlier day holding a post scored since then (up to ``catch_up`` back); returns the
    reportable cluster ids of the current day."""
    config: EmergingSettings = service.settings.main.emerging
    if not config.enabled:
        return []
    today = now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    with service.store.transaction() as conn:
        last = watermark(conn, STAGE)
        oldest = conn.scalar(sa.select(sa.func.min(posts.c.published_at))
                             .where(posts.c.published_at >= now - config.catch_up))
        late = None if last is None else conn.scalar(
            sa.select(sa.func.min(posts.c.published_at))
            .join(post_scores, post_scores.c.post_id == posts.c.id)
            .where(post_scores.c.scored_at > last, posts.c.published_at >= now - config.catch_up))
    if force_window is not None:
        days = [force_window]
    else:
        # From the last run's day, or from the earliest day of a post scored since then: posts
        # that arrived late (a collector back from an outage, a backfill) change earlier days.
        start = min(last, late or last) if last is not None else oldest or today
        first = max(start, now - config.catch_up).replace(hour=0, minute=0, second=0, microsecond=0)
        days = [first + k * DAY for k in range((today - first) // DAY + 1)]
    ignore = sorted(place_words(service.settings))
    embed = (lambda texts: service.scorer.embed(texts))
    from classifiers.obfuscation import encoder_words  # a word it lacks is most often a name

    known = encoder_words()
    reportable: list[str] = []
    for day in days:
        reportable = run_window(service.store, config, day, now, ignore_terms=ignore, embed=embed,
                                min_confidence=service.settings.main.aggregation.min_confidence,
                                known_words=known)
        log.info("emerging narratives", extra={"fields": {
            "window": day.date().isoformat(), "reportable": len(reportable),
            "ids": ",".join(reportable[:10])}})
    if force_window is None:
        with service.store.transaction() as conn:
            save_watermark(conn, STAGE, now)
    return reportable

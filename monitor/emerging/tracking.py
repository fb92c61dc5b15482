"""Stable ids across windows: a window's stories matched to the clusters seen before.

A story found today is the same emerging narrative as one seen in the last ``track_for`` when
their centroids are close (cosine >= ``match_cosine``) and they share at least one of their
distinctive terms, or when they share ``match_terms`` of them; each earlier cluster takes at most
one of today's stories, best match first. A close centroid alone is not enough: MiniLM puts short
local posts near each other whatever they are about, and on the demo week (with the v1.5
conspiracy head) nine chatter posts offering lifts to the football continued the Riverside Hotel
call to gather that way.

Re-running a window (the day is still under way) replaces that window's rows, so the ids found
earlier in the day are kept and sizes are always the window's whole count. Once a story has been
above the reporting line, a window below it counts towards the story's history but does not
replace the centroid, terms and excerpts officers were shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sqlalchemy as sa

from monitor.store.schema import cluster_windows, narrative_clusters

if TYPE_CHECKING:  # scikit-learn is loaded only when clustering runs
    from monitor.emerging.clustering import Found


@dataclass(frozen=True)
class Known:
    id: str
    centroid: np.ndarray
    terms: tuple[str, ...]


def known_clusters(conn: sa.Connection, since: dt.datetime) -> list[Known]:
    rows = conn.execute(sa.select(narrative_clusters.c.id, narrative_clusters.c.centroid,
                                  narrative_clusters.c.terms)
                        .where(narrative_clusters.c.last_seen >= since)
                        .order_by(narrative_clusters.c.first_seen, narrative_clusters.c.id))
    return [Known(r.id, np.frombuffer(r.centroid, dtype=np.float32), tuple(r.terms)) for r in rows]


def match(found: Sequence[Found], known: Sequence[Known], *, cosine: float,
          terms: int) -> list[str | None]:
    """For each story, the id of the earlier cluster it continues, or None if it is new."""
    pairs = []
    for i, story in enumerate(found):
        for j, old in enumerate(known):
            similarity = float(story.centroid @ old.centroid)
            shared = len(set(story.terms) & set(old.terms))
            if (similarity >= cosine and shared >= 1) or shared >= terms:
                pairs.append((similarity + 0.05 * shared, i, j))
    taken_story, taken_known = set(), set()
    out: list[str | None] = [None] * len(found)
    for _, i, j in sorted(pairs, reverse=True):
        if i not in taken_story and j not in taken_known:
            out[i] = known[j].id
            taken_story.add(i)
            taken_known.add(j)
    return out


def new_id(conn: sa.Connection, local_day: dt.date) -> str:
    """``em-20261120-3``: the day it was first seen and a running number."""
    prefix = f"em-{local_day:%Y%m%d}-"
    taken = set(conn.scalars(sa.select(narrative_clusters.c.id)
                             .where(narrative_clusters.c.id.like(prefix + "%"))))
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


@dataclass(frozen=True)
class WindowStory:
    """One story of one window, with what the store keeps about it (counts only)."""

    found: Found
    first_at: dt.datetime
    last_at: dt.datetime
    size: int
    authors: int
    flagged: float
    reportable: bool
    localities: dict[str, int]
    platforms: dict[str, int]


def save_window(conn: sa.Connection, stories: Sequence[WindowStory], *, start: dt.datetime,
                window: str, local_day: dt.date, now: dt.datetime, track_for: dt.timedelta,
                cosine: float, terms: int) -> list[str]:
    """Replace the window's rows with these stories; returns their cluster ids in order. A row
    that a re-run finds the same keeps its ``computed_at``, so that column says when the story's
    window last changed (the alert stage goes back over windows that changed behind it)."""
    w = cluster_windows.c
    before = {row.cluster_id: row for row in conn.execute(
        sa.select(w.cluster_id, w.size, w.authors, w.flagged, w.reportable, w.localities, w.platforms,
                  w.computed_at).where(w.start == start, w.window == window))}
    conn.execute(sa.delete(cluster_windows).where(w.start == start, w.window == window))
    known = known_clusters(conn, start - track_for)
    ids = match([s.found for s in stories], known, cosine=cosine, terms=terms)
    out = []
    for story, cluster_id in zip(stories, ids):
        values = {"centroid": story.found.centroid.astype(np.float32).tobytes(),
                  "terms": list(story.found.terms), "excerpts": list(story.found.excerpts)}
        if cluster_id is None:
            cluster_id = new_id(conn, local_day)
            conn.execute(sa.insert(narrative_clusters).values(
                id=cluster_id, status="candidate", first_seen=story.first_at,
                last_seen=story.last_at, **values))
        else:
            row = conn.execute(sa.select(narrative_clusters.c.first_seen, narrative_clusters.c.last_seen)
                               .where(narrative_clusters.c.id == cluster_id)).one()
            if not story.reportable and _was_reported(conn, cluster_id):
                values = {}  # a quieter day below the line keeps what officers were shown
            conn.execute(sa.update(narrative_clusters).where(narrative_clusters.c.id == cluster_id)
                         .values(first_seen=min(row.first_seen, story.first_at),
                                 last_seen=max(row.last_seen, story.last_at), **values))
        counts = (story.size, story.authors, story.flagged, story.reportable, story.localities,
                  story.platforms)
        old = before.get(cluster_id)
        unchanged = old is not None and tuple(old)[1:7] == counts
        conn.execute(sa.insert(cluster_windows).values(
            cluster_id=cluster_id, start=start, window=window, size=story.size, authors=story.authors,
            flagged=story.flagged, reportable=story.reportable, localities=story.localities,
            platforms=story.platforms, computed_at=old.computed_at if unchanged else now))
        out.append(cluster_id)
    return out


def _was_reported(conn: sa.Connection, cluster_id: str) -> bool:
    return conn.execute(sa.select(cluster_windows.c.cluster_id).where(
        cluster_windows.c.cluster_id == cluster_id, cluster_windows.c.reportable.is_(True)).limit(1)).first() is not None

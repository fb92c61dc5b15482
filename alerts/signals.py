"""Rule kinds over the narrative signals: coordinated amplification and emerging narratives.

Both read what their stages stored (``amplification_bursts``, ``cluster_windows``), never
posts, and say only counts, timing, places, platforms (cleaned: a feed names them) and, for a
new story, its cleaned terms. A notification never carries post text, so a burst is described
in plain words and its example wording stays on the dashboard and in the briefing.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from alerts.evaluate import Candidate, Evaluation, candidate
from monitor.privacy import clean_excerpt
from monitor.store.schema import amplification_bursts, cluster_windows, narrative_clusters


def _top_place(ev: Evaluation, localities: dict | None) -> str:
    known = [loc for loc in (localities or {}) if loc != ev.scope.area_id]
    return known[0] if known else ev.scope.area_id


def amplification(rule, ev: Evaluation) -> list[Candidate]:
    """One alert per burst, keyed by the burst's text signature (label ``burst``)."""
    rows = ev.conn.execute(sa.select(amplification_bursts).where(
        amplification_bursts.c.started_at <= ev.now,
        amplification_bursts.c.ended_at > ev.now - rule.within,
        amplification_bursts.c.posts >= rule.min_posts,
        amplification_bursts.c.authors >= rule.min_authors,
    ).order_by(amplification_bursts.c.started_at)).mappings()
    out = []
    for row in rows:
        place = _top_place(ev, row["localities"])
        minutes = max(1, round((row["ended_at"] - row["started_at"]).total_seconds() / 60))
        platforms = ", ".join(f"{clean_excerpt(p, 40) or 'unnamed'} {n}"
                              for p, n in list((row["platforms"] or {}).items())[:3])
        text = (f"{row['posts']} near-identical posts from {row['authors']} different accounts in "
                f"{minutes} min from {row['started_at'].astimezone(ev.tz):%a %d %b %H:%M}"
                f" ({row['new_authors']} of them first seen in the day before; {platforms}). "
                f"The wording is on the dashboard's narratives page")
        out.append(candidate(rule, ev, place, float(row["posts"]), True, text,
                             burst=row["signature"][:12]))
    return out


def emerging_narrative(rule, ev: Evaluation) -> list[Candidate]:
    """One alert per reportable cluster in the window holding ``now`` or the one before."""
    day = dt.timedelta(days=1)
    rows = ev.conn.execute(
        sa.select(cluster_windows, narrative_clusters.c.terms, narrative_clusters.c.first_seen)
        .join(narrative_clusters, narrative_clusters.c.id == cluster_windows.c.cluster_id)
        .where(cluster_windows.c.start <= ev.now, cluster_windows.c.start > ev.now - 2 * day,
               cluster_windows.c.reportable.is_(True), cluster_windows.c.size >= rule.min_posts,
               narrative_clusters.c.status == "candidate")
        .order_by(cluster_windows.c.cluster_id, cluster_windows.c.start)).mappings()
    latest = {row["cluster_id"]: row for row in rows}  # the newer window wins
    out = []
    for cluster_id, row in latest.items():
        places = ", ".join(f"{ev.scope.name(p)} {n}" for p, n in list((row["localities"] or {}).items())[:5])
        terms = clean_excerpt(", ".join(str(t) for t in row["terms"][:6]), 120)
        text = (f"a story not in the narrative library: {terms}; {row['size']} "
                f"posts by {row['authors']} accounts on {row['start'].astimezone(ev.tz):%a %d %b}"
                f"{'; ' + places if places else ''}; first seen "
                f"{row['first_seen'].astimezone(ev.tz):%a %d %b %H:%M}. Review it: "
                f"tension narratives emerging, then promote or dismiss {cluster_id}")
        c = candidate(rule, ev, ev.scope.area_id, float(row["size"]), True, text, narrative=cluster_id)
        c.annotations["dashboard"] = f"{ev.scope.dashboard_url.rstrip('/')}/narratives/{cluster_id}"
        out.append(c)
    return out

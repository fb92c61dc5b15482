"""What analysts see and decide: the current emerging narratives, promotion and dismissal.

Promoting writes the story into the narrative library's store side (the ``claims`` table, the
same place imported fact checks go), so the scoring stage matches it from then on; dismissing
keeps tracking it (so it does not come back as "new") but stops reporting it. Both are
audited with who, when and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from monitor import audit
from monitor.errors import TensionError
from monitor.privacy import EXCERPT_MAX, clean_excerpt
from monitor.store import Store
from monitor.store.schema import claims, cluster_windows, narrative_clusters

STATUSES = ("false", "misleading", "unverified", "true")


@dataclass(frozen=True)
class Emerging:
    id: str
    status: str
    terms: list[str]
    excerpts: list[str]
    size: int  # posts in the newest window
    growth: int  # change on the window before (posts)
    authors: int
    localities: dict[str, int]
    platforms: dict[str, int]
    first_seen: dt.datetime
    window: dt.datetime
    reportable: bool  # above the reporting line in any window asked for

    def as_json(self) -> dict:
        return {"id": self.id, "status": self.status, "terms": self.terms, "excerpts": self.excerpts,
                "size": self.size, "growth": self.growth, "authors": self.authors,
                "localities": self.localities, "platforms": self.platforms,
                "first_seen": self.first_seen.isoformat(), "window": self.window.date().isoformat(),
                "reportable": self.reportable}


def _cleaned(texts, limit: int = EXCERPT_MAX) -> list[str]:
    """Terms or excerpts as stored, cleaned again on the way out (rows stored before a cleaning
    rule existed are quoted by today's rule)."""
    return [t for t in (clean_excerpt(x, limit) for x in texts or ()) if t]


def _platforms(counts) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, n in (counts or {}).items():
        key = clean_excerpt(name, 40) or "unknown"
        out[key] = out.get(key, 0) + int(n)
    return out


def current(store: Store, now: dt.datetime, *, days: int = 1, include_all: bool = False) -> list[Emerging]:
    """Clusters seen in the last ``days`` windows, biggest first: reportable candidates only,
    unless ``include_all`` (everything tracked, below the line and reviewed too)."""
    since = now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) \
        - dt.timedelta(days=days - 1)
    with store.transaction() as conn:
        rows = conn.execute(
            sa.select(cluster_windows, narrative_clusters.c.status, narrative_clusters.c.terms,
                      narrative_clusters.c.excerpts, narrative_clusters.c.first_seen)
            .join(narrative_clusters, narrative_clusters.c.id == cluster_windows.c.cluster_id)
            .where(cluster_windows.c.start >= since - dt.timedelta(days=1), cluster_windows.c.start <= now)
            .order_by(cluster_windows.c.start)).mappings().all()
    by_cluster: dict[str, list] = {}
    for row in rows:
        by_cluster.setdefault(row["cluster_id"], []).append(row)
    out = []
    for cluster_id, windows in by_cluster.items():
        newest = windows[-1]
        if newest["start"] < since:
            continue
        before = windows[-2]["size"] if len(windows) > 1 and \
            windows[-2]["start"] == newest["start"] - dt.timedelta(days=1) else 0
        item = Emerging(cluster_id, newest["status"], _cleaned(newest["terms"], 40), _cleaned(newest["excerpts"]),
                        newest["size"], newest["size"] - before, newest["authors"],
                        dict(newest["localities"]), _platforms(newest["platforms"]), newest["first_seen"],
                        newest["start"], any(w["reportable"] for w in windows if w["start"] >= since))
        if include_all or (item.reportable and item.status == "candidate"):
            out.append(item)
    return sorted(out, key=lambda e: (-e.size, e.id))


def _cluster(conn: sa.Connection, cluster_id: str) -> dict:
    row = conn.execute(sa.select(narrative_clusters).where(narrative_clusters.c.id == cluster_id)).mappings().first()
    if row is None:
        raise TensionError(f"no emerging narrative {cluster_id!r} (see `tension narratives emerging --all`)")
    if row["status"] != "candidate":
        raise TensionError(f"{cluster_id} was already {row['status']} by {row['reviewed_by']}")
    return dict(row)


def promote(store: Store, cluster_id: str, *, status: str, by: str, title: str | None,
            claim: str | None, now: dt.datetime) -> str:
    """Add the story to the library as ``claim-<id>``; returns that narrative id."""
    if status not in STATUSES:
        raise TensionError(f"--status {status!r}: use one of {', '.join(STATUSES)}")
    with store.transaction() as conn:
        row = _cluster(conn, cluster_id)
        text = (claim or (row["excerpts"][0] if row["excerpts"] else " ".join(row["terms"]))).strip()
        if not text:
            raise TensionError(f"{cluster_id} has no excerpt left (retention); give the claim with --claim")
        conn.execute(sa.insert(claims).values(
            id=cluster_id, text=text, title=title or f"Emerging: {', '.join(row['terms'][:4])}",
            status=status, rating=None, url=None, publisher=None,
            imported_from=f"promoted from emerging narrative {cluster_id}", imported_at=now))
        narrative_id = f"claim-{cluster_id}"
        conn.execute(sa.update(narrative_clusters).where(narrative_clusters.c.id == cluster_id).values(
            status="promoted", reviewed_by=by, reviewed_at=now, narrative_id=narrative_id,
            review_note=f"status {status}"))
        audit.record(conn, at=now, actor=by, action="narrative.promote", object_type="narrative_cluster",
                     object_id=cluster_id, detail={"status": status, "narrative_id": narrative_id,
                                                   "title": title, "claim": text})
    return narrative_id


def dismiss(store: Store, cluster_id: str, *, by: str, reason: str, now: dt.datetime) -> None:
    if not reason.strip():
        raise TensionError("a dismissal needs a reason (--reason)")
    with store.transaction() as conn:
        _cluster(conn, cluster_id)
        conn.execute(sa.update(narrative_clusters).where(narrative_clusters.c.id == cluster_id).values(
            status="dismissed", reviewed_by=by, reviewed_at=now, review_note=reason))
        audit.record(conn, at=now, actor=by, action="narrative.dismiss", object_type="narrative_cluster",
                     object_id=cluster_id, detail={"reason": reason})

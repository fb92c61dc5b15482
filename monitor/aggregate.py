"""The aggregation stage: per-post scores in, counts per locality and hour/day window out.

Alerts, the dashboard and the briefing read these counts rather than posts, so they stay fast
at a million posts. Each run finds the UTC days holding posts scored since the last run and
recomputes every hour and day window in those days from scratch (delete and insert in one
transaction): a recount, never an increment, so re-running is harmless and a post re-resolved
to another place moves with it. Each run records its time in ``stage_state`` (in the same
transaction as the counts); the next run re-reads posts scored since then, minus ``rescan`` to
catch scoring transactions that committed late.

A row's ``computed_at`` is when its counts last changed: a recount that finds the same counts
keeps the old time. Alert catch-up reads it to find the hours that late posts changed
(``alerts.catch_up``), so a day recounted for one new post does not mark its other hours.

The whole area gets its own row per window (``locality_id`` = the area id) counting every post,
resolved to a locality or not. A post counts for a locality only at ``min_confidence``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection, and_, case, cast, distinct, exists, func, or_, select

from monitor.scoring import library_with_claims
from monitor.store import Store
from monitor.store.schema import (
    UTCDateTime,
    locality_windows,
    narrative_windows,
    post_localities,
    post_narratives,
    post_scores,
    posts,
)
from monitor.store.stage_state import save_watermark, watermark
from monitor.tension_index import write_levels
from sources.base import EARLIEST

log = logging.getLogger("tension.aggregate")

STAGE = "aggregate"

WINDOWS = ("hour", "day")
HEADS = ("hate", "offensive", "conspiracy", "mobilisation")
HARMFUL = ("false", "misleading")
DAY = dt.timedelta(days=1)
Range = tuple[dt.datetime, dt.datetime]
# Posts dated outside these are not counted: an older store may hold a post dated 0001-01-01 or
# 9999-12-31 (collection refuses them now), and the windows' and levels' date arithmetic must
# stay in range.
COUNTED_FROM = EARLIEST
COUNTED_UNTIL = dt.datetime(9000, 1, 1, tzinfo=dt.timezone.utc)


def bucket(column, window: str, dialect: str):
    """The UTC start of the hour or day holding ``column``, as a UTC datetime on both backends."""
    if dialect == "sqlite":
        fmt = "%Y-%m-%d %H:00:00.000000" if window == "hour" else "%Y-%m-%d 00:00:00.000000"
        expr = func.strftime(fmt, column)
    else:
        expr = func.timezone("UTC", func.date_trunc(window, func.timezone("UTC", column)))
    return sa.type_coerce(expr, UTCDateTime())


def _day(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def merge_days(days: Sequence[dt.datetime]) -> list[Range]:
    """Whole UTC days as [start, end) ranges, adjacent days joined."""
    ranges: list[list[dt.datetime]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day:
            ranges[-1][1] = day + DAY
        else:
            ranges.append([day, day + DAY])
    return [(a, b) for a, b in ranges]


def _within(column, ranges: Sequence[Range] | None):
    counted = and_(column >= COUNTED_FROM, column < COUNTED_UNTIL)
    if ranges is None:
        return counted
    return and_(counted, or_(*(and_(column >= a, column < b) for a, b in ranges)))


def harmful_narratives(store: Store, settings) -> list[str]:
    """Ids of matched narratives (library or imported claim) whose status is false or misleading."""
    with store.transaction() as conn:
        matched = set(conn.scalars(select(post_narratives.c.narrative_id).distinct()))
    if not matched:
        return []
    library = library_with_claims(settings.narratives, store)
    return sorted(n.id for n in library.narratives if n.status in HARMFUL and n.id in matched)


def _counts(harmful: list[str]):
    """Column expressions shared by the locality and area queries (per joined post)."""
    labels = cast(post_scores.c.labels, sa.Text)

    def flag(condition):
        return func.sum(case((condition, 1), else_=0))

    narrative = exists().where(
        post_narratives.c.post_id == posts.c.id, post_narratives.c.narrative_id.in_(harmful)
    ) if harmful else sa.false()
    return [
        func.count().label("posts"),
        flag(post_scores.c.status == "scored").label("scored"),
        flag(post_scores.c.status == "not_scored_language").label("unread"),
        *(flag(labels.like(f'%"{head}"%')).label(head) for head in HEADS),
        flag(narrative).label("narrative"),
        flag(posts.c.platform == "report").label("reports"),
        func.count(distinct(posts.c.author_pseudonym)).label("authors"),
        func.coalesce(func.sum(post_scores.c.negativity), 0.0).label("negativity_sum"),
        func.coalesce(func.sum(post_scores.c.tension), 0.0).label("tension_sum"),
        func.coalesce(func.max(post_scores.c.tension), 0.0).label("tension_max"),
    ]


def _scored_posts():
    return posts.outerjoin(post_scores, post_scores.c.post_id == posts.c.id)


def locality_rows(conn: Connection, settings, dialect: str, window: str,
                  ranges: Sequence[Range] | None, harmful: list[str]) -> list[dict]:
    """One row per (locality, window start), plus the area's row per window start."""
    agg = settings.main.aggregation
    start = bucket(posts.c.published_at, window, dialect)
    confident = post_localities.c.confidence >= agg.min_confidence
    per_locality = (
        select(post_localities.c.locality_id, start.label("start"), *_counts(harmful),
               func.sum(case((post_localities.c.site_id.is_not(None), 1), else_=0)).label("sites"))
        .select_from(post_localities.join(_scored_posts(), posts.c.id == post_localities.c.post_id))
        .where(confident, _within(posts.c.published_at, ranges))
        .group_by(post_localities.c.locality_id, start)
    )
    at_site = exists().where(
        post_localities.c.post_id == posts.c.id, post_localities.c.site_id.is_not(None), confident
    )
    area = (
        select(sa.literal(settings.localities.area.id).label("locality_id"), start.label("start"),
               *_counts(harmful), func.sum(case((at_site, 1), else_=0)).label("sites"))
        .select_from(_scored_posts())
        .where(_within(posts.c.published_at, ranges))
        .group_by(start)
    )
    rows = [dict(r) for r in conn.execute(per_locality).mappings()]
    rows += [dict(r) for r in conn.execute(area).mappings()]
    for row in rows:
        row["window"] = window
        for key in ("scored", "unread", *HEADS, "narrative", "reports", "sites"):
            row[key] = int(row[key] or 0)
    return rows


def narrative_rows(conn: Connection, settings, dialect: str, window: str,
                   ranges: Sequence[Range] | None) -> list[dict]:
    """Per narrative and window: posts, and how they split by locality and by platform."""
    start = bucket(posts.c.published_at, window, dialect)
    joined = post_narratives.join(posts, posts.c.id == post_narratives.c.post_id)
    where = _within(posts.c.published_at, ranges)
    by_platform = (
        select(post_narratives.c.narrative_id, start.label("start"), posts.c.platform, func.count())
        .select_from(joined).where(where)
        .group_by(post_narratives.c.narrative_id, start, posts.c.platform)
    )
    by_locality = (
        select(post_narratives.c.narrative_id, start.label("start"), post_localities.c.locality_id,
               func.count())
        .select_from(joined.join(post_localities, post_localities.c.post_id == posts.c.id))
        .where(where, post_localities.c.confidence >= settings.main.aggregation.min_confidence)
        .group_by(post_narratives.c.narrative_id, start, post_localities.c.locality_id)
    )
    out: dict[tuple, dict] = {}
    for narrative_id, when, platform, n in conn.execute(by_platform):
        row = out.setdefault((narrative_id, when), {
            "narrative_id": narrative_id, "window": window, "start": when,
            "posts": 0, "localities": {}, "platforms": {}})
        row["posts"] += n
        row["platforms"][platform] = n
    for narrative_id, when, locality_id, n in conn.execute(by_locality):
        out[(narrative_id, when)]["localities"][locality_id] = n
    return list(out.values())


def touched_days(conn: Connection, settings, dialect: str) -> list[dt.datetime] | None:
    """UTC days holding posts scored since the last run; None means recompute everything."""
    # A store aggregated before runs were recorded: its newest row is no later than its last run.
    last = watermark(conn, STAGE) or conn.scalar(select(func.max(locality_windows.c.computed_at)))
    if last is None:
        return None
    since = last - settings.main.aggregation.rescan
    day = bucket(posts.c.published_at, "day", dialect)
    # IN (subquery), not a join: SQLite otherwise walks every post by date.
    recent = select(post_scores.c.post_id).where(post_scores.c.scored_at >= since)
    query = select(day).distinct().where(posts.c.id.in_(recent), _within(posts.c.published_at, None))
    return list(conn.scalars(query))


def recompute(store: Store, settings, now: dt.datetime, days: Sequence[dt.datetime] | None) -> int:
    """Recount the given UTC days (all days if None) in one transaction; returns window rows."""
    ranges = None if days is None else merge_days([_day(d) for d in days])
    written = 0
    harmful = harmful_narratives(store, settings)
    with store.transaction() as conn:
        before = _counted(conn, ranges)
        for table in (locality_windows, narrative_windows):
            conn.execute(sa.delete(table).where(_within(table.c.start, ranges)))
        for window in WINDOWS:
            rows = locality_rows(conn, settings, store.dialect, window, ranges, harmful)
            for row in rows:
                row["computed_at"] = _changed_at(before, row, now)
            if rows:
                conn.execute(sa.insert(locality_windows), rows)
            written += len(rows)
            stories = narrative_rows(conn, settings, store.dialect, window, ranges)
            for row in stories:
                row["computed_at"] = now
            if stories:
                conn.execute(sa.insert(narrative_windows), stories)
        level_days = None if days is None else [d for a, b in ranges for d in _days_in(a, b)]
        write_levels(conn, settings, level_days, now)
        save_watermark(conn, STAGE, now)
    return written


_KEY = ("locality_id", "window", "start")
_COUNTS = tuple(c.name for c in locality_windows.columns if c.name not in (*_KEY, "computed_at"))


def _counted(conn: Connection, ranges: Sequence[Range] | None) -> dict[tuple, tuple]:
    """The counts and time of the locality window rows about to be recounted, by key (tuples,
    not rows: a full recount holds every window of the store here)."""
    rows = conn.execute(select(locality_windows).where(_within(locality_windows.c.start, ranges)))
    return {tuple(row[k] for k in _KEY): (tuple(row[c] for c in _COUNTS), row["computed_at"])
            for row in rows.mappings()}


def _changed_at(before: dict[tuple, tuple], row: dict, now: dt.datetime) -> dt.datetime:
    """``now`` for a new row or one whose counts changed; the old time for one recounted the same."""
    old = before.get(tuple(row[k] for k in _KEY))
    if old is None or not all(_same(a, row[c]) for a, c in zip(old[0], _COUNTS)):
        return now
    return old[1]


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _days_in(a: dt.datetime, b: dt.datetime) -> list[dt.datetime]:
    return [a + i * DAY for i in range((b - a) // DAY)]


def aggregate(service, now: dt.datetime, *, full: bool = False) -> int:
    """The pipeline stage: bring window counts and tension levels up to date; returns rows written."""
    store, settings = service.store, service.settings
    if full:
        days = None
    else:
        with store.transaction() as conn:
            days = touched_days(conn, settings, store.dialect)
        if days == []:
            return 0
    written = recompute(store, settings, now, days)
    log.info("aggregated", extra={"fields": {
        "days": "all" if days is None else len(days), "window_rows": written}})
    return written

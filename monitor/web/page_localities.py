"""One locality (or the whole area): its series against the baseline, what was counted, the
narratives and emerging stories seen there, its alerts and, for officers, recent flagged posts.

Everything but the flagged posts comes from aggregates. The flagged posts are the one place
the dashboard reads posts: at most ``FLAGGED_LIMIT`` of one locality's last week, by index,
with mentions, links and e-mail addresses removed (as the briefing quotes posts) and never an
author; each view is audited (``posts.view``) in the same transaction that reads them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from monitor import audit
from monitor.aggregate import HEADS
from monitor.baselines import same_hour_of_week
from monitor.privacy import clean_excerpt
from monitor.emerging import review
from monitor.post_text import capped_text
from monitor.scoring import library_with_claims
from monitor.store import Store
from monitor.store.schema import (locality_windows, narrative_windows, post_localities, post_scores, posts,
                                  tension_levels)
from monitor.web import svg
from monitor.web.auth import User, require
from monitor.web.page_overview import AlertOut, LocalityLevel, alert_rows, locality_levels
from monitor.web.pages import render

router = APIRouter(include_in_schema=False)
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
SERIES_DAYS, SERIES_HOURS, RECENT_DAYS = 28, 48, 7
FLAGGED_LIMIT = 20
TEXT_CHARS = 600
COUNTED = ("posts", "scored", "unread", "hate", "offensive", "conspiracy", "narrative", "mobilisation",
           "sites", "reports", "authors")


class Place(BaseModel):
    id: str
    name: str
    kind: str = Field(description="city, town, village, district, or area for the whole area")
    population: int | None = None


class DayPoint(BaseModel):
    day: dt.date
    posts: int
    expected: float | None = Field(description="usual posts for this weekday (the index's volume baseline)")
    index: float | None = Field(description="tension index 0-100; None when the day has no level yet")
    level: int | None


class HourPoint(BaseModel):
    start: dt.datetime
    posts: int
    expected: float | None = Field(description="mean of the same hour in the previous weeks")
    tension: float | None = Field(description="mean post tension 0-1 of the scored posts")


class DayCounts(BaseModel):
    """Posts counted for the place on one UTC day; each head counts posts over its threshold."""

    day: dt.date
    posts: int = 0
    scored: int = 0
    unread: int = 0
    hate: int = 0
    offensive: int = 0
    conspiracy: int = 0
    narrative: int = 0
    mobilisation: int = 0
    sites: int = 0
    reports: int = 0
    authors: int = Field(default=0, description="distinct pseudonymous authors: a count, never a list")


class NarrativeSeen(BaseModel):
    id: str
    title: str
    status: str
    posts: int = Field(description="posts matching it here over the recent days")
    last_seen: dt.date


class EmergingSeen(BaseModel):
    id: str
    status: str
    terms: list[str]
    excerpt: str | None = Field(description="a short excerpt, mentions and links removed")
    posts: int = Field(description="posts in its newest day window, across the area")
    here: int = Field(description="of those, resolved to this place")
    growth: int
    first_seen: dt.datetime


class FlaggedPost(BaseModel):
    id: int
    published_at: dt.datetime
    platform: str
    text: str | None = Field(description="mentions, links and e-mail addresses removed; None once "
                                         "retention purged it")
    labels: list[str]
    scores: dict[str, float | None]


class LocalityDetail(BaseModel):
    place: Place
    level: LocalityLevel
    daily: list[DayPoint]
    hourly: list[HourPoint]
    counts: list[DayCounts] = Field(description="the recent UTC days, newest first")
    narratives: list[NarrativeSeen]
    emerging: list[EmergingSeen]
    alerts: list[AlertOut] = Field(description="firing alerts for the place")


def find_place(settings, locality_id: str) -> Place | None:
    area = settings.localities.area
    if locality_id == area.id:
        return Place(id=area.id, name=area.name, kind="area")
    for loc in settings.localities.localities:
        if loc.id == locality_id:
            return Place(id=loc.id, name=loc.name, kind=loc.kind, population=loc.population)
    return None


def _midnight(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _windows(conn, locality_id: str, window: str, first: dt.datetime, last: dt.datetime,
             columns=None) -> dict:
    query = sa.select(*(columns or locality_windows.c)).where(
        locality_windows.c.locality_id == locality_id, locality_windows.c.window == window,
        locality_windows.c.start >= first, locality_windows.c.start <= last)
    return {row["start"]: row for row in conn.execute(query).mappings()}


def daily_series(conn, locality_id: str, today: dt.datetime) -> tuple[list[DayPoint], list[DayCounts]]:
    first = today - (SERIES_DAYS - 1) * DAY
    rows = _windows(conn, locality_id, "day", first, today)
    levels = {r["day"]: r for r in conn.execute(sa.select(tension_levels).where(
        tension_levels.c.locality_id == locality_id, tension_levels.c.day >= first,
        tension_levels.c.day <= today)).mappings()}
    points = []
    for i in range(SERIES_DAYS):
        day = first + i * DAY
        level = levels.get(day)
        volume = (level["drivers"] or {}).get("volume", {}) if level else {}
        expected = volume.get("expected") if volume.get("guard") != "no_history" else None
        points.append(DayPoint(day=day.date(), posts=rows[day]["posts"] if day in rows else 0,
                               expected=expected, index=level["index"] if level else None,
                               level=level["level"] if level else None))
    counts = []
    for day in (today - i * DAY for i in range(RECENT_DAYS)):
        row = rows.get(day)
        counts.append(DayCounts(day=day.date(), **({k: row[k] for k in COUNTED} if row else {})))
    return points, counts


def hourly_series(conn, settings, locality_id: str, now: dt.datetime) -> list[HourPoint]:
    weeks = settings.main.aggregation.baseline_weeks
    last = now.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)
    first = last - (SERIES_HOURS - 1) * HOUR
    rows = _windows(conn, locality_id, "hour", first - weeks * dt.timedelta(weeks=1), last,
                    [locality_windows.c[k] for k in ("start", "posts", "scored", "tension_sum")])
    observed_from = conn.scalar(sa.select(sa.func.min(locality_windows.c.start))
                                .where(locality_windows.c.window == "day"))
    history = {start: row["posts"] for start, row in rows.items()}
    points = []
    for i in range(SERIES_HOURS):
        start = first + i * HOUR
        row = rows.get(start)
        same = same_hour_of_week(history, start, weeks, observed_from=observed_from) if observed_from else []
        points.append(HourPoint(
            start=start, posts=row["posts"] if row else 0,
            expected=round(sum(same) / len(same), 2) if same else None,
            tension=round(row["tension_sum"] / row["scored"], 3) if row and row["scored"] else None))
    return points


def narratives_seen(conn, store: Store, settings, place: Place, today: dt.datetime) -> list[NarrativeSeen]:
    query = sa.select(narrative_windows).where(
        narrative_windows.c.window == "day", narrative_windows.c.start >= today - (RECENT_DAYS - 1) * DAY)
    seen: dict[str, tuple[int, dt.datetime]] = {}
    for row in conn.execute(query).mappings():
        here = row["posts"] if place.kind == "area" else int((row["localities"] or {}).get(place.id, 0))
        if here:
            total, last = seen.get(row["narrative_id"], (0, row["start"]))
            seen[row["narrative_id"]] = (total + here, max(last, row["start"]))
    if not seen:
        return []
    library = {n.id: n for n in library_with_claims(settings.narratives, store).narratives}
    out = [NarrativeSeen(id=nid, title=clean_excerpt(library[nid].title, 120) if nid in library else nid,
                         status=library[nid].status if nid in library else "unknown",
                         posts=total, last_seen=last.date()) for nid, (total, last) in seen.items()]
    return sorted(out, key=lambda n: (-n.posts, n.id))


def emerging_seen(store: Store, place: Place, now: dt.datetime) -> list[EmergingSeen]:
    out = []
    for story in review.current(store, now, days=RECENT_DAYS, include_all=True):
        here = story.size if place.kind == "area" else story.localities.get(place.id, 0)
        if story.reportable and here:
            out.append(EmergingSeen(id=story.id, status=story.status, terms=story.terms[:8],
                                    excerpt=story.excerpts[0] if story.excerpts else None,
                                    posts=story.size, here=here, growth=story.growth,
                                    first_seen=story.first_seen))
    return out


def locality_detail(store: Store, settings, place: Place, now: dt.datetime) -> LocalityDetail:
    today = _midnight(now)
    with store.transaction() as conn:
        firing = alert_rows(conn, settings, now)
        daily, counts = daily_series(conn, place.id, today)
        hourly = hourly_series(conn, settings, place.id, now)
        narratives = narratives_seen(conn, store, settings, place, today)
    level = next(r for r in locality_levels(store, settings, now, firing=firing) if r.id == place.id)
    area_id = settings.localities.area.id
    return LocalityDetail(
        place=place, level=level, daily=daily, hourly=hourly, counts=counts, narratives=narratives,
        emerging=emerging_seen(store, place, now),
        alerts=[a for a in firing if (a.locality_id or area_id) == place.id])


def flagged_posts(store: Store, settings, place: Place, user: User, now: dt.datetime) -> list[FlaggedPost]:
    """The last flagged posts of the past week resolved to the place, with the view audited in
    the same transaction. Never the author, the handle or the link."""
    since = now - RECENT_DAYS * DAY
    labels = sa.cast(post_scores.c.labels, sa.Text)  # flagged as the aggregates count it
    query = (sa.select(posts.c.id, posts.c.published_at, posts.c.platform, capped_text(), capped_text(posts.c.title),
                       post_scores.c.labels, *(post_scores.c[h] for h in HEADS), post_scores.c.tension)
             .join(post_scores, post_scores.c.post_id == posts.c.id)
             .where(posts.c.published_at >= since, posts.c.published_at <= now,
                    sa.or_(*(labels.like(f'%"{head}"%') for head in HEADS)))
             .order_by(posts.c.published_at.desc(), posts.c.id.desc()).limit(FLAGGED_LIMIT))
    if place.kind != "area":
        # EXISTS rather than a join: the posts are walked newest first by time within the week
        # and stop at the limit, instead of collecting the place's whole history to sort it.
        query = query.where(sa.exists().where(
            post_localities.c.post_id == posts.c.id, post_localities.c.locality_id == place.id,
            post_localities.c.confidence >= settings.main.aggregation.min_confidence))
    with store.transaction() as conn:
        rows = conn.execute(query).mappings().all()
        audit.record(conn, at=now, actor=user.username, action="posts.view", object_type="locality",
                     object_id=place.id, detail={"locality": place.id, "posts": len(rows),
                                                 "window": f"{since.isoformat()}/{now.isoformat()}"})
    out = []
    for row in rows:
        out.append(FlaggedPost(
            id=row["id"], published_at=row["published_at"], platform=clean_excerpt(row["platform"], 40),
            text=clean_excerpt(row["text"] or row["title"], TEXT_CHARS) or None,
            labels=list(row["labels"] or []),
            scores={k: row[k] for k in (*HEADS, "tension")}))
    return out


def charts(detail: LocalityDetail) -> dict:
    daily = [svg.SeriesPoint(p.day.strftime("%a %d"), p.posts, p.expected, p.index) for p in detail.daily]
    hourly = [svg.SeriesPoint(p.start.strftime("%H:00"), p.posts, p.expected, p.tension) for p in detail.hourly]
    return {
        "daily": svg.series_chart(daily, title=f"{detail.place.name}: posts per UTC day against the "
                                  "baseline, and the tension index", tension_label="tension index",
                                  tension_max=100),
        "hourly": svg.series_chart(hourly, title=f"{detail.place.name}: posts per hour (UTC) against the "
                                   "same hour in earlier weeks, and mean post tension",
                                   tension_label="mean post tension", tension_max=1),
    }


@router.get("/localities/{locality_id}", response_class=HTMLResponse)
def locality_page(locality_id: str, request: Request, user: User = Depends(require("viewer"))):
    state = request.app.state
    place = find_place(state.settings, locality_id)
    if place is None:
        return render(request, "error.html", status_code=404, heading="No such place",
                      message=f"No locality has the id {locality_id!r}.")
    now = state.clock()
    detail = locality_detail(state.store, state.settings, place, now)
    flagged = flagged_posts(state.store, state.settings, place, user, now) if user.can("officer") else None
    return render(request, "locality.html", title=place.name, d=detail, charts=charts(detail),
                  flagged=flagged, heads=HEADS, recent_days=RECENT_DAYS,
                  feedback=user.can("analyst"), flagged_limit=FLAGGED_LIMIT)

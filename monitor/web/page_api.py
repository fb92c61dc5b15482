"""The dashboard's JSON API under /api/v1: the same figures as the pages, for other tools.

Authenticated like the pages: a session cookie, or ``Authorization: Bearer <token>`` from
`tension users token`, acting with that account's role. A token request needs no CSRF token
(it carries no cookie). Lists never name authors; raw post text comes only from the
officer-only posts endpoint and is audited exactly as the locality page audits it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import APIKeyCookie, HTTPBearer
from pydantic import BaseModel, Field

from monitor.emerging import review
from monitor.privacy import clean_excerpt
from monitor.scoring import library_with_claims
from monitor.store.schema import narrative_windows
from monitor.web.auth import SESSION_COOKIE, User, require
from monitor.web.page_audit import AuditPage, audit_page
from monitor.web.page_localities import FlaggedPost, LocalityDetail, Place, find_place, flagged_posts, locality_detail
from monitor.web.page_overview import AlertOut, LocalityLevel, alert_rows, locality_levels
from monitor.web.page_sources import SourceOut, source_rows
from sources.base import EARLIEST

# Declared for the OpenAPI document (and its "Authorize" button); ``require`` does the checking.
_token = HTTPBearer(auto_error=False, scheme_name="apiToken",
                    description="A token from `tension users token NAME --name PURPOSE`")
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session",
                        description="The dashboard's login session (POSTs also need X-CSRF-Token)")
router = APIRouter(prefix="/api/v1", tags=["dashboard"],
                   dependencies=[Depends(_token), Depends(_session)])
DAY = dt.timedelta(days=1)
# The days a level may be asked for: outside them there is no data, and a day's arithmetic
# (9999-12-31 plus one) would overflow.
FIRST_DAY, LAST_DAY = EARLIEST.date(), dt.date(2999, 12, 31)


class LocalityOut(Place):
    latitude: float | None = None
    longitude: float | None = None
    level: LocalityLevel


class NarrativeOut(BaseModel):
    """A library narrative (or imported fact-check) matched in the period."""

    id: str
    title: str
    status: str
    posts: int
    previous: int = Field(description="posts in the period of the same length before")
    localities: dict[str, int]
    platforms: dict[str, int]
    first_seen: dt.date = Field(description="first UTC day in the period with a match")
    last_seen: dt.date


class EmergingOut(BaseModel):
    """A story not in the library, above the reporting line: counts only, never accounts."""

    id: str
    terms: list[str]
    excerpt: str | None
    posts: int
    growth: int
    authors: int = Field(description="distinct pseudonymous authors: a count")
    localities: dict[str, int]
    platforms: dict[str, int]
    first_seen: dt.datetime


class NarrativesSummary(BaseModel):
    days: int
    tracked: list[NarrativeOut]
    emerging: list[EmergingOut]


def _place(request: Request, locality_id: str) -> Place:
    place = find_place(request.app.state.settings, locality_id)
    if place is None:
        raise HTTPException(404, detail={"code": "not_found", "message": f"no locality {locality_id!r}"})
    return place


@router.get("/levels", response_model=list[LocalityLevel])
def levels(request: Request, day: dt.date | None = Query(None, ge=FIRST_DAY, le=LAST_DAY,
                                                          description="UTC day, default today"),
           user: User = Depends(require("viewer"))):
    """Each locality's computed level beside the analyst's, the area first."""
    state = request.app.state
    return locality_levels(state.store, state.settings, state.clock(), day=day)


@router.get("/localities", response_model=list[LocalityOut])
def localities(request: Request, user: User = Depends(require("viewer"))):
    """Every locality with its coordinates and today's level."""
    state = request.app.state
    by_id = {row.id: row for row in locality_levels(state.store, state.settings, state.clock())}
    coordinates = {loc.id: loc for loc in state.settings.localities.localities}
    out = []
    for row in by_id.values():
        place = find_place(state.settings, row.id)
        if place is None:  # levels stored for a locality since removed from the config
            continue
        loc = coordinates.get(row.id)
        out.append(LocalityOut(**place.model_dump(), latitude=loc.latitude if loc else None,
                               longitude=loc.longitude if loc else None, level=row))
    return out


@router.get("/localities/{locality_id}", response_model=LocalityDetail)
def locality(locality_id: str, request: Request, user: User = Depends(require("viewer"))):
    """The locality page's figures: series against the baseline, counts, narratives, alerts."""
    state = request.app.state
    return locality_detail(state.store, state.settings, _place(request, locality_id), state.clock())


@router.get("/localities/{locality_id}/posts", response_model=list[FlaggedPost])
def locality_posts(locality_id: str, request: Request, user: User = Depends(require("officer"))):
    """The last flagged posts of the past week resolved to the place (officers and above;
    mentions and links removed, never an author). Each call is recorded as ``posts.view``."""
    state = request.app.state
    return flagged_posts(state.store, state.settings, _place(request, locality_id), user, state.clock())


@router.get("/alerts", response_model=list[AlertOut])
def alert_list(request: Request, state: Literal["firing", "pending", "resolved", "all"] = "firing",
               locality: str | None = Query(None, description="only alerts for this locality or area id"),
               limit: int = Query(500, ge=1, le=5000), user: User = Depends(require("viewer"))):
    """Alerts as `tension alerts list` shows them; firing ones by severity, newest first."""
    app = request.app.state
    with app.store.transaction() as conn:
        return alert_rows(conn, app.settings, app.clock(), state=state, locality_id=locality, limit=limit)


@router.get("/sources", response_model=list[SourceOut])
def sources(request: Request, user: User = Depends(require("viewer"))):
    """Every configured source with its health, as `tension sources list` shows it."""
    state = request.app.state
    return source_rows(state.settings, state.store, state.clock())


@router.get("/narratives", response_model=NarrativesSummary)
def narratives(request: Request, days: int = Query(7, ge=1, le=28),
               user: User = Depends(require("viewer"))):
    """Tracked narratives matched in the last ``days`` UTC days (against the days before) and
    the emerging stories above the reporting line."""
    state = request.app.state
    now = state.clock()
    today = now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - (days - 1) * DAY
    with state.store.transaction() as conn:
        rows = conn.execute(sa.select(narrative_windows).where(
            narrative_windows.c.window == "day", narrative_windows.c.start >= first - days * DAY,
            narrative_windows.c.start <= today)).mappings().all()
    library = {n.id: n for n in library_with_claims(state.settings.narratives, state.store).narratives}
    tracked: dict[str, dict] = {}
    for row in rows:
        item = tracked.setdefault(row["narrative_id"], {"posts": 0, "previous": 0, "localities": {},
                                                        "platforms": {}, "days": []})
        if row["start"] < first:
            item["previous"] += row["posts"]
            continue
        item["posts"] += row["posts"]
        item["days"].append(row["start"].date())
        for key in ("localities", "platforms"):
            for name, count in (row[key] or {}).items():
                name = clean_excerpt(name, 40) if key == "platforms" else name  # a feed names platforms
                item[key][name] = item[key].get(name, 0) + int(count)
    out = [NarrativeOut(id=nid, title=clean_excerpt(library[nid].title, 120) if nid in library else nid,
                        status=library[nid].status if nid in library else "unknown",
                        posts=item["posts"], previous=item["previous"], localities=item["localities"],
                        platforms=item["platforms"], first_seen=min(item["days"]), last_seen=max(item["days"]))
           for nid, item in tracked.items() if item["posts"]]
    emerging = [EmergingOut(id=e.id, terms=e.terms, excerpt=e.excerpts[0] if e.excerpts else None,
                            posts=e.size, growth=e.growth, authors=e.authors, localities=e.localities,
                            platforms=e.platforms, first_seen=e.first_seen)
                for e in review.current(state.store, now, days=days)]
    return NarrativesSummary(days=days, tracked=sorted(out, key=lambda n: (-n.posts, n.id)), emerging=emerging)


@router.get("/audit", response_model=AuditPage)
def audit(request: Request, page: int = Query(1, ge=1, le=100_000), action: str | None = None,
          user: User = Depends(require("admin"))):
    """The audit log, newest first, 50 a page (admins)."""
    return audit_page(request.app.state.store, page=page, action=action)

"""Narratives: the library and how far each story went this week, new stories, coordinated bursts.

Volumes come from the aggregates (``narrative_windows``), emerging stories from the clusters the
emerging-narratives stage keeps, and bursts from ``amplification_bursts``, read through the same
functions the weekly briefing uses, so the page and the briefing agree. Wording is only shown as
the short cleaned excerpts those tables hold: never a handle, a pseudonym or a link to a post.
Analysts promote or dismiss an emerging story here (``monitor.emerging.review``, audited).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from monitor.briefing.online import amplification, narratives
from monitor.privacy import clean_excerpt
from monitor.briefing.period import Period
from monitor.emerging.review import STATUSES, current, dismiss, promote
from monitor.errors import TensionError
from monitor.scoring import _slug
from monitor.store.schema import claims
from monitor.web.auth import User, require
from monitor.web.pages import render

router = APIRouter(include_in_schema=False)
DAY = dt.timedelta(days=1)
RECENT_CLAIMS = 20  # imported claims listed even when unseen this week (the rest are counted)
NOTICES = {"promoted": "Added to the library: new posts are matched to it from the next scoring run.",
           "dismissed": "Dismissed: it is still tracked, so it will not come back as new."}


def this_week(now: dt.datetime) -> Period:
    """The last seven UTC days, today included (the aggregates are per UTC day)."""
    today = now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(today - 6 * DAY, today + DAY)


def library(conn, settings, period: Period, names: dict) -> tuple[list[dict], int]:
    """Every library narrative, and the imported claims seen this week or imported lately, with
    this week's figures (zero when unseen); and how many other imported claims are left out."""
    seen = {n["id"]: n for n in narratives(conn, settings, period, names)}
    entries = [{"id": n.id, "title": n.title, "status": n.status, "claim": clean_excerpt(n.claims[0]),
                "origin": "library"} for n in settings.narratives.narratives]
    left_out = 0
    for i, row in enumerate(conn.execute(sa.select(claims).order_by(claims.c.imported_at.desc())).mappings()):
        narrative_id = f"claim-{_slug(row['id'])}"
        if i >= RECENT_CLAIMS and narrative_id not in seen:
            left_out += 1
            continue
        entries.append({"id": narrative_id, "title": clean_excerpt(row["title"] or row["text"], 120),
                        "status": row["status"], "claim": clean_excerpt(row["text"]),
                        "origin": clean_excerpt(row["publisher"] or row["imported_from"], 80)})
    out = []
    for entry in entries:
        week = seen.get(entry["id"], {})
        out.append(entry | {"posts": week.get("posts", 0), "previous_posts": week.get("previous_posts", 0),
                            "trend": week.get("trend", "→"), "localities": week.get("localities", []),
                            "localities_reached": week.get("localities_reached", 0),
                            "platforms": week.get("platforms", []), "first_seen": week.get("first_seen"),
                            "daily": week.get("daily", [0] * len(period.days))})
    return sorted(out, key=lambda n: (-n["posts"], n["title"])), left_out


def _page(request: Request, *, error: str | None = None, status_code: int = 200):
    state = request.app.state
    settings, now = state.settings, state.clock()
    period = this_week(now)
    names = {settings.localities.area.id: settings.localities.area.name}
    names |= {p.id: p.name for p in settings.localities.localities}
    with state.store.transaction() as conn:
        entries, left_out = library(conn, settings, period, names)
        bursts = amplification(conn, period, names)
    emerging = [{**e.as_json(), "first_seen": e.first_seen, "window": e.window,
                 "places": [f"{names.get(k, k)} ({n})" for k, n in sorted(e.localities.items(), key=lambda i: -i[1])],
                 "platforms": [f"{p} ({n})" for p, n in sorted(e.platforms.items(), key=lambda i: -i[1])]}
                for e in current(state.store, now, days=7)]
    for burst in bursts:
        burst["started_at"], burst["ended_at"] = (_instant(burst["started_at"]), _instant(burst["ended_at"]))
    for entry in entries:
        entry["first_seen"] = _instant(entry["first_seen"])
    return render(request, "narratives.html", status_code=status_code, title="Narratives", library=entries, left_out=left_out,
                  emerging=emerging, bursts=bursts, period=period, statuses=STATUSES, error=error,
                  days=[d.strftime("%a") for d in period.days],
                  notice=NOTICES.get(request.query_params.get("done", "")))


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


@router.get("/narratives")
def narratives_page(request: Request, user: User = Depends(require("viewer"))):
    return _page(request)


@router.post("/narratives/emerging/{cluster_id}/promote")
def promote_story(request: Request, cluster_id: str, status: str = Form(...), title: str = Form(""),
                  claim: str = Form(""), user: User = Depends(require("analyst"))):
    try:
        promote(request.app.state.store, cluster_id, status=status, by=user.username, title=title.strip() or None,
                claim=claim.strip() or None, now=request.app.state.clock())
    except TensionError as exc:
        return _page(request, error=str(exc), status_code=409)
    return RedirectResponse("/narratives?done=promoted", status_code=303)


@router.post("/narratives/emerging/{cluster_id}/dismiss")
def dismiss_story(request: Request, cluster_id: str, reason: str = Form(""),
                  user: User = Depends(require("analyst"))):
    try:
        dismiss(request.app.state.store, cluster_id, by=user.username, reason=reason,
                now=request.app.state.clock())
    except TensionError as exc:
        return _page(request, error=str(exc), status_code=409)
    return RedirectResponse("/narratives?done=dismissed", status_code=303)

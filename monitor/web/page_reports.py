"""Community reports: officers file what residents and partners tell them, and triage the recent ones.

A report filed here goes through ``monitor.reports.file_report`` (channel ``web``), exactly like
one from the partner API, so it is scored, placed and counted from the next pipeline run. The
triage list shows reports' own text (links, @accounts and e-mail addresses removed), which is raw
post text: every view is written to the audit log (``posts.view``) in the same transaction that
reads it. The reporter's contact is sealed in
``report_contacts`` and is never read here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from monitor import audit
from monitor.post_text import capped_text
from monitor.privacy import clean_excerpt
from monitor.reports import MAX_TEXT, PLATFORM, ReportIn, ReportRejected, file_report
from monitor.store.schema import post_feedback, post_localities, post_scores, posts
from monitor.web.auth import User, require
from monitor.web.pages import render
from monitor.web.page_feedback import HEADS

router = APIRouter(include_in_schema=False)
TRIAGE_WINDOW = dt.timedelta(days=7)
TRIAGE_LIMIT = 50
CHANNELS = ("web", "api")  # file_report's channels: their posts come from source "reports-<channel>"
CATEGORIES = {"hate_incident": "Hate incident", "rumour": "Rumour", "tension": "Tension", "asb": "Anti-social behaviour"}
SCORES = ("hate", "offensive", "conspiracy", "mobilisation", "tension")


def report_sources(settings) -> list[str]:
    """The sources whose posts can be reports: the intake channels, sources configured with
    platform ``report`` (the reports mailbox) and replays (a line may say ``platform: report``).
    Reading by source uses the (source, external id) index instead of scanning a week of posts."""
    return [f"reports-{c}" for c in CHANNELS] + [
        s.id for s in settings.sources.sources if s.platform == PLATFORM or s.kind == "replay"]


def triage(request: Request, user: User, locality: str | None) -> tuple[list[dict], dt.datetime]:
    """The most recent reports of the last week (one place's, if asked), audited as a view of
    post text. Reports carry no author, and none is read."""
    state = request.app.state
    now = state.clock()
    since = now - TRIAGE_WINDOW
    query = (sa.select(posts.c.id, capped_text(), capped_text(posts.c.title), posts.c.published_at, posts.c.meta,
                       post_scores.c.status, post_scores.c.labels, *(post_scores.c[s] for s in SCORES))
             .select_from(posts.outerjoin(post_scores, post_scores.c.post_id == posts.c.id))
             .where(posts.c.source_id.in_(report_sources(state.settings)), posts.c.platform == PLATFORM,
                    posts.c.published_at >= since, posts.c.published_at <= now)
             .order_by(posts.c.published_at.desc(), posts.c.id.desc()).limit(TRIAGE_LIMIT))
    if locality:
        query = query.where(posts.c.id.in_(sa.select(post_localities.c.post_id)
                                           .where(post_localities.c.locality_id == locality)))
    with state.store.transaction() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        ids = [r["id"] for r in rows]
        places, verdicts = defaultdict(list), defaultdict(list)
        if ids:
            for post_id, place in conn.execute(sa.select(post_localities.c.post_id, post_localities.c.locality_id)
                                               .where(post_localities.c.post_id.in_(ids))):
                places[post_id].append(place)
            for post_id, head, label, by in conn.execute(
                    sa.select(post_feedback.c.post_id, post_feedback.c.head, post_feedback.c.label,
                              post_feedback.c.created_by).where(post_feedback.c.post_id.in_(ids))):
                verdicts[post_id].append(f"{head} {'yes' if label else 'no'} ({by})")
        audit.record(conn, at=now, actor=user.username, action="posts.view", object_type="reports",
                     object_id=None, detail={"locality": locality or "all", "platform": PLATFORM,
                                             "window": f"{since.isoformat()}/{now.isoformat()}",
                                             "posts": len(rows)})
    names = {loc.id: loc.name for loc in state.settings.localities.localities}
    for row in rows:
        meta = row["meta"] or {}
        row["text"] = clean_excerpt(row["text"], MAX_TEXT) if row["text"] is not None else None
        row["title"] = clean_excerpt(row["title"], 120) or None  # a mailed report's subject line
        row["category"] = CATEGORIES.get(meta.get("category")) or clean_excerpt(meta.get("category"), 40) or "-"
        row["channel"] = meta.get("channel")
        row["places"] = [names.get(p, p) for p in sorted(places[row["id"]])]
        row["verdicts"] = verdicts[row["id"]]
    return rows, since


def _page(request: Request, user: User, *, locality: str = "", form: dict | None = None,
          errors: dict | None = None, status_code: int = 200):
    settings = request.app.state.settings
    locality = locality if locality in {loc.id for loc in settings.localities.localities} else ""
    reports, since = triage(request, user, locality or None)
    return render(request, "reports.html", status_code=status_code, title="Community reports",
                  reports=reports, since=since, locality=locality, categories=CATEGORIES, heads=HEADS,
                  scores=SCORES, localities=settings.localities.localities, form=form or {},
                  errors=errors or {}, filed=request.query_params.get("filed"))


@router.get("/reports")
def reports_page(request: Request, locality: str = "", user: User = Depends(require("officer"))):
    return _page(request, user, locality=locality)


@router.post("/reports")
def file(request: Request, text: str = Form(""), place: str = Form(""), category: str = Form(""),
         occurred_on: str = Form(""), contact: str = Form(""), user: User = Depends(require("officer"))):
    state = request.app.state
    form = {"text": text, "place": place, "category": category, "occurred_on": occurred_on}
    try:
        report = ReportIn(text=text, place=place, category=category, occurred_at=occurred_on.strip() or None,
                          contact=contact or None)
        report_id = file_report(state.store, state.settings, report, channel="web", now=state.clock(),
                                vault=state.vault)
    except ValidationError as exc:
        errors = {str(e["loc"][0]) if e["loc"] else "form": e["msg"].removeprefix("Value error, ")
                  for e in exc.errors()}
        return _page(request, user, form=form, errors=_renamed(errors), status_code=422)
    except ReportRejected as exc:
        return _page(request, user, form=form, errors=_renamed({exc.field: exc.message}), status_code=422)
    return RedirectResponse(f"/reports?filed={report_id}", status_code=303)


def _renamed(errors: dict) -> dict:
    """Model field names to the form's (the date field is a date, not a date-time)."""
    return {("occurred_on" if k == "occurred_at" else k): v for k, v in errors.items()}

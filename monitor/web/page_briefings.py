"""Briefings: the archive, one briefing as written, and the analyst's judgement and approval.

A briefing's HTML is shown in a sandboxed frame served with a ``sandbox`` Content-Security-Policy,
so nothing in it can run script or reach the dashboard's session. Approval goes through
``monitor.briefing.archive.approve`` (as ``tension briefing approve``); editing the key judgement of
a draft without approving it renders the draft again from its archived figures and is audited
the same way (``briefing.judgement_edit``).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor.audit import record as record_audit
from monitor.briefing.archive import MAX_JUDGEMENT, UnknownBriefing, approve, list_briefings, load
from monitor.briefing.period import last_complete_week
from monitor.errors import StorageError, TensionError
from monitor.store.schema import briefings
from monitor.web.auth import User, require
from monitor.web.pages import RowId, render

router = APIRouter(include_in_schema=False)
DOWNLOADS = {"pdf": "application/pdf", "md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
SANDBOX = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
           "frame-ancestors 'self'")
NOTICES = {"saved": "Key judgement saved; the draft was rendered again.", "approved": "Briefing approved.",
           "generated": "Draft generated for the last complete week."}


def edit_judgement(store, briefing_id: int, judgement: str, *, by: str, now) -> bool:
    """Replace a draft's key judgement and render the draft again; False when unchanged."""
    from monitor.briefing.render import render as render_briefing

    judgement = (judgement or "").strip()
    if not judgement:
        raise TensionError("the key judgement is empty")
    if len(judgement) > MAX_JUDGEMENT:
        raise TensionError(f"the key judgement is {len(judgement)} characters; keep it under {MAX_JUDGEMENT}")
    row = load(store, briefing_id)
    if row["status"] != "draft":
        raise TensionError(f"briefing {briefing_id} is approved and can no longer change (generate a new version)")
    if judgement == row["key_judgement"]:
        return False
    rendered = render_briefing(row["data"], judgement=judgement, status="draft", version=row["version"])
    with store.transaction() as conn:
        changed = conn.execute(sa.update(briefings).where(
            briefings.c.id == briefing_id, briefings.c.status == "draft",
            briefings.c.key_judgement == row["key_judgement"]).values(
            key_judgement=judgement, judgement_edited_by=by, judgement_edited_at=now, html=rendered.html,
            markdown=rendered.markdown, pdf=rendered.pdf)).rowcount
        if changed != 1:
            raise StorageError(f"briefing {briefing_id} changed while it was being edited; reload and try again")
        record_audit(conn, at=now, actor=by, action="briefing.judgement_edit", object_type="briefing",
                     object_id=str(briefing_id), detail={"period": row["data"]["meta"]["period"]["label"],
                                                         "version": row["version"],
                                                         "drafted": row["key_judgement"], "edited": judgement})
    return True


def _stem(row: dict) -> str:
    meta = row["data"]["meta"]
    suffix = "-approved" if row["status"] == "approved" else ""
    return f"tension-briefing-{meta['area']['id']}-{meta['period']['label']}-v{row['version']}{suffix}"


def _load(request: Request, briefing_id: int) -> dict | Response:
    try:
        return load(request.app.state.store, briefing_id)
    except UnknownBriefing as exc:
        return render(request, "error.html", status_code=404, heading="No such briefing", message=str(exc))


@router.get("/briefings")
def archive_page(request: Request, user: User = Depends(require("viewer"))):
    state = request.app.state
    return render(request, "briefings.html", title="Briefings", briefings=[(b, b.period_end - dt.timedelta(days=1)) for b in list_briefings(state.store, limit=100)],
                  last_week=last_complete_week(state.clock()),
                  notice=NOTICES.get(request.query_params.get("done", "")))


@router.post("/briefings/generate")
def generate_draft(request: Request, user: User = Depends(require("analyst"))):
    from monitor.briefing.job import generate

    state = request.app.state
    now = state.clock()
    made = generate(state.store, state.settings, last_complete_week(now), now, origin="web")
    return RedirectResponse(f"/briefings/{made.id}?done=generated", status_code=303)


def _briefing(request: Request, briefing_id: int, *, error: str | None = None, status_code: int = 200,
              judgement: str | None = None):
    row = _load(request, briefing_id)
    if isinstance(row, Response):
        return row
    return render(request, "briefing.html", status_code=status_code, title=f"Briefing {row['data']['meta']['period']['label']}",
                  b=row, label=row["data"]["meta"]["period"]["label"], error=error,
                  judgement=row["key_judgement"] if judgement is None else judgement,
                  notice=NOTICES.get(request.query_params.get("done", "")))


@router.get("/briefings/{briefing_id}")
def briefing_page(request: Request, briefing_id: RowId, user: User = Depends(require("viewer"))):
    return _briefing(request, briefing_id)


@router.get("/briefings/{briefing_id}/view")
def briefing_html(request: Request, briefing_id: RowId, user: User = Depends(require("viewer"))):
    row = _load(request, briefing_id)
    if isinstance(row, Response):
        return row
    return HTMLResponse(row["html"], headers={"Content-Security-Policy": SANDBOX,
                                              "X-Content-Type-Options": "nosniff"})


@router.get("/briefings/{briefing_id}/download/{fmt}")
def download(request: Request, briefing_id: RowId, fmt: str, user: User = Depends(require("viewer"))):
    if fmt not in DOWNLOADS:
        return render(request, "error.html", status_code=404, heading="No such edition",
                      message=f"{fmt!r}: briefings come as {', '.join(DOWNLOADS)}")
    row = _load(request, briefing_id)
    if isinstance(row, Response):
        return row
    body = {"pdf": row["pdf"] or b"", "md": row["markdown"], "html": row["html"]}[fmt]
    return Response(body, media_type=DOWNLOADS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{_stem(row)}.{fmt}"',
        "Content-Security-Policy": SANDBOX, "X-Content-Type-Options": "nosniff"})


@router.post("/briefings/{briefing_id}/judgement")
def save_judgement(request: Request, briefing_id: RowId, judgement: str = Form(""),
                   user: User = Depends(require("analyst"))):
    state = request.app.state
    try:
        edit_judgement(state.store, briefing_id, judgement, by=user.username, now=state.clock())
    except UnknownBriefing as exc:
        return render(request, "error.html", status_code=404, heading="No such briefing", message=str(exc))
    except TensionError as exc:
        return _briefing(request, briefing_id, error=str(exc), status_code=409, judgement=judgement)
    return RedirectResponse(f"/briefings/{briefing_id}?done=saved", status_code=303)


@router.post("/briefings/{briefing_id}/approve")
def approve_briefing(request: Request, briefing_id: RowId, judgement: str = Form(""),
                     user: User = Depends(require("analyst"))):
    state = request.app.state
    try:
        approve(state.store, briefing_id, by=user.username, now=state.clock(),
                judgement=judgement if judgement.strip() else None)
    except UnknownBriefing as exc:
        return render(request, "error.html", status_code=404, heading="No such briefing", message=str(exc))
    except TensionError as exc:
        return _briefing(request, briefing_id, error=str(exc), status_code=409, judgement=judgement)
    return RedirectResponse(f"/briefings/{briefing_id}?done=approved", status_code=303)

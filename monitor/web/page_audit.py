"""The audit log for admins: who did what, newest first, 50 a page, filtered by action.

Paged by offset over the ``at`` index; the action list for the filter comes from the log
itself, so actions added later (by new pages or commands) appear without a change here.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from monitor.store import Store
from monitor.store.schema import audit_log
from monitor.web.auth import User, require
from monitor.web.pages import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    detail: dict


class AuditPage(BaseModel):
    page: int
    action: str | None
    entries: list[AuditEntry]
    has_next: bool


def audit_page(store: Store, *, page: int = 1, action: str | None = None) -> AuditPage:
    query = sa.select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    if action:
        query = query.where(audit_log.c.action == action)
    query = query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    with store.transaction() as conn:
        rows = conn.execute(query).mappings().all()
    entries = [AuditEntry(**{**row, "detail": row["detail"] or {}}) for row in rows[:PAGE_SIZE]]
    return AuditPage(page=page, action=action or None, entries=entries, has_next=len(rows) > PAGE_SIZE)


def audit_actions(store: Store) -> list[str]:
    with store.transaction() as conn:
        return sorted(conn.scalars(sa.select(audit_log.c.action).distinct()))


@router.get("/audit", response_class=HTMLResponse)
def audit_view(request: Request, page: int = Query(1, ge=1, le=100_000), action: str = "",
               user: User = Depends(require("admin"))):
    store = request.app.state.store
    return render(request, "audit.html", title="Audit log", log=audit_page(store, page=page, action=action),
                  actions=audit_actions(store), page_size=PAGE_SIZE)

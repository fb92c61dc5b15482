"""Sources: every configured collector and how it is doing, as `tension sources list` shows it
(both read ``monitor.source_health``)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from monitor.source_health import relative_time, source_health
from monitor.store import Store
from monitor.web.auth import User, require
from monitor.web.pages import render

router = APIRouter(include_in_schema=False)


class SourceOut(BaseModel):
    id: str
    kind: str
    platform: str
    enabled: bool
    health: str = Field(description="ok, failing, gone, exhausted, or never polled")
    last_success_at: dt.datetime | None
    next_poll_at: dt.datetime | None = Field(description="None for a disabled source")
    failures: int = Field(description="consecutive failed polls")
    posts_today: int = Field(description="posts published since UTC midnight")
    last_error: str | None
    scoring_failures: int = Field(0, description="posts the scorer failed on, set aside with their "
                                                 "reason (the log names each)")


def source_rows(settings, store: Store, now: dt.datetime) -> list[SourceOut]:
    from monitor.scoring import not_scored_errors

    failures = not_scored_errors(store)
    return [SourceOut(**vars(row), scoring_failures=failures.get(row.id, 0))
            for row in source_health(settings, store, now)]


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, user: User = Depends(require("viewer"))):
    state = request.app.state
    now = state.clock()
    return render(request, "sources.html", title="Sources", rows=source_rows(state.settings, state.store, now),
                  now=now, relative=relative_time)

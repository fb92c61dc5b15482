"""Server-rendered pages: the template environment, the layout's context, login and logout.

Pages are Jinja2 templates in ``templates/`` extending ``base.html``; ``render`` gives every
template the user, the CSRF token for its forms, the navigation and the handling marking.
Routers for each area of the dashboard live in their own ``page_*.py`` modules and use
``render`` and ``auth.require``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote

from typing import Annotated

from fastapi import APIRouter, Form, Path as PathParam, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from monitor import audit
from monitor.web.auth import SESSION_COOKIE, current_user, verify_password

# A stored row's id (a 64-bit integer on both backends): a number outside this range names no
# row, so it is refused as invalid (422) instead of overflowing the database driver.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID, description="a stored row's id")]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)

# (path, label, least role): the navigation, shown to those who may open each page.
NAVIGATION = [
    ("/", "Overview", "viewer"),
    ("/alerts", "Alerts", "viewer"),
    ("/narratives", "Narratives", "viewer"),
    ("/reports", "Reports", "officer"),
    ("/briefings", "Briefings", "viewer"),
    ("/tuning", "Tuning", "analyst"),
    ("/sources", "Sources", "viewer"),
    ("/audit", "Audit log", "admin"),
]


def local(value: dt.datetime | None, fmt: str = "%a %d %b %H:%M") -> str:
    if value is None:
        return "-"
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Europe/London")).strftime(fmt)


TEMPLATES.env.filters["local"] = local


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    user = current_user(request)
    settings = request.app.state.settings
    nav = [(path, label) for path, label, role in NAVIGATION if user is not None and user.can(role)]
    return TEMPLATES.TemplateResponse(request, template, status_code=status_code, context={
        "user": user, "csrf": user.csrf if user else "", "nav": nav,
        "area": settings.localities.area.name, "marking": settings.main.briefing.marking,
        "path": request.url.path, **context})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, username: str = Form(...), password: str = Form(...), next: str = Form("/")):
    app = request.app.state
    address = request.client.host if request.client else "-"
    if app.limiter.blocked(username, address):
        return render(request, "login.html", status_code=429, next=_safe_next(next),
                      error="Too many failed attempts. Wait 15 minutes and try again.")
    user = verify_password(app.store, username, password)
    now = app.clock()
    if user is None:
        app.limiter.failed(username, address)
        with app.store.transaction() as conn:
            audit.record(conn, at=now, actor=username[:120], action="login.failed", object_type="user",
                         object_id=username[:200], detail={"address": address})
        return render(request, "login.html", status_code=401, next=_safe_next(next),
                      error="Wrong username or password.")
    app.limiter.succeeded(username)
    cookie, _ = app.sessions.issue(user)
    with app.store.transaction() as conn:
        audit.record(conn, at=now, actor=user.username, action="login", object_type="user",
                     object_id=user.username, detail={"address": address})
    response = RedirectResponse(_safe_next(next), status_code=303)
    app.sessions.set_cookie(request, response, cookie)
    return response


@router.post("/logout")
def logout(request: Request):
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"

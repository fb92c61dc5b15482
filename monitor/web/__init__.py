"""The web app: one FastAPI application built by ``create_app``, one router per area.

Only the partner API lives here so far; the dashboard adds its routers beside it. Every error
leaves in one JSON shape, ``{"error": {"code", "message", "fields"?}}``, whatever raised it.
Nothing is opened at import time: the store, the contact key and the partner tokens are set
up when the app is built (or, for a store opened here, when it starts serving).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from monitor import __version__
from monitor.config_files import field_path
from monitor.errors import StorageError
from monitor.reports import ContactVault, ReportRejected, ReportsEnvironment
from monitor.settings import Settings
from monitor.store import Store
from monitor.web import api, pages
from monitor.web.auth import CsrfFailed, Forbidden, LoginLimiter, NotAuthenticated, Sessions, load_or_create_secret

HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")
log = logging.getLogger("tension.web")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def create_app(settings: Settings, *, store: Store | None = None,
               environment: ReportsEnvironment | None = None,
               clock: Callable[[], dt.datetime] = _utcnow) -> FastAPI:
    """The app for ``settings``. A store handed in is the caller's to close; without one the
    app opens the configured database when it starts serving and closes it when it stops."""
    environment = environment or ReportsEnvironment.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if store is not None:
            yield
            return
        app.state.store = Store.open(settings.database_url)
        try:
            yield
        finally:
            app.state.store.close()

    app = FastAPI(title="tension-monitor", version=__version__, lifespan=lifespan,
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  dependencies=[Depends(storable_input)])
    app.state.settings = settings
    app.state.store = store
    app.state.clock = clock
    app.state.vault = ContactVault.from_settings(settings, environment)
    app.state.partner_tokens = environment.partner_tokens()
    secret = settings.environment.web_secret
    app.state.sessions = Sessions(load_or_create_secret(secret.get_secret_value() if secret else None,
                                                        settings.data_dir))
    app.state.limiter = LoginLimiter()
    _install_error_shape(app)
    _install_access_errors(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    for router in page_routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    return app


async def storable_input(request: Request) -> None:
    """PostgreSQL stores no NUL character, so a path, query or form value holding one is refused
    here as invalid input (422) rather than failing in the database driver as a 503."""
    found = [("path",)] if "\x00" in request.url.path else []
    found += [("query", name) for name, value in request.query_params.multi_items() if "\x00" in name + value]
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        found += [("body", name) for name, value in form.multi_items()
                  if isinstance(value, str) and "\x00" in name + value]
    if found:
        raise RequestValidationError([{"type": "value_error", "loc": loc, "msg": "contains a NUL character",
                                       "input": None} for loc in found[:5]])


def page_routers() -> list:
    """Every ``monitor/web/page_*.py`` module's ``router``, in name order: each area of the
    dashboard registers itself by existing."""
    import importlib
    import pkgutil

    found = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name.startswith("page_"):
            found.append(importlib.import_module(f"monitor.web.{info.name}").router)
    return found


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _install_access_errors(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, _exc: NotAuthenticated):
        if _wants_html(request) and request.method == "GET":
            return pages.login_redirect(request)
        return JSONResponse(status_code=401, headers={"WWW-Authenticate": "Bearer"}, content=error_body(
            "unauthorized", "log in, or send an API token (Authorization: Bearer <token>)"))

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        message = f"You do not have permission for this: it needs the {exc.role} role."
        if _wants_html(request):
            return pages.render(request, "error.html", status_code=403, heading="Not allowed",
                                message=message)
        return JSONResponse(status_code=403, content=error_body("forbidden", message))

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: CsrfFailed):
        message = "The form had expired or did not come from this site. Reload the page and try again."
        if _wants_html(request):
            return pages.render(request, "error.html", status_code=403, heading="Form refused",
                                message=message)
        return JSONResponse(status_code=403, content=error_body("csrf_failed", message))


def error_body(code: str, message: str, fields: list[dict] | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = fields
    return {"error": error}


def _field_error(item: dict) -> dict:
    """One validation error as {field, message}: the field's path inside the body, "body" for
    the body as a whole."""
    if item["type"] == "json_invalid":
        return {"field": "body", "message": f"not valid JSON ({item.get('ctx', {}).get('error', 'unreadable')})"}
    loc = tuple(part for part in item["loc"] if part != "body")
    field = _one_line(field_path(loc), 100) if loc else "body"  # a key may be anything a client sent
    return {"field": field, "message": _one_line(item["msg"].removeprefix("Value error, "), 300)}


def _plain_problem(item: dict) -> str:
    """One validation error as an officer reads it: our own checks' words as they are, the
    framework's stock messages ("Input should be less than or equal to 9223372036854775807")
    as a plain sentence naming the value."""
    names = [str(part) for part in item["loc"] if part not in ("body", "path", "query")]
    name = _one_line(names[-1].replace("_", " "), 60) if names else "request"
    if item["type"] == "value_error":
        return f"The {name}: " + _one_line(item["msg"].removeprefix("Value error, "), 300) + "."
    return (f"The {name} in this address or form is missing or not one the service can use. "
            "Check the link, or go back and try again.")


def _one_line(text: str, limit: int) -> str:
    """Control characters (a newline in a JSON key) shown as '?', and at most ``limit`` characters."""
    text = _CONTROL.sub("?", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


HEADINGS = {404: "Page not found", 405: "Not allowed here", 422: "Not a valid request",
            500: "Something went wrong"}


def _error_page(request: Request, status: int, message: str):
    """The HTML error shape: the layout's error page, as the access errors render it."""
    return pages.render(request, "error.html", status_code=status,
                        heading=HEADINGS.get(status, "Not possible"), message=message)


def _install_error_shape(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        fields = [_field_error(item) for item in exc.errors()]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        if _wants_html(request):
            return _error_page(request, 422, " ".join(_plain_problem(item) for item in exc.errors()))
        return JSONResponse(status_code=422, content=error_body("invalid_request", summary, fields))

    @app.exception_handler(ReportRejected)
    async def rejected(_request: Request, exc: ReportRejected) -> JSONResponse:
        fields = [{"field": exc.field, "message": exc.message}]
        return JSONResponse(status_code=422, content=error_body("invalid_request", str(exc), fields))

    @app.exception_handler(StorageError)
    async def storage_down(_request: Request, exc: StorageError) -> JSONResponse:
        # The report was not stored (the transaction rolled back): the partner may send it again.
        return JSONResponse(status_code=503, content=error_body("storage_unavailable", str(exc)))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if isinstance(exc.detail, dict):
            content = {"error": exc.detail}
        else:
            code = HTTP_CODES.get(exc.status_code, "http_error")
            content = error_body(code, str(exc.detail))
        if _wants_html(request) and exc.status_code in HEADINGS:
            return _error_page(request, exc.status_code, content["error"]["message"])
        return JSONResponse(status_code=exc.status_code, content=content, headers=exc.headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception):
        # A bug, not bad input: logged with its traceback, answered in the house shape.
        log.error("request failed", exc_info=exc, extra={"fields": {"path": request.url.path}})
        message = "The server failed on this request; it has been logged."
        if _wants_html(request):
            return _error_page(request, 500, message)
        return JSONResponse(status_code=500, content=error_body("internal_error", message))

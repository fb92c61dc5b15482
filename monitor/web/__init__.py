"""The web app: one FastAPI application built by ``create_app``, one router per area.

Only the partner API lives here so far; the dashboard adds its routers beside it. Every error
leaves in one JSON shape, ``{"error": {"code", "message", "fields"?}}``, whatever raised it.
Nothing is opened at import time: the store, the contact key and the partner tokens are set
up when the app is built (or, for a store opened here, when it starts serving).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from monitor import __version__
from monitor.config_files import field_path
from monitor.errors import StorageError
from monitor.reports import ContactVault, ReportRejected, ReportsEnvironment
from monitor.settings import Settings
from monitor.store import Store
from monitor.web import api

HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


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
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    app.state.settings = settings
    app.state.store = store
    app.state.clock = clock
    app.state.vault = ContactVault.from_settings(settings, environment)
    app.state.partner_tokens = environment.partner_tokens()
    _install_error_shape(app)
    app.include_router(api.router)
    return app


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
    return {"field": field_path(loc) if loc else "body", "message": item["msg"].removeprefix("Value error, ")}


def _install_error_shape(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [_field_error(item) for item in exc.errors()]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
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
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict):
            content = {"error": exc.detail}
        else:
            code = HTTP_CODES.get(exc.status_code, "http_error")
            content = error_body(code, str(exc.detail))
        return JSONResponse(status_code=exc.status_code, content=content, headers=exc.headers)

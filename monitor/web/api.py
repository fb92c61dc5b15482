"""The partner JSON API: file a community report, check the service is up.

Partners (police, housing, schools, community groups) each hold a bearer token, set in
``TENSION_REPORTS_TOKENS``. Tokens are compared in constant time, and with none configured the
intake answers 503 rather than accept reports from anyone.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from typing import Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from monitor import __version__
from monitor.reports import ReportIn, file_report

log = logging.getLogger("tension.reports")

router = APIRouter(prefix="/api", tags=["api"])
_bearer = HTTPBearer(auto_error=False, description="A partner token from TENSION_REPORTS_TOKENS")


class ReportFiled(BaseModel):
    id: str
    status: Literal["filed"] = "filed"


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    database: Literal["ok"] = "ok"


def require_partner(request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    tokens: tuple[str, ...] = request.app.state.partner_tokens
    if not tokens:
        raise HTTPException(503, detail={
            "code": "reports_disabled",
            "message": "report intake is off: no partner tokens are configured "
                       "(hint: set TENSION_REPORTS_TOKENS to comma-separated tokens)"})
    if credentials is None or not _known_token(credentials.credentials, tokens):
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"}, detail={
            "code": "unauthorized",
            "message": "a valid partner token is required (Authorization: Bearer <token>)"})


def _known_token(given: str, tokens: tuple[str, ...]) -> bool:
    """Constant time in the token's content: every configured token is compared, always."""
    given_bytes = given.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(given_bytes, token.encode())
    return matched


@router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    """Up, and the database answers (a StorageError becomes 503 in the app's error shape)."""
    with request.app.state.store.transaction() as conn:
        conn.execute(sa.select(1))
    return Health(version=__version__)


@router.post("/reports", status_code=201, response_model=ReportFiled,
             dependencies=[Depends(require_partner)])
def post_report(report: ReportIn, request: Request) -> ReportFiled:
    """File one community report; it is scored and counted like a post from then on."""
    state = request.app.state
    now: dt.datetime = state.clock()
    report_id = file_report(state.store, state.settings, report, channel="api", now=now,
                            vault=state.vault)
    log.info("report filed", extra={"fields": {"id": report_id, "category": report.category,
                                               "channel": "api"}})
    return ReportFiled(id=report_id)

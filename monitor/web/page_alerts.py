"""Alerts: what is pending, firing and recently resolved; officers acknowledge and silence.

Everything an officer does here goes through the same functions as ``tension alerts`` and
``tension silences`` (``alerts.ack``, ``alerts.silences``), so the action, its audit record and
its effect on notifications are the same whichever way it was taken.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from alerts.ack import UnknownAlert, acknowledge, acknowledged, find_fingerprint
from alerts.messages import MessageContext
from alerts.routing import inhibited
from alerts.silences import active_silences, add_silence, expire_silence, list_silences, silenced_by
from monitor.config_files import parse_duration
from monitor.errors import TensionError
from monitor.privacy import clean_excerpt
from monitor.store.schema import alert_events, alerts
from monitor.web.auth import User, require
from monitor.web.pages import _safe_next, local, render

router = APIRouter(include_in_schema=False)
RESOLVED_SHOWN = dt.timedelta(days=7)
RESOLVED_LIMIT = 50
HISTORY_LIMIT = 200
NOTICES = {"ack": "Alert acknowledged: no more reminders until it resolves.",
           "silence": "Silence added.", "expire": "Silence expired: matching alerts notify again."}


def _view(row: dict, context: MessageContext, muted: str, scope_names: dict) -> dict:
    labels, notes = row["labels"] or {}, row["annotations"] or {}
    since = row["resolved_at"] if row["state"] == "resolved" else row["fired_at"] or row["active_since"]
    extra = []
    if labels.get("site"):
        extra.append(scope_names.get(labels["site"], labels["site"]))
    if labels.get("narrative"):
        extra.append(context.narratives.get(labels["narrative"], labels["narrative"]))
    return {
        "fingerprint": row["fingerprint"], "state": row["state"], "rule": labels.get("alertname", row["rule_id"]),
        "labels": labels, "place": context.place(labels), "extra": ", ".join(extra),
        "severity": labels.get("severity", ""), "since": since, "muted": muted,
        "summary": clean_excerpt(notes.get("summary"), 160),
        "description": clean_excerpt(notes.get("description"), 400),
        "value": row["value"], "fired_at": row["fired_at"], "resolved_at": row["resolved_at"],
        "active_since": row["active_since"],
        "ack": (row["acknowledged_by"], row["acknowledged_at"], clean_excerpt(row["ack_comment"], 200))
        if row["state"] == "firing" and acknowledged(row) else None,
    }


def _site_names(settings) -> dict:
    return {s.id: s.name for s in settings.localities.sensitive_sites}


def alert_lists(request: Request) -> dict:
    """Pending, firing and recently resolved alerts, each with what mutes it and who acked it."""
    state = request.app.state
    now, settings = state.clock(), state.settings
    with state.store.transaction() as conn:
        live = conn.execute(sa.select(alerts).where(alerts.c.state.in_(("pending", "firing")))
                            .order_by(alerts.c.fired_at.desc(), alerts.c.active_since.desc())).mappings().all()
        done = conn.execute(sa.select(alerts).where(alerts.c.state == "resolved",
                                                    alerts.c.resolved_at >= now - RESOLVED_SHOWN)
                            .order_by(alerts.c.resolved_at.desc()).limit(RESOLVED_LIMIT)).mappings().all()
        silences = active_silences(conn, now)
    firing = {r["fingerprint"]: r["labels"] for r in live if r["state"] == "firing"}
    context, sites = MessageContext.from_settings(settings), _site_names(settings)
    groups: dict[str, list] = {"firing": [], "pending": [], "resolved": []}
    for row in [*live, *done]:
        labels = row["labels"] or {}
        silence = silenced_by(labels, silences)
        muted = (f"silenced by {silence.created_by} until {local(silence.ends_at)}: {clean_excerpt(silence.reason, 80)}"
                 if silence else "inhibited by a related firing alert"
                 if row["state"] != "resolved" and inhibited(labels, row["fingerprint"],
                                                             settings.alerting.inhibit_rules, firing) else "")
        groups[row["state"]].append(_view(dict(row), context, muted, sites))
    return groups


@router.get("/alerts")
def alerts_page(request: Request, user: User = Depends(require("viewer"))):
    return _page(request)


def _page(request: Request, *, error: str | None = None, status_code: int = 200):
    state = request.app.state
    return render(request, "alerts.html", status_code=status_code, title="Alerts", groups=alert_lists(request),
                  silences=list_silences(state.store, state.clock()), now=state.clock(), error=error,
                  notice=NOTICES.get(request.query_params.get("done", "")))


@router.get("/alerts/{fingerprint}")
def alert_page(request: Request, fingerprint: str, user: User = Depends(require("viewer"))):
    return _alert(request, fingerprint)


def _alert(request: Request, fingerprint: str, *, error: str | None = None, status_code: int = 200,
           form: dict | None = None):
    state = request.app.state
    settings = state.settings
    with state.store.transaction() as conn:
        try:
            fp = find_fingerprint(conn, fingerprint)
        except UnknownAlert as exc:
            return render(request, "error.html", status_code=404, heading="No such alert", message=str(exc))
        row = dict(conn.execute(sa.select(alerts).where(alerts.c.fingerprint == fp)).mappings().one())
        events = conn.execute(sa.select(alert_events).where(alert_events.c.fingerprint == fp)
                              .order_by(alert_events.c.at.desc(), alert_events.c.id.desc())
                              .limit(HISTORY_LIMIT)).mappings().all()
        silences = active_silences(conn, state.clock())
    silence = silenced_by(row["labels"] or {}, silences)
    muted = f"silenced by {silence.created_by} until {local(silence.ends_at)}" if silence else ""
    alert = _view(row, MessageContext.from_settings(settings), muted, _site_names(settings))
    history = [{"at": e["at"], "from": e["from_state"] or "-", "to": e["to_state"], "value": e["value"],
                "why": clean_excerpt((e["detail"] or {}).get("reason", ""), 200)} for e in events]
    return render(request, "alerts.html", status_code=status_code, title=f"Alert {alert['rule']}",
                  alert=alert, history=history, error=error, form=form or {"duration": "4h", "reason": ""})


@router.post("/alerts/{fingerprint}/ack")
def ack(request: Request, fingerprint: str, comment: str = Form(""), next: str = Form("/alerts"),
        user: User = Depends(require("officer"))):
    try:
        acknowledge(request.app.state.store, fingerprint, by=user.username, comment=comment,
                    now=request.app.state.clock())
    except TensionError as exc:
        return _page(request, error=str(exc), status_code=409)
    return RedirectResponse(_with_notice(_safe_next(next), "ack"), status_code=303)


@router.post("/alerts/{fingerprint}/silence")
def silence(request: Request, fingerprint: str, match: list[str] = Form([]), extra: str = Form(""),
            reason: str = Form(""), duration: str = Form(""), user: User = Depends(require("officer"))):
    form = {"reason": reason, "duration": duration, "match": match, "extra": extra}
    matchers = [m for m in match if m.strip()] + [line.strip() for line in extra.splitlines() if line.strip()]
    try:
        try:
            length = parse_duration(duration.strip())
        except ValueError as exc:
            raise TensionError(f"expires after: {exc}") from None
        except OverflowError:  # "99999999999999999999d": past any date there is
            raise TensionError(f"expires after: {duration.strip()[:40]!r} is far too long") from None
        add_silence(request.app.state.store, matchers, reason=reason, created_by=user.username,
                    duration=length, now=request.app.state.clock())
    except TensionError as exc:
        return _alert(request, fingerprint, error=str(exc), status_code=422, form=form)
    return RedirectResponse("/alerts?done=silence", status_code=303)


@router.post("/silences/{silence_id}/expire")
def expire(request: Request, silence_id: str, user: User = Depends(require("officer"))):
    try:
        expire_silence(request.app.state.store, silence_id, by=user.username, now=request.app.state.clock())
    except TensionError as exc:
        return _page(request, error=str(exc), status_code=409)
    return RedirectResponse("/alerts?done=expire", status_code=303)


def _with_notice(target: str, done: str) -> str:
    return f"{target}{'&' if '?' in target else '?'}done={done}"

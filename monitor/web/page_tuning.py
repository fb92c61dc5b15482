"""Threshold tuning: the rules in force, backtests and sweeps over history, saved versions, incidents.

The work is done by ``alerts.backtest``, ``alerts.rule_versions`` and ``alerts.incidents``, as for
``tension backtest``, ``tension rules ...`` and ``tension incidents ...``. Backtests and sweeps
write nothing, so they are plain GET forms (bookmarkable, no CSRF token needed); saving rules,
reverting and recording an incident are audited POSTs. "Current rules" means the rules file on
disk: a save takes effect when the service next starts, and the page says when the running
service still uses older ones.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from alerts.backtest import backtest, numeric_fields, sweep, sweep_values, variant
from alerts.evaluate import Scope
from alerts.incidents import add_incident, list_incidents
from alerts.rule_versions import check_rules, diff, list_versions, revert, rules_path, save_rules, sha256
from monitor.config_files import read_config_text
from monitor.errors import TensionError
from monitor.web.auth import User, require
from monitor.web.pages import RowId, render

router = APIRouter(include_in_schema=False)
DAY = dt.timedelta(days=1)
CHART = {"width": 560, "height": 220, "left": 48, "right": 16, "top": 14, "bottom": 36}
NOTICES = {"saved": "Rules saved as a new version; the service uses them from its next start.",
           "reverted": "Earlier rules restored as a new version; the service uses them from its next start.",
           "incident": "Incident recorded."}


def _day(name: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise TensionError(f"{name}: {value!r} is not a date such as 2026-11-17") from None


def period(first: str, last: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """UTC days ``first`` to ``last`` inclusive, never past now."""
    start = dt.datetime.combine(_day("from", first), dt.time(), tzinfo=dt.timezone.utc)
    end = min(dt.datetime.combine(_day("to", last), dt.time(), tzinfo=dt.timezone.utc) + DAY, now)
    if end <= start:
        raise TensionError(f"the period is empty: 'to' ({end:%Y-%m-%d %H:%M} UTC) is not after 'from'")
    return start, end


def _target(text: str) -> tuple[str, str, str]:
    """``rule.param=value`` (or ``rule.param`` with no value) → (rule, param, value)."""
    target, _, value = text.strip().partition("=")
    rule_id, _, param = target.strip().rpartition(".")
    if not rule_id or not param:
        raise TensionError(f"{text!r}: name one threshold as rule.param=value, e.g. hate-share-high.above=0.3")
    return rule_id, param, value.strip()


def current_rules(settings) -> dict:
    """The rules file on disk, parsed and checked like a save would; the running rules if broken."""
    path = rules_path(settings.config_path)
    try:
        text = read_config_text(path)
        rules, problem = check_rules(settings.config_path, text).rules, None
    except TensionError as exc:
        rules, problem = settings.rules.rules, str(exc)
    return {"path": path, "text": text, "sha256": sha256(text), "rules": rules, "problem": problem,
            "stale": problem is None and tuple(rules) != tuple(settings.rules.rules)}


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    return "0" if not seconds else next(f"{seconds // n}{u}" for u, n in units if seconds % n == 0)


def thresholds(rules) -> list[dict]:
    return [{"id": r.id, "kind": r.kind, "severity": r.severity,
             "for": _duration(r.pending_for), "keep": _duration(r.keep_firing_for),
             "fields": [(name, getattr(r, name)) for name in numeric_fields(r)]} for r in rules]


def run_backtest(store, scope: Scope, rules, start, end, change: str) -> dict:
    """The backtest of ``rules`` with one threshold changed (if given), and for that rule its count
    before and after the change (one extra replay of that rule only)."""
    compare = None
    if change.strip():
        rule_id, param, raw = _target(change)
        rule = next((r for r in rules if r.id == rule_id), None)
        if rule is None:
            raise TensionError(f"unknown rule {rule_id!r} (rules: {', '.join(r.id for r in rules)})")
        try:
            value = float(raw)
        except ValueError:
            raise TensionError(f"{change!r}: the new value must be a number") from None
        changed = variant(rule, param, value)
        rules = [changed if r.id == rule_id else r for r in rules]
        before = sweep(store, scope, [rule], rule_id, param, [getattr(rule, param)], start, end, incidents=())[0]
        compare = {"rule": rule_id, "param": param, "old": getattr(rule, param), "new": getattr(changed, param),
                   "old_count": before.episodes}
    result = backtest(store, scope, rules, start, end)
    if compare is not None:
        compare["new_count"] = result.per_rule.get(compare["rule"], 0)
        compare["old_total"] = len(result.episodes) - compare["new_count"] + compare["old_count"]
    return {"result": result, "compare": compare}


def _nice(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= value)


def chart(points, label: str) -> dict:
    """Coordinates for an inline SVG line of alerts/week against the swept value."""
    c = CHART
    w, h = c["width"] - c["left"] - c["right"], c["height"] - c["top"] - c["bottom"]
    xs = [p.value for p in points]
    lo, hi = min(xs), max(xs)
    top = _nice(max((p.alerts_per_week for p in points), default=0))

    def x(v):
        return c["left"] + (w * (v - lo) / (hi - lo) if hi > lo else w / 2)

    def y(v):
        return c["top"] + h - h * v / top
    dots = [{"x": round(x(p.value), 1), "y": round(y(p.alerts_per_week), 1), "value": p.value,
             "rate": p.alerts_per_week, "current": p.current} for p in points]
    ticks = [{"y": round(y(top * i / 4), 1), "label": f"{top * i / 4:g}"} for i in range(5)]
    return {**c, "dots": dots, "ticks": ticks, "label": label, "line": " ".join(f"{d['x']},{d['y']}" for d in dots),
            "bottom_y": c["top"] + h}


def _page(request: Request, *, status_code: int = 200, error: str | None = None, save_errors=None,
          edited: str | None = None):
    state = request.app.state
    settings, now, q = state.settings, state.clock(), request.query_params
    rules = current_rules(settings)
    scope = Scope.from_settings(settings)
    today = now.astimezone(dt.timezone.utc).date()
    form = {"from": q.get("from") or (today - 7 * DAY).isoformat(), "to": q.get("to") or today.isoformat(),
            "change": q.get("change", ""), "target": q.get("target", ""), "range": q.get("values", ""),
            "a": q.get("a", ""), "b": q.get("b", "")}
    ctx: dict = {"backtest": None, "sweep": None, "diff": None}
    try:
        if q.get("run") == "backtest":
            ctx["backtest"] = run_backtest(state.store, scope, rules["rules"], *period(form["from"], form["to"], now),
                                           form["change"])
        elif q.get("run") == "sweep":
            rule_id, param, _ = _target(form["target"])
            points = sweep(state.store, scope, rules["rules"], rule_id, param, sweep_values(form["range"]),
                           *period(form["from"], form["to"], now))
            ctx["sweep"] = {"points": points, "chart": chart(points, f"{rule_id}.{param}"),
                            "scored": any(p.incidents for p in points)}
        elif q.get("run") == "diff":
            ctx["diff"] = diff(state.store, int(form["a"] or 0), int(form["b"] or 0)).splitlines()
    except (TensionError, ValueError) as exc:
        error, status_code = str(exc), 422
    names = {settings.localities.area.id: settings.localities.area.name}
    names |= {loc.id: loc.name for loc in settings.localities.localities}
    return render(request, "tuning.html", status_code=status_code, title="Threshold tuning", rules=rules,
                  table=thresholds(rules["rules"]), versions=list(reversed(list_versions(state.store))),
                  incidents=list(reversed(list_incidents(state.store))), names=names, scope=scope,
                  form=form, error=error, save_errors=save_errors or [], edited=edited, **ctx,
                  notice=NOTICES.get(q.get("done", "")))


@router.get("/tuning")
def tuning_page(request: Request, user: User = Depends(require("analyst"))):
    return _page(request)


@router.post("/tuning/rules")
def save(request: Request, rules_yaml: str = Form(""), reason: str = Form(""),
         user: User = Depends(require("analyst"))):
    state = request.app.state
    text = rules_yaml.replace("\r\n", "\n")
    try:
        save_rules(state.settings.config_path, state.store, text, user.username, reason, now=state.clock(),
                   source="edited rules")
    except TensionError as exc:
        return _page(request, status_code=422, save_errors=str(exc).splitlines(), edited=text)
    return RedirectResponse("/tuning?done=saved#rules", status_code=303)


@router.post("/tuning/versions/{version_id}/revert")
def revert_to(request: Request, version_id: RowId, reason: str = Form(""), user: User = Depends(require("analyst"))):
    state = request.app.state
    try:
        revert(state.store, state.settings.config_path, version_id, user.username, reason, now=state.clock())
    except TensionError as exc:
        return _page(request, status_code=422, error=str(exc))
    return RedirectResponse("/tuning?done=reverted#versions", status_code=303)


@router.post("/tuning/incidents")
def record_incident(request: Request, locality: str = Form(""), at: str = Form(""), description: str = Form(""),
                    user: User = Depends(require("analyst"))):
    state = request.app.state
    settings = state.settings
    known = {settings.localities.area.id} | {loc.id for loc in settings.localities.localities}
    try:
        try:
            when = dt.datetime.fromisoformat(at.strip())
        except ValueError:
            raise TensionError(f"when: {at!r} is not a date and time such as 2026-11-20T18:30") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=ZoneInfo(settings.main.timezone))
        add_incident(state.store, locality_id=locality, occurred_at=when.astimezone(dt.timezone.utc),
                     description=description, by=user.username, now=state.clock(), known=known)
    except TensionError as exc:
        return _page(request, status_code=422, error=str(exc))
    return RedirectResponse("/tuning?done=incident#incidents", status_code=303)

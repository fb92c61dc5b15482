"""Backtests: candidate rules replayed over stored aggregates, to tune thresholds against history.

A backtest is the catch-up (``alerts.catch_up``) run over a chosen period with rules that are
not (yet) in force: the rules are evaluated at the end of each hour (an instant before each
hour boundary, so hour windows read complete buckets and nothing after the step), and the real
lifecycle (``alerts.lifecycle.apply``) runs against a scratch in-memory store, so ``for``,
``keep_firing_for``, resolution and re-firing behave exactly as in production while the real
alerts tables are never touched. Evaluation only reads the store. The lifecycle starts empty at
the start of the period: an alert already true then is first seen (pending or firing) at the
first step. ``source_health`` rules are held, as in catch-up: a source's past health is not
recorded.

The catch-up's one look-ahead applies (docs/design.md): day windows, today's tension level and
emerging-narrative clusters include the rest of that day at an earlier step, and amplification
bursts are stored at their final size, so such rules can fire earlier in a backtest than they
would have live. ``BacktestResult.notes`` says which rules are affected.

A sweep replays one rule with each of several values of one numeric field. All variants are
evaluated in the same read of the store at each step (the aggregates are read once per step,
not once per variant), each with its own scratch lifecycle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import ValidationError

from alerts.catch_up import LIVE_ONLY_KINDS
from alerts.evaluate import KINDS, Evaluation, Scope, Series, Span
from alerts.incidents import LEAD_WINDOW, Incident, Scoring, list_incidents, score
from alerts.lifecycle import apply
from monitor.config_files import describe_errors
from monitor.errors import TensionError
from monitor.store import Store
from monitor.store.schema import alert_events

STEP = dt.timedelta(hours=1)
_BEFORE = dt.timedelta(microseconds=1)
WEEK = dt.timedelta(weeks=1)
MAX_SWEEP_POINTS = 50


@dataclass(frozen=True)
class Episode:
    """One would-be firing: from the step it fired to the step it resolved."""

    rule_id: str
    kind: str
    locality: str
    labels: dict[str, str]
    fired_at: dt.datetime
    resolved_at: dt.datetime | None  # None: still firing at the end of the period
    value: float | None  # the rule's value when it fired
    description: str


@dataclass(frozen=True)
class BacktestResult:
    start: dt.datetime
    end: dt.datetime
    step: dt.timedelta
    steps: int
    rules: tuple[str, ...]  # evaluated
    held: tuple[str, ...]  # source_health rules: not backtested
    episodes: tuple[Episode, ...]  # by fired_at
    per_rule: dict[str, int]  # every evaluated rule, zeros included
    per_week: dict[str, int]  # ISO week (local time) → episodes fired in it, every week of the period
    weeks: float
    alerts_per_week: float
    look_ahead: tuple[str, ...]  # rules that may fire earlier than live (see module docstring)
    notes: tuple[str, ...]
    scoring: Scoring | None  # None when no incidents were scored
    seconds: float


@dataclass(frozen=True)
class SweepPoint:
    value: float
    current: bool  # the rule's value as given
    episodes: int
    alerts_per_week: float
    precision: float | None = None
    recall: float | None = None
    median_lead: dt.timedelta | None = None
    detected: int | None = None
    incidents: int | None = None


class _SharedEvaluation(Evaluation):
    """One read of the store shared by every variant at a step: baseline series are cached too
    (they depend on the window, the place and the history asked for, never on a threshold)."""

    def series(self, span: Span, place: str, history: dt.timedelta, *, weekly: bool) -> Series:
        return self._cached(("series", span.window, place, history, weekly),
                            lambda: Evaluation.series(self, span, place, history, weekly=weekly))


def instants(start: dt.datetime, end: dt.datetime, step: dt.timedelta = STEP) -> list[dt.datetime]:
    """An instant before each step boundary in (start, end], boundaries counted from the hour
    of ``start``: with the default step, the end of each hour in [start, end) as catch-up."""
    if start.tzinfo is None or end.tzinfo is None:
        raise TensionError("give the backtest period with a time zone (UTC)")
    if step <= dt.timedelta(0):
        raise TensionError("the backtest step must be positive, e.g. 1h")
    if end <= start:
        raise TensionError(f"the period is empty: {end:%Y-%m-%d %H:%M} is not after {start:%Y-%m-%d %H:%M}")
    boundary = start.astimezone(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) + step
    out = []
    while boundary <= end:
        if boundary - _BEFORE > start:
            out.append(boundary - _BEFORE)
        boundary += step
    return out


def _look_ahead(rule) -> bool:
    return (getattr(rule, "window", None) == "day" or rule.kind in ("level_change", "emerging_narrative",
                                                                       "amplification")
            or getattr(rule, "metric", None) == "tension_index")


def _episodes(scratch: Store, kinds: dict[str, str]) -> list[Episode]:
    """Firing episodes from the scratch store's alert history."""
    with scratch.transaction() as conn:
        rows = conn.execute(sa.select(alert_events).order_by(alert_events.c.id)).mappings().all()
    opened: dict[str, dict] = {}
    done = []
    for row in rows:
        fp, detail = row["fingerprint"], row["detail"]
        if row["to_state"] == "firing":
            labels = detail["labels"]
            opened[fp] = {"rule_id": detail["rule_id"], "kind": kinds.get(detail["rule_id"], ""),
                          "locality": labels.get("locality", ""), "labels": labels, "fired_at": row["at"],
                          "value": row["value"], "description": detail["annotations"].get("description", "")}
        elif row["to_state"] == "resolved" and fp in opened:
            done.append(Episode(**opened.pop(fp), resolved_at=row["at"]))
    done += [Episode(**e, resolved_at=None) for e in opened.values()]
    return sorted(done, key=lambda e: (e.fired_at, e.rule_id, e.locality))


def _replay(store, scope: Scope, rulesets: Sequence[Sequence], steps: list[dt.datetime]) -> list[list[Episode]]:
    """Each rule set through its own scratch lifecycle; the store is read once per step."""
    scratches = [Store.open("sqlite://") for _ in rulesets]
    # Pending or firing fingerprints per scratch store. With none, and no condition true, the
    # lifecycle has nothing to read or write at this step, so it is skipped (most quiet hours).
    opened: list[set[str]] = [set() for _ in rulesets]
    try:
        for at in steps:
            with store.transaction() as conn:
                ev = _SharedEvaluation(conn, scope, at)
                found = [[c for rule in rules for c in KINDS[rule.kind](rule, ev)] for rules in rulesets]
            for scratch, rules, candidates, live in zip(scratches, rulesets, found, opened):
                if not live and not any(c.active for c in candidates):
                    continue
                for t in apply(scratch, candidates, rules, at):
                    (live.add if t.to_state in ("pending", "firing") else live.discard)(t.fingerprint)
        return [_episodes(scratch, {r.id: r.kind for r in rules})
                for scratch, rules in zip(scratches, rulesets)]
    finally:
        for scratch in scratches:
            scratch.close()


def _split(rules) -> tuple[list, list]:
    live_only = [r for r in rules if r.kind in LIVE_ONLY_KINDS]
    return [r for r in rules if r.kind not in LIVE_ONLY_KINDS], live_only


def _incidents(store, start, end, given) -> Sequence[Incident]:
    return list_incidents(store, start, end) if given is None else given


def backtest(store, scope: Scope, rules, start: dt.datetime, end: dt.datetime, *, step: dt.timedelta = STEP,
             incidents: Sequence[Incident] | None = None,
             lead_window: dt.timedelta = LEAD_WINDOW) -> BacktestResult:
    """Would-be alerts of ``rules`` over [start, end). ``incidents``: None scores against the
    incidents stored for the period (when there are any); pass () to skip scoring."""
    began = time.perf_counter()
    steps = instants(start, end, step)
    evaluated, held = _split(rules)
    [episodes] = _replay(store, scope, [evaluated], steps)
    tz = ZoneInfo(scope.timezone)
    per_week = dict.fromkeys(_weeks(start, end, tz), 0)
    for e in episodes:
        per_week[_week(e.fired_at, tz)] = per_week.get(_week(e.fired_at, tz), 0) + 1
    counts = Counter(e.rule_id for e in episodes)
    weeks = (end - start) / WEEK
    look_ahead = tuple(r.id for r in evaluated if _look_ahead(r))
    notes = []
    if look_ahead:
        notes.append(f"{', '.join(look_ahead)}: day windows, today's level, emerging clusters and "
                     "amplification bursts are read as stored, including the rest of that day or burst, "
                     "so these can fire up to a day earlier than they would have live (docs/design.md)")
    if held:
        notes.append(f"{', '.join(r.id for r in held)}: source health is not recorded over time, "
                     "so source_health rules are not backtested")
    found = _incidents(store, start, end, incidents)
    return BacktestResult(
        start=start, end=end, step=step, steps=len(steps), rules=tuple(r.id for r in evaluated),
        held=tuple(r.id for r in held), episodes=tuple(episodes),
        per_rule={r.id: counts.get(r.id, 0) for r in evaluated}, per_week=per_week, weeks=weeks,
        alerts_per_week=len(episodes) / weeks, look_ahead=look_ahead, notes=tuple(notes),
        scoring=score(episodes, found, scope.area_id, lead_window) if found else None,
        seconds=time.perf_counter() - began)


def _week(at: dt.datetime, tz: ZoneInfo) -> str:
    year, week, _ = at.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def _weeks(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> list[str]:
    out, day = [], start.astimezone(tz).date()
    while day <= (end - _BEFORE).astimezone(tz).date():
        year, week, _ = day.isocalendar()
        if f"{year}-W{week:02d}" not in out:
            out.append(f"{year}-W{week:02d}")
        day += dt.timedelta(days=1)
    return out


# -- sweeps -------------------------------------------------------------------------------------

def numeric_fields(rule) -> list[str]:
    """The fields of a rule a sweep can vary: its whole-number and decimal thresholds."""
    return [name for name, info in type(rule).model_fields.items() if info.annotation in (int, float)]


def variant(rule, param: str, value: float):
    """The rule with ``param`` set to ``value``, validated by the rule's own model, so a value
    the rules file would refuse is refused here too, naming rule and field."""
    fields = numeric_fields(rule)
    if param not in fields:
        raise TensionError(f"rule {rule.id} ({rule.kind}) has no numeric field {param!r} "
                           f"(hint: one of {', '.join(fields) or 'none'})")
    if type(rule).model_fields[param].annotation is int and float(value).is_integer():
        value = int(value)
    data = rule.model_dump(by_alias=True, mode="json") | {param: value}
    try:
        return type(rule).model_validate(data)
    except ValidationError as exc:
        lines = describe_errors(f"rule {rule.id}", exc)
        raise TensionError("; ".join(line + f" (got {value})" for line in lines)) from None


def sweep(store, scope: Scope, rules, rule_id: str, param: str, values: Sequence[float],
          start: dt.datetime, end: dt.datetime, *, step: dt.timedelta = STEP,
          incidents: Sequence[Incident] | None = None,
          lead_window: dt.timedelta = LEAD_WINDOW) -> list[SweepPoint]:
    """Alerts per week of one rule for each value of one of its numeric fields (and precision,
    recall and lead time when incidents exist). The other rules do not change with it, so only
    this rule is replayed and the figures are its own."""
    by_id = {r.id: r for r in rules}
    if rule_id not in by_id:
        raise TensionError(f"unknown rule {rule_id!r} (rules: {', '.join(by_id) or 'none'})")
    rule = by_id[rule_id]
    if rule.kind in LIVE_ONLY_KINDS:
        raise TensionError(f"rule {rule_id} is {rule.kind}: source health is not recorded over time, "
                           "so it cannot be backtested")
    if not values:
        raise TensionError("a sweep needs at least one value")
    if len(values) > MAX_SWEEP_POINTS:
        raise TensionError(f"{len(values)} sweep values: at most {MAX_SWEEP_POINTS}; use a larger step")
    variants = [variant(rule, param, v) for v in values]
    steps = instants(start, end, step)
    replayed = _replay(store, scope, [[v] for v in variants], steps)
    found = _incidents(store, start, end, incidents)
    weeks = (end - start) / WEEK
    current = getattr(rule, param)
    out = []
    for value, episodes in zip(values, replayed):
        point = SweepPoint(value=value, current=math.isclose(value, current, rel_tol=1e-9, abs_tol=1e-12),
                           episodes=len(episodes), alerts_per_week=len(episodes) / weeks)
        if found:
            s = score(episodes, found, scope.area_id, lead_window)
            point = dataclasses.replace(point, precision=s.precision, recall=s.recall,
                                        median_lead=s.median_lead, detected=s.detected,
                                        incidents=s.incidents)
        out.append(point)
    return out


def sweep_values(text: str) -> list[float]:
    """``a:b:step`` → a, a+step, ... up to b inclusive (``0.1:0.4:0.05``: 7 values)."""
    parts = text.split(":")
    try:
        low, high, by = (float(p) for p in parts)
    except ValueError:
        raise TensionError(f"sweep range {text!r}: use start:stop:step, e.g. 0.1:0.4:0.05") from None
    if not all(math.isfinite(x) for x in (low, high, by)) or by <= 0:
        raise TensionError(f"sweep range {text!r}: the step must be a positive number")
    if high < low:
        raise TensionError(f"sweep range {text!r}: stop {high:g} is below start {low:g}")
    n = math.floor((high - low) / by + 1e-9) + 1
    if n > MAX_SWEEP_POINTS:
        raise TensionError(f"sweep range {text!r} has {n} values: at most {MAX_SWEEP_POINTS}; use a larger step")
    return [round(low + i * by, 10) for i in range(n)]

"""Alert lifecycle with Prometheus semantics: candidates in, pending/firing/resolved out.

Each label set is one alert, identified by its fingerprint (sha256 of the sorted labels), so the
same place and rule is the same alert across restarts and episodes. State per evaluation:

* not alerting → ``pending`` when the condition turns true; straight to ``firing`` when the rule
  has no ``for`` (and always for mobilisation: a call to gather is never held back);
* ``pending`` → ``firing`` once the condition has held for ``for``;
* ``pending`` whose condition clears before ``for`` is dropped: the row goes back to what it was
  (deleted if the alert never fired, ``resolved`` with its earlier episode's times if it did), so
  the notifier never sees an alert that did not fire. The history records ``inactive``;
* ``firing`` stays firing while true and for ``keep_firing_for`` after it was last true, then
  → ``resolved``; a resolved alert whose condition returns starts a new episode under the same
  fingerprint, and ``alert_events`` keeps every episode.

The ``acknowledged_*`` columns belong to the notification side and are never written here.
All state changes of one evaluation and their history rows are written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from alerts.catch_up import LIVE_ONLY_KINDS, STAGE, catch_up
from alerts.dispatch import dispatch
from alerts.evaluate import Candidate, Scope, evaluate_rules
from alerts.routing import resolve
from monitor.store.schema import alert_events, alerts
from monitor.store.stage_state import save_watermark

log = logging.getLogger("tension.alerts")
_CHUNK = 500


@dataclass(frozen=True)
class Transition:
    fingerprint: str
    rule_id: str
    labels: dict[str, str]
    from_state: str | None  # None: no alert existed
    to_state: str  # pending | firing | resolved | inactive (pending cleared before `for`)
    at: dt.datetime
    value: float | None
    reason: str


def fingerprint(labels: Mapping[str, str]) -> str:
    """sha256 of the sorted labels: stable across processes, Python versions and backends."""
    text = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _duration(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


class _Episode:
    """The writes of one evaluation: row changes plus history, committed together."""

    def __init__(self, conn: sa.Connection, now: dt.datetime):
        self.conn, self.now = conn, now
        self.transitions: list[Transition] = []

    def record(self, fp: str, rule_id: str, labels: dict, before: str | None, after: str,
               value: float | None, reason: str, annotations: Mapping[str, str] | None) -> None:
        self.transitions.append(Transition(fp, rule_id, labels, before, after, self.now, value, reason))
        self.conn.execute(sa.insert(alert_events).values(
            fingerprint=fp, at=self.now, from_state=before, to_state=after, value=value,
            detail={"rule_id": rule_id, "labels": labels, "reason": reason,
                    "annotations": dict(annotations or {})}))

    def update(self, fp: str, **values) -> None:
        self.conn.execute(sa.update(alerts).where(alerts.c.fingerprint == fp)
                          .values(evaluated_at=self.now, **values))

    def active(self, fp: str, c: Candidate, rule, row: Mapping | None) -> None:
        now = self.now
        at_once = rule is None or rule.kind == "mobilisation" or rule.pending_for <= dt.timedelta(0)
        seen = {"annotations": c.annotations, "value": c.value, "last_true_at": now}
        if row is None or row["state"] == "resolved":
            before = row["state"] if row else None
            state = "firing" if at_once else "pending"
            values = {**seen, "state": state, "active_since": now, "rule_id": c.rule_id}
            if state == "firing":
                values |= {"fired_at": now, "resolved_at": None}
            if row is None:
                self.conn.execute(sa.insert(alerts).values(
                    fingerprint=fp, labels=c.labels, evaluated_at=now,
                    **({"fired_at": None, "resolved_at": None} | values)))
            else:
                self.update(fp, **values)
            reason = "condition true; no `for`, fires at once" if at_once else \
                f"condition true; fires if still true after {_duration(rule.pending_for)}"
            self.record(fp, c.rule_id, c.labels, before, state, c.value, reason, c.annotations)
        elif row["state"] == "pending" and (at_once or now - row["active_since"] >= rule.pending_for):
            self.update(fp, **seen, state="firing", fired_at=now, resolved_at=None)
            self.record(fp, c.rule_id, c.labels, "pending", "firing", c.value,
                        f"condition true for {_duration(now - row['active_since'])}", c.annotations)
        else:
            self.update(fp, **seen)

    def inactive(self, row: Mapping, rule) -> None:
        fp, now = row["fingerprint"], self.now
        labels, value = row["labels"], row["value"]
        if row["state"] == "pending":
            if row["fired_at"] is None:
                self.conn.execute(sa.delete(alerts).where(alerts.c.fingerprint == fp))
            else:  # back to the end of its previous episode
                self.update(fp, state="resolved")
            self.record(fp, row["rule_id"], labels, "pending", "inactive", value,
                        "condition cleared before `for`", None)
            return
        keep = rule.keep_firing_for if rule is not None else dt.timedelta(0)
        if row["last_true_at"] is not None and now - row["last_true_at"] < keep:
            self.update(fp)
            return
        self.update(fp, state="resolved", resolved_at=now)
        reason = "condition false" if keep <= dt.timedelta(0) else \
            f"condition false for {_duration(now - row['last_true_at'])} (keep_firing_for " \
            f"{_duration(keep)})"
        self.record(fp, row["rule_id"], labels, "firing", "resolved", value, reason,
                    row["annotations"])


def apply(store, candidates: Iterable[Candidate], rules, now: dt.datetime, *,
          held: frozenset[str] = frozenset()) -> list[Transition]:
    """Move every alert one evaluation forward; returns the state changes made. Alerts of the
    ``held`` rules were not evaluated this time and are left exactly as they are, and so is an
    alert already evaluated after ``now`` (catch-up replaying hours that late posts changed):
    a later evaluation decided it, and rewriting it from an earlier instant would resolve or
    re-fire what was already announced."""
    by_rule = {rule.id: rule for rule in rules}
    true: dict[str, Candidate] = {}
    for c in candidates:
        if c.active:
            true.setdefault(fingerprint(c.labels), c)
    with store.transaction() as conn:
        open_rows = {row["fingerprint"]: row for row in conn.execute(
            sa.select(alerts).where(alerts.c.state.in_(("pending", "firing"))).with_for_update()
        ).mappings() if row["rule_id"] not in held}
        others = sorted(set(true) - set(open_rows))
        for start in range(0, len(others), _CHUNK):
            chunk = others[start:start + _CHUNK]
            open_rows.update({row["fingerprint"]: row for row in conn.execute(
                sa.select(alerts).where(alerts.c.fingerprint.in_(chunk)).with_for_update()
            ).mappings()})
        later = {fp for fp, row in open_rows.items() if row["evaluated_at"] > now}
        episode = _Episode(conn, now)
        for fp, c in true.items():
            if fp not in later:
                episode.active(fp, c, by_rule.get(c.rule_id), open_rows.get(fp))
        for fp, row in open_rows.items():
            if fp not in true and fp not in later and row["state"] in ("pending", "firing"):
                episode.inactive(row, by_rule.get(row["rule_id"]))
    return episode.transitions


def evaluate_alerts(service, now: dt.datetime) -> list[Transition]:
    """Pipeline stage: catch up on missed hours and on hours that late posts changed
    (alerts.catch_up), then evaluate every rule at ``now`` and advance the alerts table;
    returns the live evaluation's state changes."""
    settings = service.settings
    routes = list(resolve(settings.alerting.route).walk()) if settings.alerting.route else []
    held_rules = [r for r in settings.rules.rules if r.kind in LIVE_ONLY_KINDS]
    caught_up = catch_up(
        service.store, now, settings.alerting.catch_up,
        evaluate_at=lambda at: _evaluate(service, at, held_rules),
        dispatch_at=lambda at: dispatch(service, at),
        group_wait=max((r.group_wait for r in routes), default=dt.timedelta(0)))
    if caught_up.steps:
        log.info("alerts caught up", extra={"fields": {"hours": caught_up.steps}})
    candidates, transitions = _evaluate(service, now, [])
    if caught_up.until is not None:
        with service.store.transaction() as conn:
            save_watermark(conn, STAGE, caught_up.until, **caught_up.mark())
    log.info("alerts evaluated", extra={"fields": {
        "candidates": len(candidates), "active": sum(c.active for c in candidates),
        "changes": len(transitions)}})
    return transitions


def _evaluate(service, now: dt.datetime, held_rules) -> tuple[list[Candidate], list[Transition]]:
    settings = service.settings
    held = frozenset(r.id for r in held_rules)
    rules = [r for r in settings.rules.rules if r.id not in held]
    candidates = evaluate_rules(service.store, Scope.from_settings(settings), rules, now)
    transitions = apply(service.store, candidates, settings.rules.rules, now, held=held)
    for t in transitions:
        log.info("alert", extra={"fields": {
            "rule": t.rule_id, "locality": t.labels.get("locality"), "from": t.from_state or "-",
            "to": t.to_state, "value": t.value, "fingerprint": t.fingerprint[:12],
            "reason": t.reason, "at": now.isoformat(timespec="seconds")}})
    return candidates, transitions

"""The dispatch stage: from alert states to queued notifications, with Alertmanager's timing.

Each run looks at firing alerts (and resolved ones a group has announced as firing), drops the
silenced and inhibited, routes each through the tree and groups it by route and ``group_by``
values. Per group, kept in ``notification_groups``:

- a new group waits ``group_wait`` so alerts that start together arrive in one message;
- after a message the group waits ``group_interval`` before the next, so changes are batched;
- an unchanged group is re-sent only after ``repeat_interval``, and never for acknowledged alerts;
- a resolved alert is announced once (if the receiver has ``send_resolved``), then forgotten.

Every message is queued in ``outbox`` in the same transaction as the group state that records
it, so a crash can neither lose a message nor queue it twice. On PostgreSQL a transaction-level
advisory lock keeps a second worker from dispatching at the same time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update

from alerts.ack import acknowledged, clear_resolved
from alerts.messages import SEVERITY_RANK, MessageContext, render
from alerts.outbox import enqueue
from alerts.routing import (
    AlertingConfig,
    ReceiverTarget,
    ResolvedRoute,
    group_of,
    inhibited,
    match_routes,
    receiver_targets,
    resolve,
)
from alerts.silences import active_silences, silenced_by
from monitor.store import Store
from monitor.store.schema import alerts, notification_groups

log = logging.getLogger("tension.alerts")
LOCK_ID = 0x74656E73  # "tens": one dispatcher at a time on PostgreSQL


@dataclass
class DispatchReport:
    queued: int = 0
    groups: int = 0
    silenced: int = 0
    inhibited: int = 0
    acks_cleared: int = 0
    busy: bool = False  # another worker held the dispatch lock


@dataclass
class _Bucket:
    route: ResolvedRoute
    labels: dict[str, str]
    fingerprints: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Decision:
    firing: list[str]  # visible firing alerts, for the message
    resolved: list[str]  # resolved since announced, to announce now
    new: bool  # an unacknowledged alert not yet announced
    repeat: bool
    after_send: dict[str, str]  # last_sent_alerts if a message goes out
    unchanged: dict[str, str]  # last_sent_alerts if not

    @property
    def send(self) -> bool:
        return self.new or bool(self.resolved) or self.repeat


def idempotency_key(group_key: str, states: Mapping[str, str], flushed_at: dt.datetime) -> str:
    text = json.dumps([group_key, sorted(states.items()), flushed_at.isoformat()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def decide(*, prev: Mapping[str, str], members: set[str], alerts_by_fp: Mapping[str, dict], muted: set[str],
           last_sent_at: dt.datetime | None, route: ResolvedRoute, send_resolved: bool,
           now: dt.datetime) -> Decision:
    """What a group should say now, given what it last said (``prev``: {fingerprint: "firing"})."""
    current = {fp for fp in members if alerts_by_fp[fp]["state"] == "firing"}
    visible = current - muted
    new = any(fp not in prev and not alerts_by_fp[fp]["acked"] for fp in visible)
    gone = [fp for fp in prev if fp not in current]
    resolved = sorted(fp for fp in gone if fp in alerts_by_fp and fp not in muted
                      and alerts_by_fp[fp]["state"] == "resolved") if send_resolved else []
    repeat = (
        last_sent_at is not None
        and now >= last_sent_at + route.repeat_interval
        and any(not alerts_by_fp[fp]["acked"] for fp in visible)
    )
    kept_muted = {fp: "firing" for fp in prev if fp in current and fp in muted}
    return Decision(
        firing=sorted(visible, key=lambda fp: _order(alerts_by_fp[fp])),
        resolved=resolved,
        new=new,
        repeat=repeat,
        after_send={fp: "firing" for fp in visible} | kept_muted,
        unchanged={fp: state for fp, state in prev.items() if fp in current},
    )


def _order(alert: Mapping) -> tuple:
    fired = alert.get("fired_at") or alert.get("evaluated_at")
    return (-SEVERITY_RANK.get(alert["labels"].get("severity", ""), 0), fired, alert["fingerprint"])


def dispatch(service, now: dt.datetime) -> DispatchReport:
    """Pipeline stage: queue the notifications due at ``now``."""
    settings = service.settings
    report = run_dispatch(
        service.store, settings.alerting, now,
        context=MessageContext.from_settings(settings),
        targets=receiver_targets(settings.alerting, settings.environment.receiver_urls),
    )
    if report.queued or report.acks_cleared:
        log.info("dispatched", extra={"fields": {
            "queued": report.queued, "groups": report.groups, "silenced": report.silenced,
            "inhibited": report.inhibited, "acks_cleared": report.acks_cleared}})
    return report


def run_dispatch(store: Store, config: AlertingConfig, now: dt.datetime, *, context: MessageContext,
                 targets: Mapping[str, ReceiverTarget]) -> DispatchReport:
    report = DispatchReport()
    if config.route is None:
        return report
    tree = resolve(config.route)
    routes = {r.id: r for r in tree.walk()}
    with store.transaction() as conn:
        if store.dialect == "postgresql" and not conn.scalar(select(func.pg_try_advisory_xact_lock(LOCK_ID))):
            report.busy = True
            return report
        report.acks_cleared = clear_resolved(conn, now)
        by_fp = _load_alerts(conn)
        muted = _muted(conn, config, by_fp, now, report)
        buckets: dict[str, _Bucket] = {}
        for fp, alert in by_fp.items():
            for route in match_routes(tree, alert["labels"]):
                if route.receiver in targets:
                    key, labels = group_of(route, alert["labels"])
                    buckets.setdefault(key, _Bucket(route, labels)).fingerprints.add(fp)
        states = {row["group_key"]: dict(row) for row in conn.execute(select(notification_groups)).mappings()}
        for key in sorted(set(buckets) | set(states)):
            state = states.get(key)
            route = buckets[key].route if key in buckets else routes.get(state["route"])
            if route is None or route.receiver not in targets:
                conn.execute(delete(notification_groups).where(notification_groups.c.group_key == key))
                continue
            bucket = buckets.get(key) or _Bucket(route, state["labels"])
            report.queued += _flush(conn, key, bucket, state, targets[route.receiver], by_fp, muted,
                                    context, now)
        report.groups = conn.scalar(select(func.count()).select_from(notification_groups))
    return report


def _load_alerts(conn: Connection) -> dict[str, dict]:
    """Firing and resolved alerts. A pending alert whose earlier episode resolved counts as
    resolved here, so that resolution is still announced if it had not been yet."""
    rows = conn.execute(select(alerts).where(or_(
        alerts.c.state.in_(("firing", "resolved")),
        and_(alerts.c.state == "pending", alerts.c.resolved_at.is_not(None)),
    ))).mappings()
    out = {}
    for row in rows:
        alert = dict(row)
        if alert["state"] == "pending":
            alert["state"] = "resolved"
        alert["labels"] = alert["labels"] or {}
        alert["annotations"] = alert["annotations"] or {}
        alert["acked"] = alert["state"] == "firing" and acknowledged(alert)
        out[alert["fingerprint"]] = alert
    return out


def _muted(conn: Connection, config: AlertingConfig, by_fp: Mapping[str, dict], now: dt.datetime,
           report: DispatchReport) -> set[str]:
    silences = active_silences(conn, now)
    firing = {fp: a["labels"] for fp, a in by_fp.items() if a["state"] == "firing"}
    muted = set()
    for fp, alert in by_fp.items():
        if silenced_by(alert["labels"], silences):
            muted.add(fp)
            report.silenced += alert["state"] == "firing"
        elif inhibited(alert["labels"], fp, config.inhibit_rules, firing):
            muted.add(fp)
            report.inhibited += alert["state"] == "firing"
    return muted


def _flush(conn: Connection, key: str, bucket: _Bucket, state: dict | None, target: ReceiverTarget,
           by_fp: Mapping[str, dict], muted: set[str], context: MessageContext, now: dt.datetime) -> int:
    """Advance one group; returns the number of messages queued (0 or 1)."""
    route = bucket.route
    prev = dict(state["last_sent_alerts"]) if state else {}
    decision = decide(prev=prev, members=bucket.fingerprints, alerts_by_fp=by_fp, muted=muted,
                      last_sent_at=state["last_sent_at"] if state else None, route=route,
                      send_resolved=target.send_resolved, now=now)
    table = notification_groups
    where = table.c.group_key == key
    if state is None:
        if not decision.new:
            return 0
        state = {"next_flush_at": now + route.group_wait, "last_sent_at": None}
        conn.execute(insert(table).values(group_key=key, route=route.id, receiver=route.receiver,
                                          labels=bucket.labels, first_seen_at=now, last_sent_at=None,
                                          last_sent_alerts={}, next_flush_at=state["next_flush_at"]))
    if not prev and not decision.firing:
        conn.execute(delete(table).where(where))  # ended before anything was announced
        return 0
    if state["next_flush_at"] is not None and now < state["next_flush_at"]:
        return 0
    queued = 0
    if decision.send:
        states = {fp: "firing" for fp in decision.firing} | {fp: "resolved" for fp in decision.resolved}
        msg_key = idempotency_key(key, states, now)
        message = render(
            firing=[by_fp[fp] for fp in decision.firing], resolved=[by_fp[fp] for fp in decision.resolved],
            context=context, key=msg_key, group_key=key, receiver=route.receiver,
            body_format=target.body_format, repeat=decision.repeat and not decision.new and not decision.resolved,
        )
        queued = int(enqueue(conn, key=msg_key, receiver=route.receiver, group_key=key, kind="alert",
                             message=message, now=now))
        remembered = decision.after_send
        conn.execute(update(table).where(where).values(last_sent_at=now, last_sent_alerts=remembered,
                                                       next_flush_at=now + route.group_interval))
        log.info("notification queued", extra={"fields": {
            "receiver": route.receiver, "group": key, "firing": len(decision.firing),
            "resolved": len(decision.resolved), "repeat": decision.repeat, "ref": msg_key}})
    else:
        remembered = decision.unchanged
        if remembered != prev:
            conn.execute(update(table).where(where).values(last_sent_alerts=remembered))
    if not remembered and not decision.firing:
        conn.execute(delete(table).where(where))  # everything announced has resolved
    return queued

"""Acknowledging an alert: "someone is on it", so repeats stop until the alert resolves.

An acknowledgement belongs to one firing episode. It counts only if it was made after the alert
last started firing, and dispatch clears it when the alert resolves, so the next episode of the
same alert notifies again. Who acknowledged, when and why is kept on the alert and in the audit
log; officers see it in later messages about the same group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from monitor.audit import record as record_audit
from monitor.errors import TensionError
from monitor.store import Store
from monitor.store.schema import alerts

SYSTEM_ACTOR = "tension-monitor"
MIN_PREFIX = 6


class UnknownAlert(TensionError):
    """No alert (or more than one) has the fingerprint given."""


class NotAcknowledgeable(TensionError):
    """Only a firing alert can be acknowledged."""


def find_fingerprint(conn: Connection, given: str) -> str:
    """The full fingerprint for an exact value or a unique prefix (lists show a short form)."""
    given = given.strip()
    if conn.scalar(select(alerts.c.fingerprint).where(alerts.c.fingerprint == given)):
        return given
    if len(given) >= MIN_PREFIX:
        found = list(conn.scalars(
            select(alerts.c.fingerprint).where(alerts.c.fingerprint.startswith(given, autoescape=True)).limit(2)
        ))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UnknownAlert(f"fingerprint {given!r} is ambiguous (hint: give more characters)")
    raise UnknownAlert(f"no alert with fingerprint {given!r} (hint: `tension alerts list --state all`)")


def acknowledged(row) -> bool:
    """Whether an alert row carries an acknowledgement for its current firing episode."""
    at = row["acknowledged_at"]
    if at is None:
        return False
    fired = row["fired_at"]
    return fired is None or at >= fired


@dataclass(frozen=True)
class Acknowledgement:
    fingerprint: str
    by: str
    at: dt.datetime
    comment: str | None


def acknowledge(store: Store, fingerprint: str, *, by: str, comment: str | None,
                now: dt.datetime) -> Acknowledgement:
    by = by.strip()
    if not by:
        raise NotAcknowledgeable("say who is acknowledging (hint: --by NAME)")
    comment = (comment or "").strip() or None
    with store.transaction() as conn:
        fp = find_fingerprint(conn, fingerprint)
        row = conn.execute(select(alerts).where(alerts.c.fingerprint == fp)).mappings().one()
        if row["state"] != "firing":
            raise NotAcknowledgeable(
                f"alert {fp[:12]} is {row['state']}; only a firing alert can be acknowledged"
            )
        conn.execute(update(alerts).where(alerts.c.fingerprint == fp).values(
            acknowledged_by=by, acknowledged_at=now, ack_comment=comment))
        record_audit(conn, at=now, actor=by, action="alert.acknowledge", object_type="alert",
                     object_id=fp, detail={"comment": comment, "labels": row["labels"]})
    return Acknowledgement(fp, by, now, comment)


def clear_resolved(conn: Connection, now: dt.datetime) -> int:
    """Re-arm: drop acknowledgements of resolved alerts so their next episode notifies."""
    cleared = list(conn.execute(
        select(alerts.c.fingerprint, alerts.c.acknowledged_by)
        .where(alerts.c.state == "resolved", alerts.c.acknowledged_at.is_not(None))
    ))
    if not cleared:
        return 0
    conn.execute(
        update(alerts)
        .where(alerts.c.fingerprint.in_([fp for fp, _ in cleared]), alerts.c.state == "resolved")
        .values(acknowledged_by=None, acknowledged_at=None, ack_comment=None)
    )
    for fp, by in cleared:
        record_audit(conn, at=now, actor=SYSTEM_ACTOR, action="alert.ack_cleared", object_type="alert",
                     object_id=fp, detail={"reason": "alert resolved", "acknowledged_by": by})
    return len(cleared)

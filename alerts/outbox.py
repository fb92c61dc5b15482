"""The durable outbox between deciding to notify (dispatch) and sending (delivery).

Dispatch writes a message here in the same transaction as the group state that says it was
sent, so a crash can lose neither. Delivery claims due rows with one ``WITH due AS (SELECT ... FOR
UPDATE SKIP LOCKED) UPDATE ... FROM due RETURNING``: on PostgreSQL two workers get disjoint rows;
on SQLite the statement holds the single write lock. A claim pushes ``next_attempt_at`` out by a
lease and counts an attempt, so a worker that dies mid-send lets another retry after the lease,
and a message that keeps crashing its sender still ends ``dead`` after ``max_attempts``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from alerts.messages import Message
from monitor.store import Store
from monitor.store.schema import outbox

ERROR_MAX = 500


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    idempotency_key: str
    receiver: str
    group_key: str | None
    title: str
    body: str
    payload: dict
    attempts: int


def enqueue(conn: Connection, *, key: str, receiver: str, group_key: str | None, kind: str,
            message: Message, now: dt.datetime) -> bool:
    """Add a message in the caller's transaction; False if that key is already queued."""
    exists = conn.scalar(select(outbox.c.id).where(outbox.c.idempotency_key == key))
    if exists is not None:
        return False
    conn.execute(insert(outbox).values(
        idempotency_key=key, receiver=receiver, group_key=group_key, kind=kind, title=message.title,
        body=message.body, payload=message.payload, created_at=now, status="pending", attempts=0,
        next_attempt_at=now,
    ))
    return True


def claim(conn: Connection, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> list[OutboxMessage]:
    """Claim up to ``limit`` due messages in the caller's transaction (see the module docstring)."""
    due = (
        select(outbox.c.id)
        .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")  # evaluated once; an IN (subquery) may be re-run per row and overshoot LIMIT
    )
    stmt = (
        update(outbox)
        .where(outbox.c.id == due.c.id, outbox.c.status == "pending")
        .values(next_attempt_at=now + lease, attempts=outbox.c.attempts + 1)
        .returning(outbox.c.id, outbox.c.idempotency_key, outbox.c.receiver, outbox.c.group_key,
                   outbox.c.title, outbox.c.body, outbox.c.payload, outbox.c.attempts)
    )
    rows = [OutboxMessage(**row) for row in conn.execute(stmt).mappings()]
    return sorted(rows, key=lambda m: m.id)


def claim_due(store: Store, now: dt.datetime, *, limit: int, lease: dt.timedelta) -> list[OutboxMessage]:
    with store.transaction() as conn:
        return claim(conn, now, limit=limit, lease=lease)


def mark_sent(store: Store, message_id: int, now: dt.datetime) -> None:
    with store.transaction() as conn:
        conn.execute(update(outbox).where(outbox.c.id == message_id)
                     .values(status="sent", sent_at=now, last_error=None))


def backoff(attempts: int, *, base: dt.timedelta, cap: dt.timedelta, rng: random.Random) -> dt.timedelta:
    """Exponential from ``base``, capped, with jitter in the upper half so retries spread out."""
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))


def mark_failed(store: Store, message: OutboxMessage, now: dt.datetime, *, error: str, max_attempts: int,
                base: dt.timedelta, cap: dt.timedelta, rng: random.Random,
                payload: dict | None = None) -> str:
    """Record a failed attempt: back off and retry, or ``dead`` after ``max_attempts``."""
    error = " ".join(error.split())[:ERROR_MAX] or "unknown error"
    values: dict = {"last_error": error}
    if payload is not None:
        values["payload"] = payload
    if message.attempts >= max_attempts:
        values["status"] = "dead"
    else:
        values["next_attempt_at"] = now + backoff(message.attempts, base=base, cap=cap, rng=rng)
    with store.transaction() as conn:
        conn.execute(update(outbox).where(outbox.c.id == message.id).values(**values))
    return values.get("status", "pending")


def counts(store: Store) -> dict[str, int]:
    with store.transaction() as conn:
        rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
        return {status: n for status, n in rows}


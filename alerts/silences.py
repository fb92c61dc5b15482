"""Silences: "we know about this, stop telling us" for a set time, always with a reason.

A silence mutes every alert whose labels match all its matchers, from ``starts_at`` until
``ends_at`` or until someone expires it early. A reason and a creator are mandatory and every
change is audited, because a muted alert is a decision someone must be able to account for.
A silence can never mute everything: at least one matcher must fail on an empty label set.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, and_, insert, or_, select, update

from monitor.audit import record as record_audit
from alerts.routing import Matcher, MatcherField, matches_all
from monitor.errors import TensionError
from monitor.store import Store
from monitor.store.schema import silences

MAX_DURATION = dt.timedelta(days=30)
MIN_PREFIX = 6
_MATCHERS = TypeAdapter(tuple[MatcherField, ...])


class SilenceError(TensionError):
    """A silence cannot be created, found or expired as asked."""


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    reason: str
    created_by: str
    created_at: dt.datetime
    starts_at: dt.datetime
    ends_at: dt.datetime
    expired_at: dt.datetime | None

    def active(self, now: dt.datetime) -> bool:
        return self.starts_at <= now < self.ends_at and (self.expired_at is None or self.expired_at > now)

    def state(self, now: dt.datetime) -> str:
        if self.expired_at is not None and self.expired_at <= now or now >= self.ends_at:
            return "expired"
        return "active" if now >= self.starts_at else "pending"

    def matches(self, labels: Mapping[str, Any]) -> bool:
        return matches_all(self.matchers, labels)


def parse_matchers(values: Sequence[Any]) -> tuple[Matcher, ...]:
    try:
        matchers = _MATCHERS.validate_python(tuple(values))
    except ValidationError as exc:
        raise SilenceError(f"bad matcher: {exc.errors()[0]['msg']}") from None
    if not matchers:
        raise SilenceError("a silence needs at least one matcher (hint: --match locality=workington)")
    if all(m.matches({}) for m in matchers):
        raise SilenceError("these matchers would silence every alert; add one that names a label value")
    return matchers


def _from_row(row) -> Silence:
    return Silence(
        id=row["id"], matchers=_MATCHERS.validate_python(tuple(row["matchers"])), reason=row["reason"],
        created_by=row["created_by"], created_at=row["created_at"], starts_at=row["starts_at"],
        ends_at=row["ends_at"], expired_at=row["expired_at"],
    )


def add_silence(store: Store, matchers: Sequence[Any], *, reason: str, created_by: str,
                duration: dt.timedelta, now: dt.datetime, starts_at: dt.datetime | None = None) -> Silence:
    parsed = parse_matchers(matchers)
    reason, created_by = (reason or "").strip(), (created_by or "").strip()
    if not reason:
        raise SilenceError("a silence needs a reason (hint: --reason 'known event, police aware')")
    if not created_by:
        raise SilenceError("say who is creating the silence (hint: --by NAME)")
    if not dt.timedelta(0) < duration <= MAX_DURATION:
        raise SilenceError(f"a silence lasts more than 0 and at most {MAX_DURATION.days} days")
    starts = starts_at or now
    silence = Silence(str(uuid.uuid4()), parsed, reason, created_by, now, starts, starts + duration, None)
    stored = [m.model_dump() for m in parsed]
    with store.transaction() as conn:
        conn.execute(insert(silences).values(
            id=silence.id, matchers=stored, reason=reason, created_by=created_by, created_at=now,
            starts_at=silence.starts_at, ends_at=silence.ends_at, expired_at=None))
        record_audit(conn, at=now, actor=created_by, action="silence.create", object_type="silence",
                     object_id=silence.id, detail={"matchers": stored, "reason": reason,
                                                   "starts_at": starts.isoformat(),
                                                   "ends_at": silence.ends_at.isoformat()})
    return silence


def _find(conn: Connection, given: str) -> dict:
    given = given.strip()
    row = conn.execute(select(silences).where(silences.c.id == given)).mappings().first()
    if row is None and len(given) >= MIN_PREFIX:
        rows = conn.execute(
            select(silences).where(silences.c.id.startswith(given, autoescape=True)).limit(2)
        ).mappings().all()
        if len(rows) > 1:
            raise SilenceError(f"silence id {given!r} is ambiguous (hint: give more characters)")
        row = rows[0] if rows else None
    if row is None:
        raise SilenceError(f"no silence with id {given!r} (hint: `tension silences list --all`)")
    return dict(row)


def expire_silence(store: Store, silence_id: str, *, by: str, now: dt.datetime) -> Silence:
    """End a silence now; its alerts notify again at the next dispatch if still firing."""
    by = (by or "").strip()
    if not by:
        raise SilenceError("say who is expiring the silence (hint: --by NAME)")
    with store.transaction() as conn:
        row = _find(conn, silence_id)
        silence = _from_row(row)
        if silence.state(now) == "expired":
            raise SilenceError(f"silence {silence.id[:8]} has already expired")
        conn.execute(update(silences).where(silences.c.id == silence.id).values(expired_at=now))
        record_audit(conn, at=now, actor=by, action="silence.expire", object_type="silence",
                     object_id=silence.id, detail={"reason": silence.reason, "created_by": silence.created_by})
    return _from_row({**row, "expired_at": now})


def list_silences(store: Store, now: dt.datetime, *, include_expired: bool = False) -> list[Silence]:
    query = select(silences).order_by(silences.c.starts_at, silences.c.id)
    if not include_expired:
        query = query.where(_not_expired(now))
    with store.transaction() as conn:
        return [_from_row(row) for row in conn.execute(query).mappings()]


def _not_expired(now: dt.datetime):
    return and_(silences.c.ends_at > now, or_(silences.c.expired_at.is_(None), silences.c.expired_at > now))


def active_silences(conn: Connection, now: dt.datetime) -> list[Silence]:
    query = select(silences).where(silences.c.starts_at <= now, _not_expired(now))
    return [_from_row(row) for row in conn.execute(query).mappings()]


def silenced_by(labels: Mapping[str, Any], active: Sequence[Silence]) -> Silence | None:
    for silence in active:
        if silence.matches(labels):
            return silence
    return None

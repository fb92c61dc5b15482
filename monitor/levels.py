"""Tension levels as shown: the computed level, and the analyst's judgement beside it.

The index is a prompt, not a verdict. An analyst may set a locality's level with a reason (and
optionally an expiry); the briefing and dashboard then show the analyst's level while keeping
the computed one visible, so a reader can see where judgement and numbers differ. Every set
and clear is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, and_, or_, select

from monitor.errors import TensionError
from monitor.store import Store
from monitor.audit import record as record_audit
from monitor.store.schema import level_overrides, tension_levels

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class LevelView:
    locality_id: str
    name: str
    computed_level: int  # from the index; 1 when the locality had no posts that day
    index: float
    trend: float  # index change against the same day last week
    drivers: dict
    override_level: int | None
    override_reason: str | None
    set_by: str | None
    set_at: dt.datetime | None
    valid_until: dt.datetime | None
    shown_level: int  # the analyst's level where one is in force, else the computed level


def _check_known(locality_id: str, localities: Collection[str] | None) -> None:
    if localities is not None and locality_id not in localities:
        raise TensionError(f"unknown locality {locality_id!r} (hint: use an id from the localities file)")


def _in_force(at: dt.datetime):
    return and_(
        level_overrides.c.set_at <= at,
        or_(level_overrides.c.cleared_at.is_(None), level_overrides.c.cleared_at > at),
        or_(level_overrides.c.valid_until.is_(None), level_overrides.c.valid_until > at),
    )


def _active(locality_id: str, at: dt.datetime):
    return and_(level_overrides.c.locality_id == locality_id, _in_force(at))


def _audit(conn: Connection, now: dt.datetime, actor: str, action: str, locality_id: str,
           detail: dict) -> None:
    record_audit(conn, at=now, actor=actor, action=action, object_type="locality_level",
                 object_id=locality_id, detail=detail)


def _close_active(conn: Connection, locality_id: str, now: dt.datetime) -> list[int]:
    ids = list(conn.scalars(select(level_overrides.c.id).where(_active(locality_id, now))))
    if ids:
        conn.execute(sa.update(level_overrides).where(level_overrides.c.id.in_(ids))
                     .values(cleared_at=now))
    return ids


def set_level(store: Store, locality_id: str, level: int, reason: str, actor: str,
              now: dt.datetime, valid_until: dt.datetime | None = None, *,
              localities: Collection[str] | None = None) -> int:
    """Record an analyst's level for a locality (replacing any in force); returns its id."""
    _check_known(locality_id, localities)
    if not 1 <= level <= 5:
        raise TensionError(f"level must be 1 to 5, not {level}")
    if not reason or not reason.strip():
        raise TensionError("a reason is required to set a level (it is shown and audited)")
    if not actor or not actor.strip():
        raise TensionError("say who is setting the level (--by NAME)")
    if valid_until is not None and valid_until <= now:
        raise TensionError(f"valid until {valid_until.isoformat()} is not in the future")
    with store.transaction() as conn:
        replaced = _close_active(conn, locality_id, now)
        override_id = conn.execute(sa.insert(level_overrides).values(
            locality_id=locality_id, level=level, reason=reason.strip(), set_by=actor.strip(),
            set_at=now, valid_until=valid_until).returning(level_overrides.c.id)).scalar_one()
        _audit(conn, now, actor.strip(), "level.set", locality_id, {
            "override_id": override_id, "level": level, "reason": reason.strip(),
            "valid_until": valid_until.isoformat() if valid_until else None, "replaced": replaced})
    return override_id


def clear_level(store: Store, locality_id: str, reason: str, actor: str, now: dt.datetime, *,
                localities: Collection[str] | None = None) -> int:
    """End the analyst's level in force for a locality; returns how many were cleared."""
    _check_known(locality_id, localities)
    if not reason or not reason.strip():
        raise TensionError("a reason is required to clear a level (it is audited)")
    if not actor or not actor.strip():
        raise TensionError("say who is clearing the level (--by NAME)")
    with store.transaction() as conn:
        cleared = _close_active(conn, locality_id, now)
        if not cleared:
            raise TensionError(f"no analyst level is in force for {locality_id!r}")
        _audit(conn, now, actor.strip(), "level.clear", locality_id,
               {"override_ids": cleared, "reason": reason.strip()})
    return len(cleared)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def current_levels(store: Store, settings, day: dt.date, *,
                   now: dt.datetime | None = None) -> dict[str, LevelView]:
    """Every locality (and the area) for a UTC day: computed level beside the analyst's level.

    The analyst level shown is the one in force at the end of the day, or at ``now`` if that is
    earlier (so today's view reflects an override cleared an hour ago).
    """
    start = _midnight(day)
    at = start + DAY - dt.timedelta(microseconds=1)
    if now is not None and now < at:
        at = now
    area = settings.localities.area
    names = {area.id: area.name} | {loc.id: loc.name for loc in settings.localities.localities}
    with store.transaction() as conn:
        computed = {r["locality_id"]: r for r in conn.execute(
            select(tension_levels).where(tension_levels.c.day == start)).mappings()}
        overrides = {}
        query = (select(level_overrides).where(_in_force(at))
                 .order_by(level_overrides.c.set_at, level_overrides.c.id))
        for row in conn.execute(query).mappings():
            overrides[row["locality_id"]] = row  # the latest set wins
    views = {}
    for locality_id in list(names) + sorted(set(computed) - set(names)):
        row = computed.get(locality_id)
        override = overrides.get(locality_id)
        level = row["level"] if row else 1
        views[locality_id] = LevelView(
            locality_id=locality_id, name=names.get(locality_id, locality_id),
            computed_level=level, index=row["index"] if row else 0.0,
            trend=row["trend"] if row else 0.0, drivers=row["drivers"] if row else {},
            override_level=override["level"] if override else None,
            override_reason=override["reason"] if override else None,
            set_by=override["set_by"] if override else None,
            set_at=override["set_at"] if override else None,
            valid_until=override["valid_until"] if override else None,
            shown_level=override["level"] if override else level,
        )
    return views

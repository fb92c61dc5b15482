"""The briefing archive: every generated briefing as rendered, and the analyst's approval.

A briefing is archived as a draft with its figures (``data``), so approving it renders it again
from the same figures with the analyst's key judgement and without the draft mark. An edit of
the judgement and the approval are written to the audit log in the same transaction as the
change; an approved briefing is never changed again (generate a new version instead).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, func, select

from monitor.audit import record as record_audit
from monitor.briefing.period import Period
from monitor.briefing.render import Rendered, render
from monitor.errors import StorageError, TensionError
from monitor.store import Store
from monitor.store.schema import briefings

MAX_JUDGEMENT = 5000
SUMMARY = (briefings.c.id, briefings.c.period_start, briefings.c.period_end, briefings.c.version,
           briefings.c.created_at, briefings.c.status, briefings.c.approved_by, briefings.c.approved_at,
           briefings.c.judgement_edited_by)


class UnknownBriefing(TensionError):
    """No archived briefing has that id."""


@dataclass(frozen=True)
class BriefingSummary:
    id: int
    period_start: dt.datetime
    period_end: dt.datetime
    version: int
    created_at: dt.datetime
    status: str
    approved_by: str | None
    approved_at: dt.datetime | None
    judgement_edited_by: str | None


def next_version(store: Store, period: Period) -> int:
    with store.transaction() as conn:
        latest = conn.scalar(select(func.max(briefings.c.version)).where(
            briefings.c.period_start == period.start, briefings.c.period_end == period.end))
    return (latest or 0) + 1


def insert_draft(conn: Connection, period: Period, version: int, data: dict, judgement: str,
                 rendered: Rendered, now: dt.datetime) -> int:
    """Archive a new draft in the caller's transaction; returns its id. Two runs racing for one
    version number fail on the unique constraint (a one-line StorageError): run again."""
    return conn.execute(sa.insert(briefings).values(
        period_start=period.start, period_end=period.end, version=version, created_at=now,
        status="draft", key_judgement=judgement, html=rendered.html, markdown=rendered.markdown,
        pdf=rendered.pdf, data=data).returning(briefings.c.id)).scalar_one()


def existing(store: Store, period: Period, *, origin: str | None = None) -> list[int]:
    """Ids of archived briefings for exactly this period (optionally only from one origin)."""
    with store.transaction() as conn:
        rows = conn.execute(select(briefings.c.id, briefings.c.data).where(
            briefings.c.period_start == period.start, briefings.c.period_end == period.end)).all()
    return [i for i, data in rows if origin is None or (data or {}).get("meta", {}).get("origin") == origin]


def list_briefings(store: Store, *, limit: int = 50) -> list[BriefingSummary]:
    with store.transaction() as conn:
        rows = conn.execute(select(*SUMMARY).order_by(briefings.c.period_start.desc(), briefings.c.version.desc())
                            .limit(limit)).mappings().all()
    return [BriefingSummary(**row) for row in rows]


def load(store: Store, briefing_id: int) -> dict:
    with store.transaction() as conn:
        row = conn.execute(select(briefings).where(briefings.c.id == briefing_id)).mappings().first()
    if row is None:
        raise UnknownBriefing(f"no briefing with id {briefing_id} (hint: `tension briefing list`)")
    return dict(row)


def approve(store: Store, briefing_id: int, *, by: str, now: dt.datetime,
            judgement: str | None = None) -> dict:
    """Approve a draft, optionally replacing its key judgement; renders it again and audits both."""
    by = (by or "").strip()
    if not by:
        raise TensionError("say who is approving the briefing (--by NAME)")
    if judgement is not None:
        judgement = judgement.strip()
        if not judgement:
            raise TensionError("the key judgement given is empty")
        if len(judgement) > MAX_JUDGEMENT:
            raise TensionError(f"the key judgement is {len(judgement)} characters; keep it under {MAX_JUDGEMENT}")
    row = load(store, briefing_id)
    if row["status"] == "approved":
        raise TensionError(f"briefing {briefing_id} was already approved by {row['approved_by']} on "
                           f"{row['approved_at']:%Y-%m-%d %H:%M} UTC (generate a new version to change it)")
    edited = judgement is not None and judgement != row["key_judgement"]
    final = judgement if edited else row["key_judgement"]
    rendered = render(row["data"], judgement=final, status="approved", version=row["version"],
                      approved_by=by, approved_at=now)
    values = {"status": "approved", "approved_by": by, "approved_at": now, "key_judgement": final,
              "html": rendered.html, "markdown": rendered.markdown, "pdf": rendered.pdf}
    if edited:
        values |= {"judgement_edited_by": by, "judgement_edited_at": now}
    with store.transaction() as conn:
        changed = conn.execute(sa.update(briefings).where(
            briefings.c.id == briefing_id, briefings.c.status == "draft").values(**values)).rowcount
        if changed != 1:
            raise StorageError(f"briefing {briefing_id} changed while it was being approved; run the command again")
        detail = {"period": row["data"]["meta"]["period"]["label"], "version": row["version"]}
        if edited:
            record_audit(conn, at=now, actor=by, action="briefing.judgement_edit", object_type="briefing",
                         object_id=str(briefing_id),
                         detail=detail | {"drafted": row["key_judgement"], "edited": final})
        record_audit(conn, at=now, actor=by, action="briefing.approve", object_type="briefing",
                     object_id=str(briefing_id), detail=detail | {"judgement_edited": edited})
    return {**row, **values}

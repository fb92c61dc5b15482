"""Where a pipeline stage has got to, for stages whose progress is not derivable from their
own rows (alert catch-up, aggregation, amplification, emerging narratives): one row per stage."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from monitor.store.schema import stage_state


def watermark(conn: sa.Connection, stage: str) -> dt.datetime | None:
    return conn.scalar(sa.select(stage_state.c.watermark).where(stage_state.c.stage == stage))


def progress(conn: sa.Connection, stage: str) -> tuple[dt.datetime | None, dict]:
    """The watermark and the detail saved with it (empty when the stage has not run)."""
    row = conn.execute(sa.select(stage_state.c.watermark, stage_state.c.detail)
                       .where(stage_state.c.stage == stage)).first()
    return (row.watermark, dict(row.detail or {})) if row else (None, {})


def save_watermark(conn: sa.Connection, stage: str, at: dt.datetime, **detail) -> None:
    updated = conn.execute(sa.update(stage_state).where(stage_state.c.stage == stage)
                           .values(watermark=at, detail=detail)).rowcount
    if not updated:
        conn.execute(sa.insert(stage_state).values(stage=stage, watermark=at, detail=detail))

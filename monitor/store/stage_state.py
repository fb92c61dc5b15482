"""Where a pipeline stage has got to, for stages whose progress is not derivable from their
own rows (alert catch-up, amplification, emerging narratives): one row per stage name."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from monitor.store.schema import stage_state


def watermark(conn: sa.Connection, stage: str) -> dt.datetime | None:
    return conn.scalar(sa.select(stage_state.c.watermark).where(stage_state.c.stage == stage))


def save_watermark(conn: sa.Connection, stage: str, at: dt.datetime, **detail) -> None:
    updated = conn.execute(sa.update(stage_state).where(stage_state.c.stage == stage)
                           .values(watermark=at, detail=detail)).rowcount
    if not updated:
        conn.execute(sa.insert(stage_state).values(stage=stage, watermark=at, detail=detail))

"""Catch-up evaluation: the rules evaluated at every hour the service did not see live.

The alert stage normally evaluates the rules at ``now`` every tick. When it falls behind — the
service was stopped overnight, or a replay (the demo, a backfill) stored a week of posts in a
minute — evaluating only at ``now`` would miss everything that rose and fell in between: an
anomaly with ``for: 1h`` two days ago can never fire in a single evaluation. So before the live
evaluation, the stage replays the rules at the end of each missed hour, oldest first, with the
full lifecycle and dispatch at each step, as if it had been running:

* steps are the instants just before each hour boundary after the watermark (the time of the
  last evaluation, stored in ``stage_state``), so an hour window reads complete buckets and
  nothing from after the step. Day windows and the day's tension level still include the rest
  of that day (documented in docs/design.md as the catch-up's one look-ahead);
* no further back than ``alerting.catch_up`` (default 7 days; 0 turns catch-up off), and on the
  first run no earlier than the oldest aggregated hour;
* ``source_health`` rules are held (neither evaluated nor resolved) during catch-up: a
  source's past health is not recorded, only its present;
* dispatch runs at each step and again once its longest ``group_wait`` has passed, so an alert
  that fired and resolved while the service was behind is still announced, once, with its real
  times. Notifications are queued in the outbox and delivered by the delivery stage as usual.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from monitor.store.schema import locality_windows
from monitor.store.stage_state import save_watermark, watermark

STAGE = "alerts"
STEP = dt.timedelta(hours=1)
_BEFORE = dt.timedelta(microseconds=1)
# Held in catch-up: the past health of a source is not recorded, only its present.
LIVE_ONLY_KINDS = frozenset({"source_health"})


def steps(last: dt.datetime | None, oldest: dt.datetime | None, now: dt.datetime,
          limit: dt.timedelta) -> list[dt.datetime]:
    """Instants just before each hour boundary in (start, now], where start is the watermark
    (or the oldest aggregated hour on a first run), and never before ``now - limit``.

    Nothing when the stage is less than a step behind: live ticks already cover that."""
    if limit <= dt.timedelta(0):
        return []
    start = last if last is not None else oldest
    if start is None or now - start <= STEP:
        return []
    start = max(start, now - limit)
    boundary = start.replace(minute=0, second=0, microsecond=0) + STEP
    out = []
    while boundary <= now:
        at = boundary - _BEFORE
        if at > start:
            out.append(at)
        boundary += STEP
    return out


def oldest_hour(conn: sa.Connection) -> dt.datetime | None:
    return conn.scalar(sa.select(sa.func.min(locality_windows.c.start))
                       .where(locality_windows.c.window == "hour"))


def catch_up(store, now: dt.datetime, limit: dt.timedelta, *,
             evaluate_at: Callable[[dt.datetime], object],
             dispatch_at: Callable[[dt.datetime], object], group_wait: dt.timedelta) -> int:
    """Run the missed steps; returns how many. The watermark moves after each step, so a
    crash part-way resumes where it stopped."""
    with store.transaction() as conn:
        last, oldest = watermark(conn, STAGE), oldest_hour(conn)
    missed = steps(last, oldest, now, limit)
    for at in missed:
        evaluate_at(at)
        dispatch_at(at)
        dispatch_at(min(at + group_wait + dt.timedelta(seconds=1), now))
        with store.transaction() as conn:
            save_watermark(conn, STAGE, at, catch_up=True)
    return len(missed)

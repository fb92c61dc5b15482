"""Catch-up evaluation: the rules evaluated at every hour the service did not see live, once
that hour's posts are all counted, and again when late posts change it.

The alert stage normally evaluates the rules at ``now`` every tick. When it falls behind — the
service was stopped overnight, or a replay (the demo, a backfill) stored a week of posts in a
minute — evaluating only at ``now`` would miss everything that rose and fell in between: an
anomaly with ``for: 1h`` two days ago can never fire in a single evaluation. So before the live
evaluation, the stage replays the rules at the end of each missed hour, oldest first, with the
full lifecycle and dispatch at each step, as if it had been running:

* steps are the instants just before each hour boundary after the watermark (stored in
  ``stage_state``), so an hour window reads complete buckets and nothing from after the step.
  Day windows and the day's tension level still include the rest of that day (documented in
  docs/design.md as the catch-up's one look-ahead);
* no further back than ``alerting.catch_up`` (default 7 days; 0 turns catch-up off), and on the
  first run no earlier than the oldest aggregated hour; before anything is aggregated the
  watermark is not set at all, so posts that arrive after the first tick are still replayed;
* the watermark never passes the start of an hour that still has posts to count (collected but
  not scored, or scored since the last aggregation run): steps stop before it, and resume when
  scoring and aggregation have caught up. A post waiting longer than ``STUCK_AFTER`` is stuck,
  not late: its hour is evaluated without it, and the stage logs that it did so;
* when aggregation changes an hour the stage has already stepped past (late posts: a collector
  back from an outage, a backfill), the amplification stage stores a burst in one, or the
  emerging stage finds or changes a reportable story on its day, the watermark goes back to the
  start of that hour (or day) and the hours from there are replayed. Aggregation and the
  emerging stage stamp a window row with the time it last changed (``computed_at``), the
  amplification stage a burst with ``detected_at``; the stage saves the runs of the three it
  last read with its watermark, so each change is found once. An alert evaluated after a step's
  instant is left as it is at that step (``alerts.lifecycle.apply``), so a replay adds what the
  earlier evaluation could not see and never re-announces or resolves what was decided;
* ``source_health`` rules are held (neither evaluated nor resolved) during catch-up: a
  source's past health is not recorded, only its present;
* dispatch runs at each step and again once its longest ``group_wait`` has passed, so an alert
  that fired and resolved while the service was behind is still announced, once, with its real
  times. Notifications are queued in the outbox and delivered by the delivery stage as usual.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from monitor.aggregate import STAGE as AGGREGATION
from monitor.amplification import STAGE as AMPLIFICATION
from monitor.emerging import STAGE as EMERGING
from monitor.store.schema import (
    amplification_bursts,
    cluster_windows,
    locality_windows,
    post_scores,
    posts,
)
from monitor.store.stage_state import progress, save_watermark, watermark

log = logging.getLogger("tension.alerts")
STAGE = "alerts"
STEP = dt.timedelta(hours=1)
_BEFORE = dt.timedelta(microseconds=1)
# Held in catch-up: the past health of a source is not recorded, only its present.
LIVE_ONLY_KINDS = frozenset({"source_health"})
# A post collected this long ago and still unscored (or scored this long ago and still not
# aggregated) is stuck, not late: its hour is evaluated without it, and the stage logs that.
STUCK_AFTER = dt.timedelta(hours=1)


def steps(last: dt.datetime | None, oldest: dt.datetime | None, now: dt.datetime,
          limit: dt.timedelta, until: dt.datetime | None = None) -> list[dt.datetime]:
    """Instants just before each hour boundary in (start, now], where start is the watermark
    (or the oldest aggregated hour on a first run), and never before ``now - limit``; with
    ``until``, only the hours that end by then (the first hour with posts still to count).

    Nothing when the stage is less than a step behind: live ticks already cover that."""
    if limit <= dt.timedelta(0):
        return []
    start = last if last is not None else oldest
    if start is None or now - start <= STEP:
        return []
    start = max(start, now - limit)
    boundary = _hour(start) + STEP
    end = now if until is None else min(now, until)
    out = []
    while boundary <= end:
        at = boundary - _BEFORE
        if at > start:
            out.append(at)
        boundary += STEP
    return out


def _hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def oldest_hour(conn: sa.Connection) -> dt.datetime | None:
    return conn.scalar(sa.select(sa.func.min(locality_windows.c.start))
                       .where(locality_windows.c.window == "hour"))


def changed_hour(conn: sa.Connection, seen: Mapping[str, str | None],
                 read: Mapping[str, dt.datetime | None], since: dt.datetime) -> dt.datetime | None:
    """The earliest hour (from ``since``) whose counts aggregation changed, in which the
    amplification stage stored or extended a burst, or that starts a day in which the emerging
    stage found or changed a reportable story, after the runs the stage last read (``seen``: a
    stage missing there is skipped, one seen before it ever ran counts whole)."""
    windows, bursts, stories = locality_windows.c, amplification_bursts.c, cluster_windows.c
    hours = []
    for stage, stamp, hour, which in (
            (AGGREGATION, windows.computed_at, windows.start, windows.window == "hour"),
            (AMPLIFICATION, bursts.detected_at, bursts.started_at, sa.true()),
            (EMERGING, stories.computed_at, stories.start, stories.reportable.is_(True))):
        if stage not in seen or read.get(stage) is None:
            continue
        query = sa.select(sa.func.min(hour)).where(which, hour >= since, stamp <= read[stage])
        if seen[stage]:
            query = query.where(stamp > dt.datetime.fromisoformat(seen[stage]))
        found = conn.scalar(query)
        if found is not None:
            hours.append(_hour(found))
    return min(hours, default=None)


@dataclass(frozen=True)
class Waiting:
    """Posts published from some hour on that are not counted in the aggregates yet."""

    hour: dt.datetime | None  # the earliest hour holding one that may still be counted
    stuck_hour: dt.datetime | None  # the earliest hour holding a stuck one
    stuck: int


def waiting(conn: sa.Connection, since: dt.datetime, now: dt.datetime,
            aggregated: dt.datetime | None) -> Waiting:
    """Posts published since ``since`` still to be scored (a post with a ``post_scores`` row of
    any status is scored, one whose text retention purged needs none) or scored after the last
    aggregation run; those waiting longer than ``STUCK_AFTER`` are stuck."""
    cut = now - STUCK_AFTER
    s = post_scores.c
    unscored = sa.and_(s.post_id.is_(None), posts.c.text.is_not(None))
    uncounted = s.scored_at > aggregated if aggregated is not None else s.post_id.is_not(None)
    late = sa.or_(sa.and_(unscored, posts.c.collected_at >= cut), sa.and_(uncounted, s.scored_at >= cut))
    stuck = sa.or_(sa.and_(unscored, posts.c.collected_at < cut), sa.and_(uncounted, s.scored_at < cut))
    first, first_stuck, count = conn.execute(
        sa.select(sa.func.min(sa.case((late, posts.c.published_at))),
                  sa.func.min(sa.case((stuck, posts.c.published_at))),
                  sa.func.coalesce(sa.func.sum(sa.case((stuck, 1), else_=0)), 0))
        .select_from(posts.outerjoin(post_scores, s.post_id == posts.c.id))
        .where(posts.c.published_at >= since, sa.or_(unscored, uncounted))).one()
    return Waiting(_hour(first) if first else None, _hour(first_stuck) if first_stuck else None,
                   int(count))


@dataclass(frozen=True)
class CatchUp:
    """What one catch-up did, and where the watermark may go after the live evaluation."""

    steps: int
    until: dt.datetime | None  # None: nothing aggregated yet, so no watermark
    read: Mapping[str, dt.datetime | None]  # the runs of the stages it reads (saved with it)
    rewound_to: dt.datetime | None = None

    def mark(self) -> dict:
        return {stage: at.isoformat() if at else None for stage, at in self.read.items()}


def plan(conn: sa.Connection, now: dt.datetime,
         limit: dt.timedelta) -> tuple[list[dt.datetime], CatchUp, Waiting]:
    """The steps to run now. A watermark that goes back (to an hour it has passed that changed,
    or that has posts still to count) is saved here, with the stage runs it was read from."""
    last, seen = progress(conn, STAGE)
    read = {stage: watermark(conn, stage) for stage in (AGGREGATION, AMPLIFICATION, EMERGING)}
    if limit <= dt.timedelta(0):
        return [], CatchUp(0, now, read), Waiting(None, None, 0)
    start = last if last is not None else oldest_hour(conn)
    if start is None:
        return [], CatchUp(0, None, read), Waiting(None, None, 0)
    floor = _hour(now - limit)
    held = waiting(conn, floor, now, read[AGGREGATION])
    back = [held.hour]
    if last is not None:
        back.append(changed_hour(conn, seen, read, floor))
    passed = [hour for hour in back if hour is not None and last is not None
              and hour + STEP - _BEFORE <= last]
    result = CatchUp(0, now if held.hour is None else min(now, held.hour), read,
                     min(passed) if passed else None)
    if result.rewound_to is not None:
        start = result.rewound_to
        save_watermark(conn, STAGE, start, **result.mark())
    todo = steps(start, None, now, limit, until=held.hour)
    return todo, dataclasses.replace(result, steps=len(todo)), held


def catch_up(store, now: dt.datetime, limit: dt.timedelta, *,
             evaluate_at: Callable[[dt.datetime], object],
             dispatch_at: Callable[[dt.datetime], object], group_wait: dt.timedelta) -> CatchUp:
    """Run the missed steps. The watermark moves after each step, so a crash part-way resumes
    where it stopped; after the live evaluation the caller saves ``until``."""
    with store.transaction() as conn:
        todo, result, held = plan(conn, now, limit)
    if result.rewound_to is not None:
        log.info("alerts rewound", extra={"fields": {
            "to": result.rewound_to.isoformat(timespec="minutes"), "steps": len(todo)}})
    if held.stuck and todo and todo[-1] > held.stuck_hour:
        log.warning("hours evaluated with posts not yet counted", extra={"fields": {
            "posts": held.stuck, "from": held.stuck_hour.isoformat(timespec="minutes"),
            "waited_over": f"{int(STUCK_AFTER.total_seconds() // 60)}m"}})
    for at in todo:
        evaluate_at(at)
        dispatch_at(at)
        dispatch_at(min(at + group_wait + dt.timedelta(seconds=1), now))
        with store.transaction() as conn:
            save_watermark(conn, STAGE, at, **result.mark())
    return result

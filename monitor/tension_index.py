"""The tension index: one number 0-100 per locality and UTC day, and the 1-5 level it maps to.

index = 100 * sum(weight_c * intensity_c) / sum(weight_c), where each component's intensity is
its value divided by its saturation, capped at 1:

* hate, offensive, mobilisation: posts labelled so / max(scored posts, min_posts);
* narrative: max(conspiracy-labelled, false/misleading-narrative posts) / the same denominator;
* tension: the mean post tension score over the same denominator;
* volume: the robust z-score of the day's posts against the same weekday in earlier weeks
  (an EWMA of earlier days while there are under two such weeks), 0 below volume_min_posts.

Dividing by at least ``min_posts`` is the small-place guard: three hateful posts in a village
give a 30% share at most, never 100%. The formula, its reasons and how to tune it are in
docs/tension-index.md; every number behind a level is kept in ``drivers`` so it can be checked.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, func, select

from monitor.baselines import Anomaly, anomaly, ewma, same_hour_of_week
from monitor.store.schema import locality_windows, tension_levels

DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
COMPONENTS = ("hate", "narrative", "mobilisation", "offensive", "tension", "volume")
LEVEL_COLOURS = {1: "green", 2: "green", 3: "amber", 4: "red", 5: "red"}


@dataclass(frozen=True)
class IndexResult:
    index: float  # 0-100
    level: int  # 1-5
    drivers: dict  # components with value, intensity and points; counts; the volume baseline


# An index change of at least this many points against last week shows as a rising/falling arrow.
TREND_STEP = 5.0


def trend_arrow(trend: float) -> str:
    return "↑" if trend >= TREND_STEP else "↓" if trend <= -TREND_STEP else "→"


def describe_drivers(drivers: Mapping, *, top: int = 3) -> str:
    """The components that moved the index, for a table cell: "hate 25% +30, volume z=7.1 +10"."""
    parts = []
    for c in drivers.get("components", [])[:top]:
        if c["points"] < 1:
            continue
        value = f"z={c['value']:.1f}" if c["component"] == "volume" else f"{c['value']:.0%}"
        if c["component"] == "tension":
            value = f"mean {c['value']:.2f}"
        parts.append(f"{c['component']} {value} +{c['points']:.0f}")
    return ", ".join(parts) or "-"


def level_for(index: float, cuts: Sequence[float]) -> int:
    """1 plus the number of cut points the index has reached."""
    return 1 + sum(index >= cut for cut in cuts)


def volume_anomaly(posts: int, daily: Mapping[dt.datetime, float], day: dt.datetime,
                   observed_from: dt.datetime | None, agg) -> Anomaly:
    """The day's posts against the same weekday over ``baseline_weeks``, else an EWMA of days."""
    same = same_hour_of_week(daily, day, agg.baseline_weeks, observed_from=observed_from)
    if len(same) >= 2:
        return anomaly(posts, same, kind="same_weekday", min_count=agg.volume_min_posts)
    start = max(observed_from, day - 4 * WEEK) if observed_from else day - 4 * WEEK
    trailing = [float(daily.get(start + i * DAY, 0.0)) for i in range(max(0, (day - start) // DAY))]
    history = [ewma(trailing, agg.ewma_alpha)] if trailing else []
    return anomaly(posts, history, kind="ewma", min_count=agg.volume_min_posts)


def compute_index(row: Mapping, daily: Mapping[dt.datetime, float], day: dt.datetime,
                  observed_from: dt.datetime | None, agg) -> IndexResult:
    """The index for one locality-day from its day window ``row`` and its daily post history."""
    denominator = max(int(row.get("scored", 0)), agg.min_posts)
    volume = volume_anomaly(int(row.get("posts", 0)), daily, day, observed_from, agg)
    values = {
        "hate": row.get("hate", 0) / denominator,
        "narrative": max(row.get("narrative", 0), row.get("conspiracy", 0)) / denominator,
        "mobilisation": row.get("mobilisation", 0) / denominator,
        "offensive": row.get("offensive", 0) / denominator,
        "tension": row.get("tension_sum", 0.0) / denominator,
        "volume": volume.z if volume.guard is None else 0.0,
    }
    weights = agg.weights.model_dump()
    saturation = agg.saturation.model_dump()
    total_weight = sum(weights.values())
    components = []
    for name in COMPONENTS:
        intensity = min(1.0, max(0.0, values[name] / saturation[name]))
        points = 100.0 * weights[name] * intensity / total_weight
        components.append({"component": name, "value": round(values[name], 4),
                           "intensity": round(intensity, 3), "points": round(points, 2)})
    components.sort(key=lambda c: -c["points"])
    index = round(min(100.0, sum(c["points"] for c in components)), 1)
    drivers = {
        "components": components,
        "posts": int(row.get("posts", 0)),
        "scored": int(row.get("scored", 0)),
        "denominator": denominator,
        "volume": {"baseline": volume.baseline_kind, "expected": round(volume.expected, 2),
                   "z": round(volume.z, 2), "p_value": float(f"{volume.p_value:.3g}"),
                   "guard": volume.guard},
    }
    return IndexResult(index, level_for(index, agg.level_cuts), drivers)


def _day_windows(conn: Connection, first: dt.datetime | None, last: dt.datetime | None) -> dict:
    query = select(locality_windows).where(locality_windows.c.window == "day")
    if first is not None:
        query = query.where(locality_windows.c.start >= first, locality_windows.c.start <= last)
    by_locality: dict[str, dict[dt.datetime, dict]] = defaultdict(dict)
    for row in conn.execute(query).mappings():
        by_locality[row["locality_id"]][row["start"]] = dict(row)
    return by_locality


def write_levels(conn: Connection, settings, days: Sequence[dt.datetime] | None,
                 now: dt.datetime) -> int:
    """Recompute ``tension_levels`` for the given UTC days (every day with windows if None)."""
    agg = settings.main.aggregation
    observed_from = conn.scalar(
        select(func.min(locality_windows.c.start)).where(locality_windows.c.window == "day"))
    if observed_from is None:
        return 0
    if days is None:
        windows = _day_windows(conn, None, None)
        wanted = None
        conn.execute(sa.delete(tension_levels))
    else:
        if not days:
            return 0
        history = max(agg.baseline_weeks, 4) * WEEK + WEEK
        windows = _day_windows(conn, min(days) - history, max(days))
        wanted = set(days)
        conn.execute(sa.delete(tension_levels).where(tension_levels.c.day.in_(sorted(wanted))))
    rows = []
    for locality_id, by_day in windows.items():
        daily = {start: float(row["posts"]) for start, row in by_day.items()}
        for day, row in by_day.items():
            if wanted is not None and day not in wanted:
                continue
            result = compute_index(row, daily, day, observed_from, agg)
            trend = 0.0
            before = day - WEEK
            if before >= observed_from:
                past = by_day.get(before, {})
                trend = result.index - compute_index(past, daily, before, observed_from, agg).index
            rows.append({"locality_id": locality_id, "day": day, "index": result.index,
                         "level": result.level, "trend": round(trend, 1),
                         "drivers": result.drivers, "computed_at": now})
    if rows:
        conn.execute(sa.insert(tension_levels), rows)
    return len(rows)

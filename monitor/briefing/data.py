"""The week's figures, gathered with SQL over the aggregate tables.

Levels come from ``tension_levels`` and ``level_overrides``, volumes and incident counts from
the area's ``locality_windows`` day rows, alerts from ``alert_events`` and the audit log,
source health from ``fetch_state``. Posts are read only where no aggregate holds the answer:
community reports by category, posts per source, and calls to gather (``online.py``), each
over the period's date range. The result is plain JSON (ISO times) so it can be archived with
the briefing and rendered again after an analyst approves it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import Connection, and_, func, or_, select

from monitor import __version__
from monitor.briefing import online, operations
from monitor.briefing.period import Period
from monitor.privacy import clean_excerpt
from monitor.store import Store
from monitor.store.schema import level_overrides, locality_windows, posts, tension_levels
from monitor.tension_index import LEVEL_COLOURS, describe_drivers, trend_arrow

# Area day-window counts shown in section 4, with how the briefing names them.
INCIDENTS = (
    ("posts", "Posts about the area (all)"),
    ("hate", "Posts labelled hateful (possible offences: refer to police)"),
    ("offensive", "Posts labelled offensive"),
    ("conspiracy", "Posts labelled conspiracy"),
    ("narrative", "Posts matching a false or misleading narrative"),
    ("mobilisation", "Posts calling people to gather or act"),
    ("sites", "Posts mentioning a sensitive site"),
    ("reports", "Community reports"),
    ("unread", "Posts in other languages (counted, not read)"),
)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def gather(store: Store, settings, period: Period, now: dt.datetime, *, origin: str = "cli") -> dict:
    """Everything the briefing shows, for one period."""
    area = settings.localities.area
    briefing = settings.main.briefing
    with store.transaction() as conn:
        localities = locality_levels(conn, settings, period)
        history = monitored_history(conn, settings, period)
        data = {
            "meta": {
                "area": {"id": area.id, "name": area.name},
                "period": period_meta(period),
                "previous": period_meta(period.previous()),
                "generated_at": iso(now),
                "software_version": __version__,
                "marking": briefing.marking,
                "distribution": list(briefing.distribution),
                "timezone": settings.main.timezone,
                "origin": origin,
                "attribution": settings.localities.attribution,
                "method": method(settings),
            },
            "overall": localities.pop(area.id),
            "localities": sorted(localities.values(), key=lambda r: (-r["shown_level"], -r["index"], r["name"])),
            "volume": area_volume(conn, area.id, period),
            "incidents": incidents(conn, settings, period, history),
            "reports": report_categories(conn, period, history),
            "alerts": operations.alert_summary(conn, settings, period),
            "sources": operations.source_health(conn, settings, period),
        }
        data |= online.gather(conn, settings, period)
    return data


def method(settings) -> dict:
    """The settings a reader needs to interpret the figures (printed in section 10)."""
    agg = settings.main.aggregation
    return {"level_cuts": [f"{cut:g}" for cut in agg.level_cuts], "min_posts": agg.min_posts,
            "baseline_weeks": agg.baseline_weeks, "min_confidence": agg.min_confidence,
            "retention_days": settings.main.retention_days,
            "look_ahead_days": settings.main.briefing.look_ahead.days}


def period_meta(period: Period) -> dict:
    return {"start": iso(period.start), "end": iso(period.end), "label": period.label,
            "iso_week": period.iso_week, "days": [iso(d) for d in period.days]}


def _names(settings) -> dict[str, str]:
    loc = settings.localities
    return {loc.area.id: loc.area.name} | {p.id: p.name for p in loc.localities}


def _overrides(conn: Connection, period: Period) -> dict[str, dict]:
    """The analyst's level for each locality in force at some point in the period (latest wins)."""
    overlapping = and_(
        level_overrides.c.set_at < period.end,
        or_(level_overrides.c.cleared_at.is_(None), level_overrides.c.cleared_at > period.start),
        or_(level_overrides.c.valid_until.is_(None), level_overrides.c.valid_until > period.start),
    )
    found = {}
    query = select(level_overrides).where(overlapping).order_by(level_overrides.c.set_at, level_overrides.c.id)
    for row in conn.execute(query).mappings():
        ended = min((t for t in (row["cleared_at"], row["valid_until"]) if t is not None), default=None)
        found[row["locality_id"]] = {"level": row["level"], "reason": clean_excerpt(row["reason"], 200),
                                     "set_at": iso(row["set_at"]), "until": iso(ended)}
    return found


def locality_levels(conn: Connection, settings, period: Period) -> dict[str, dict]:
    """Per locality (and the area): peak computed level and index in the period, the previous
    period's peak, the daily indexes, the peak day's drivers and the analyst's level."""
    previous = period.previous()
    rows = conn.execute(select(tension_levels).where(
        tension_levels.c.day >= previous.start, tension_levels.c.day < period.end)).mappings()
    now_rows: dict[str, list] = defaultdict(list)
    before: dict[str, float] = defaultdict(float)
    for row in rows:
        if row["day"] >= period.start:
            now_rows[row["locality_id"]].append(row)
        else:
            before[row["locality_id"]] = max(before[row["locality_id"]], row["index"])
    first_day = conn.scalar(select(func.min(tension_levels.c.day)))
    comparable = first_day is not None and first_day < period.start  # monitoring before the period
    posts_now = _locality_posts(conn, period)
    posts_before = _locality_posts(conn, previous)
    overrides = _overrides(conn, period)
    day_index = {d: i for i, d in enumerate(period.days)}
    by_id = settings.localities.by_id()
    out = {}
    for locality_id, name in _names(settings).items():
        days = now_rows.get(locality_id, [])
        peak = max(days, key=lambda r: (r["level"], r["index"]), default=None)
        daily = [0.0] * len(day_index)
        for r in days:
            daily[day_index[r["day"]]] = r["index"]
        level = peak["level"] if peak else 1
        index = peak["index"] if peak else 0.0
        change = round(index - before.get(locality_id, 0.0), 1) if comparable else None
        analyst = overrides.get(locality_id)
        place = by_id.get(locality_id)
        out[locality_id] = {
            "id": locality_id, "name": name, "level": level, "colour": LEVEL_COLOURS[level],
            "index": index, "mean_index": round(sum(daily) / len(daily), 1) if daily else 0.0,
            "peak_day": iso(peak["day"]) if peak else None,
            "previous_index": before.get(locality_id, 0.0) if comparable else None, "change": change,
            "arrow": trend_arrow(change) if comparable else "–",
            "drivers": describe_drivers(peak["drivers"]) if peak else "-",
            "analyst": analyst, "shown_level": analyst["level"] if analyst else level,
            "posts": posts_now.get(locality_id, 0), "previous_posts": posts_before.get(locality_id, 0),
            "daily": daily,
            "latitude": place.latitude if place else None, "longitude": place.longitude if place else None,
            "population": place.population if place else None, "kind": place.kind if place else "area",
        }
    return out


def _locality_posts(conn: Connection, period: Period) -> dict[str, int]:
    query = (select(locality_windows.c.locality_id, func.sum(locality_windows.c.posts))
             .where(locality_windows.c.window == "day", locality_windows.c.start >= period.start,
                    locality_windows.c.start < period.end)
             .group_by(locality_windows.c.locality_id))
    return {locality_id: int(n or 0) for locality_id, n in conn.execute(query)}


def area_volume(conn: Connection, area_id: str, period: Period) -> list[dict]:
    """The area's posts per day against the expected count behind its volume component."""
    counts = dict(conn.execute(select(locality_windows.c.start, locality_windows.c.posts).where(
        locality_windows.c.locality_id == area_id, locality_windows.c.window == "day",
        locality_windows.c.start >= period.start, locality_windows.c.start < period.end)).all())
    expected = {day: (drivers or {}).get("volume", {}).get("expected") for day, drivers in conn.execute(
        select(tension_levels.c.day, tension_levels.c.drivers).where(
            tension_levels.c.locality_id == area_id, tension_levels.c.day >= period.start,
            tension_levels.c.day < period.end))}
    return [{"day": iso(day), "posts": int(counts.get(day, 0)), "expected": expected.get(day)}
            for day in period.days]


def _history(period: Period, weeks: int) -> list[Period]:
    """The ``weeks`` periods of the same length before this one, newest first."""
    out, current = [], period
    for _ in range(weeks):
        current = current.previous()
        out.append(current)
    return out


def monitored_history(conn: Connection, settings, period: Period) -> list[Period]:
    """Up to ``baseline_weeks`` earlier periods of the same length, those with monitoring only."""
    observed_from = conn.scalar(select(func.min(locality_windows.c.start)).where(
        locality_windows.c.window == "day"))
    return [p for p in _history(period, settings.main.aggregation.baseline_weeks)
            if observed_from is not None and p.start >= observed_from]


def incidents(conn: Connection, settings, period: Period, usable: list[Period]) -> list[dict]:
    """Area totals in the period against the mean of earlier periods that had monitoring."""
    columns = [getattr(locality_windows.c, key) for key, _ in INCIDENTS]
    rows = conn.execute(select(locality_windows.c.start, *columns).where(
        locality_windows.c.locality_id == settings.localities.area.id,
        locality_windows.c.window == "day", locality_windows.c.start >= min(p.start for p in [period, *usable]),
        locality_windows.c.start < period.end)).all()
    totals = {p: Counter() for p in [period, *usable]}
    for row in rows:
        for p in totals:
            if p.start <= row[0] < p.end:
                for (key, _), value in zip(INCIDENTS, row[1:]):
                    totals[p][key] += int(value or 0)
    return [_against(key, label, totals[period][key], [totals[p][key] for p in usable])
            for key, label in INCIDENTS]


def _against(key: str, label: str, count: int, history: list[int]) -> dict:
    baseline = round(sum(history) / len(history), 2) if history else None
    change = None if not baseline else round(100.0 * (count - baseline) / baseline)
    return {"key": key, "label": label, "count": count, "baseline": baseline,
            "change_pct": change, "baseline_periods": len(history)}


def report_categories(conn: Connection, period: Period, usable: list[Period]) -> list[dict]:
    """Community reports (posts on platform "report") by category, against earlier periods."""
    rows = conn.execute(select(posts.c.published_at, posts.c.meta).where(
        posts.c.platform == "report", posts.c.published_at >= min(p.start for p in [period, *usable]),
        posts.c.published_at < period.end)).all()
    totals = {p: Counter() for p in [period, *usable]}
    for when, meta in rows:
        category = str((meta or {}).get("category") or "not given").replace("_", " ")
        for p in totals:
            if p.start <= when < p.end:
                totals[p][category] += 1
    names = sorted(set().union(*totals.values()), key=lambda c: (-totals[period][c], c))
    return [_against(c, c, totals[period][c], [totals[p][c] for p in usable]) for c in names]

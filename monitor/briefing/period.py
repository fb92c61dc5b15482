"""The period a briefing covers: an ISO week or a run of whole UTC days.

Periods are whole UTC days because the aggregates and tension levels are kept per UTC day; in
British Summer Time a briefing "week" therefore runs from 01:00 Monday to 01:00 Monday UK time.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from monitor.errors import TensionError

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
MAX_DAYS = 31
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    start: dt.datetime  # UTC midnight, inclusive
    end: dt.datetime  # UTC midnight, exclusive

    @property
    def days(self) -> list[dt.datetime]:
        return [self.start + i * DAY for i in range((self.end - self.start) // DAY)]

    @property
    def length(self) -> dt.timedelta:
        return self.end - self.start

    @property
    def iso_week(self) -> str | None:
        """"2026-W47" when the period is exactly one ISO week, else None."""
        year, week, weekday = self.start.isocalendar()
        return f"{year}-W{week:02d}" if weekday == 1 and self.length == 7 * DAY else None

    @property
    def label(self) -> str:
        """A short name for files and references: 2026-W47 or 2026-11-16_2026-11-22."""
        last = self.end - DAY
        return self.iso_week or f"{self.start:%Y-%m-%d}_{last:%Y-%m-%d}"

    def previous(self) -> Period:
        return Period(self.start - self.length, self.start)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def iso_week(value: str) -> Period:
    found = _WEEK.match(value.strip())
    if not found:
        raise TensionError(f"--week {value!r} is not an ISO week such as 2026-W47")
    year, week = int(found.group(1)), int(found.group(2))
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise TensionError(f"--week {value!r}: {year} has no week {week}") from None
    start = _midnight(monday)
    return Period(start, start + 7 * DAY)


def _date(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise TensionError(f"{option} {value!r} is not a date such as 2026-11-16") from None


def day_range(first: str, last: str) -> Period:
    """--from and --to, both inclusive UTC days."""
    a, b = _date("--from", first), _date("--to", last)
    if b < a:
        raise TensionError(f"--to {last} is before --from {first}")
    if (b - a).days + 1 > MAX_DAYS:
        raise TensionError(f"--from {first} --to {last} spans {(b - a).days + 1} days; "
                           f"a briefing covers at most {MAX_DAYS}")
    return Period(_midnight(a), _midnight(b) + DAY)


def last_complete_week(now: dt.datetime) -> Period:
    """The ISO week (UTC days) before the one holding ``now``: what Monday's briefing covers."""
    today = now.astimezone(UTC).date()
    monday = _midnight(today - dt.timedelta(days=today.weekday()))
    return Period(monday - 7 * DAY, monday)


def choose(week: str | None, first: str | None, last: str | None, now: dt.datetime) -> Period:
    """The period the CLI options name: --week, or --from and --to, else the last full week."""
    if week is not None and (first is not None or last is not None):
        raise TensionError("give either --week or --from/--to, not both")
    if week is not None:
        return iso_week(week)
    if (first is None) != (last is None):
        raise TensionError("--from and --to go together (both inclusive UTC days)")
    if first is not None:
        return day_range(first, last)
    return last_complete_week(now)

"""The date and time a call to gather names: "Saturday 21st November, 2pm", "tomorrow at 2".

Only what is written is read: a weekday, a day of the month (with or without the month),
"today", "tonight" or "tomorrow", and a clock time. The date is worked out from the post's own
(local) date: a weekday means its next occurrence, a bare day of the month the next such day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
_WEEKDAY = re.compile(r"\b(mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rday|sday|urday)?\b",
                      re.IGNORECASE)
_RELATIVE = re.compile(r"\b(today|tonight|tomorrow|tmrw|tmw)\b", re.IGNORECASE)
_DAY_MONTH = re.compile(r"\b([0-3]?\d)(?:st|nd|rd|th)?(?:\s+of)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|"
                        r"nov|dec)[a-z]*\b", re.IGNORECASE)
_NUMERIC = re.compile(r"\b([0-3]?\d)/([01]?\d)(?:/\d{2,4})?\b")
_ORDINAL = re.compile(r"\b([0-3]?\d)(st|nd|rd|th)\b", re.IGNORECASE)
_CLOCK = re.compile(r"\b([01]?\d|2[0-3])(?:[.:]([0-5]\d))?\s*(am|pm)\b|\b([01]?\d|2[0-3]):([0-5]\d)\b",
                    re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    phrase: str  # normalised: "Saturday 21 November 14:00"; "" when nothing was named
    date: dt.date | None


def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def _weekday(token: str) -> int:
    return next(i for i, name in enumerate(WEEKDAYS) if name.startswith(token.lower()[:3]))


def _next_weekday(after: dt.date, weekday: int) -> dt.date:
    return after + dt.timedelta(days=(weekday - after.weekday()) % 7)


def _day_of_month(posted: dt.date, day: int, weekday: int | None) -> dt.date | None:
    """The day ``day`` of last, this or next month nearest the post, preferring one that is not
    days past and one on the weekday named ("Saturday 21st")."""
    candidates = []
    for shift in (-1, 0, 1):
        month = posted.month + shift
        year = posted.year + (month - 1) // 12
        try:
            candidates.append(dt.date(year, (month - 1) % 12 + 1, day))
        except ValueError:
            continue
    if weekday is not None and any(c.weekday() == weekday for c in candidates):
        candidates = [c for c in candidates if c.weekday() == weekday]
    stale = posted - dt.timedelta(days=2)
    return min(candidates, key=lambda c: (c < stale, abs((c - posted).days)), default=None)


def _date(text: str, posted: dt.date) -> tuple[dt.date | None, int | None]:
    """(date named, weekday named) from the text, relative to the post's date."""
    weekday_match = _WEEKDAY.search(text)
    weekday = _weekday(weekday_match.group(1)) if weekday_match else None
    found = _DAY_MONTH.search(text)
    if found:
        month = next(i for i, m in enumerate(MONTHS, 1) if m.startswith(found.group(2).lower()[:3]))
        for year in (posted.year, posted.year + 1):
            try:
                day = dt.date(year, month, int(found.group(1)))
            except ValueError:
                return None, weekday
            if day >= posted - dt.timedelta(days=31):
                return day, weekday
    found = _NUMERIC.search(text)
    if found:
        try:
            day = dt.date(posted.year, int(found.group(2)), int(found.group(1)))
        except ValueError:
            day = None
        if day is not None:
            return day, weekday
    relative = _RELATIVE.search(text)
    if relative:
        word = relative.group(1).lower()
        return posted + dt.timedelta(days=1 if word.startswith("t") and word not in ("today", "tonight")
                                     else 0), weekday
    found = _ORDINAL.search(text)
    if found:
        return _day_of_month(posted, int(found.group(1)), weekday), weekday
    if weekday is not None:
        return _next_weekday(posted, weekday), weekday
    return None, None


def _clock(text: str) -> str | None:
    found = _CLOCK.search(text)
    if not found:
        return None
    if found.group(3):
        hour = int(found.group(1)) % 12 + (12 if found.group(3).lower() == "pm" else 0)
        minute = int(found.group(2) or 0)
    else:
        hour, minute = int(found.group(4)), int(found.group(5))
    return f"{hour:02d}:{minute:02d}"


def mentioned(text: str | None, posted: dt.date) -> Mention:
    """The date and time a post names, normalised so that many wordings of one plan agree."""
    if not text:
        return Mention("", None)
    day, weekday = _date(text, posted)
    clock = _clock(text)
    parts = []
    if day is not None:
        parts.append(f"{WEEKDAYS[day.weekday()].capitalize()} {day.day} {MONTHS[day.month - 1].capitalize()}")
    elif weekday is not None:
        parts.append(WEEKDAYS[weekday].capitalize())
    if clock:
        parts.append(clock)
    return Mention(" ".join(parts), day)

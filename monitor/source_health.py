"""How each configured source is doing: the rows of `tension sources list` and the dashboard's
Sources page, built once here so the two always agree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from monitor.store import Store


@dataclass(frozen=True)
class SourceHealth:
    id: str
    kind: str
    platform: str
    enabled: bool
    health: str  # ok | failing | gone | exhausted | never polled
    last_success_at: dt.datetime | None
    next_poll_at: dt.datetime | None  # None for a disabled source
    failures: int  # consecutive
    posts_today: int  # published since UTC midnight
    last_error: str | None


def source_health(settings, store: Store, now: dt.datetime) -> list[SourceHealth]:
    """Every configured source, in config order, with its fetch state and posts today."""
    states = store.load_states()
    today = store.posts_per_source(now.replace(hour=0, minute=0, second=0, microsecond=0))
    rows = []
    for config in settings.sources.sources:
        state = states.get(config.id)
        rows.append(SourceHealth(
            id=config.id, kind=config.kind, platform=config.platform, enabled=config.enabled,
            health=state.status if state else "never polled",
            last_success_at=state.last_success_at if state else None,
            next_poll_at=state.next_poll_at if state and config.enabled else None,
            failures=state.consecutive_failures if state else 0,
            posts_today=today.get(config.id, 0),
            last_error=(state.last_error or None) if state else None,
        ))
    return rows


def relative_time(value: dt.datetime | None, now: dt.datetime) -> str:
    """"in 4m", "2.5h ago", "-" for never."""
    if value is None:
        return "-"
    seconds = (value - now).total_seconds()
    span = abs(seconds)
    text = f"{span / 86400:.1f}d" if span >= 86400 else f"{span / 3600:.1f}h" if span >= 3600 \
        else f"{span / 60:.0f}m"
    return f"in {text}" if seconds > 0 else f"{text} ago"

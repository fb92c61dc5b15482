"""`tension levels ...`: tension levels per locality, and the analyst's judgement over them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli import _settings, app, out, user_errors, utcnow
from monitor.config_files import parse_duration
from monitor.errors import TensionError
from monitor.levels import LevelView, clear_level, current_levels, set_level
from monitor.tension_index import LEVEL_COLOURS, describe_drivers, trend_arrow

levels_app = typer.Typer(
    help="Tension levels per locality: computed from the index, and set by an analyst.",
    invoke_without_command=True,
)
app.add_typer(levels_app, name="levels")


@contextmanager
def _store(settings) -> Iterator:
    from monitor.store import Store

    store = Store.open(settings.database_url)
    try:
        yield store
    finally:
        store.close()


def _localities(settings) -> set[str]:
    return {settings.localities.area.id} | {loc.id for loc in settings.localities.localities}


def _day(value: str | None, now: dt.datetime) -> dt.date:
    if value is None:
        return now.date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise TensionError(f"--day {value!r} is not a date such as 2026-11-19") from None


def _until(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """A duration from now (48h, 3d) or a UTC date or date-time (2026-11-23, 2026-11-23T18:00)."""
    if value is None:
        return None
    try:
        return now + parse_duration(value)
    except (ValueError, TypeError):
        pass
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise TensionError(f"--until {value!r} is not a duration (48h, 3d) or a date-time "
                           "such as 2026-11-23T18:00") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _level(level: int | None) -> str:
    if level is None:
        return "-"
    colour = {"green": "green", "amber": "yellow", "red": "red"}[LEVEL_COLOURS[level]]
    return f"[{colour}]{level} {LEVEL_COLOURS[level]}[/{colour}]"


def _analyst(view: LevelView) -> str:
    if view.override_level is None:
        return "-"
    until = f" until {view.valid_until:%Y-%m-%d %H:%M}" if view.valid_until else ""
    return f"{_level(view.override_level)} ({view.set_by}: {view.override_reason}{until})"


@levels_app.callback()
@user_errors
def levels(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--day", help="UTC day YYYY-MM-DD (default today).")] = None,
) -> None:
    """Show each locality's computed level, index, trend and the analyst's level beside it."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings(ctx)
    now = utcnow()
    wanted = _day(day, now)
    with _store(settings) as store:
        views = current_levels(store, settings, wanted, now=now)
    table = Table("locality", "computed", "index", "trend", "analyst level", "drivers",
                  title=f"Tension levels {wanted.isoformat()} (UTC day)")
    ordered = sorted(views.values(), key=lambda v: (-v.shown_level, -v.index, v.name))
    for view in ordered:
        table.add_row(view.name, _level(view.computed_level), f"{view.index:.0f}",
                      f"{trend_arrow(view.trend)} {view.trend:+.0f}", _analyst(view),
                      describe_drivers(view.drivers))
    out.print(table)


@levels_app.command("set")
@user_errors
def levels_set(
    ctx: typer.Context,
    locality: Annotated[str, typer.Argument(help="Locality id, e.g. workington.")],
    level: Annotated[int, typer.Argument(help="1-2 green, 3 amber, 4-5 red.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown beside the level, audited).")],
    by: Annotated[str, typer.Option("--by", help="Who is setting it.")],
    until: Annotated[str | None, typer.Option("--until", help="Expiry: 48h, 3d or 2026-11-23T18:00.")] = None,
) -> None:
    """Set an analyst's level for a locality; the computed level stays visible beside it."""
    settings = _settings(ctx)
    now = utcnow()
    with _store(settings) as store:
        set_level(store, locality, level, reason, by, now, _until(until, now),
                  localities=_localities(settings))
    out.print(f"{locality}: analyst level {level} set by {by}", highlight=False)


@levels_app.command("clear")
@user_errors
def levels_clear(
    ctx: typer.Context,
    locality: Annotated[str, typer.Argument(help="Locality id, e.g. workington.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (audited).")],
    by: Annotated[str, typer.Option("--by", help="Who is clearing it.")],
) -> None:
    """Clear the analyst's level for a locality: the computed level is shown again."""
    settings = _settings(ctx)
    with _store(settings) as store:
        clear_level(store, locality, reason, by, utcnow(), localities=_localities(settings))
    out.print(f"{locality}: analyst level cleared by {by}", highlight=False)

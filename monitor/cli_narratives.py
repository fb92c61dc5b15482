"""`tension narratives ...`: emerging narratives for analyst review, promotion and dismissal."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli import _settings, app, out, user_errors, utcnow
from monitor.errors import TensionError

narratives_app = typer.Typer(help="Emerging narratives: new stories not yet in the narrative library.")
app.add_typer(narratives_app, name="narratives")


def _service(ctx: typer.Context):
    from monitor.service import Service

    return Service.open(_settings(ctx))


@narratives_app.command("emerging")
@user_errors
def emerging(
    ctx: typer.Context,
    window: Annotated[str, typer.Option("--window", help="day (today's clusters, with yesterday's "
                                                         "for growth) or week (the last 7 days).")] = "day",
    as_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    show_all: Annotated[bool, typer.Option("--all", help="Also clusters below the reporting line "
                                                         "and those already reviewed.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh/--no-refresh", help="Cluster today's posts "
                                                                         "now first.")] = True,
) -> None:
    """Current emerging narratives: id, distinctive terms, size, growth, places, first seen."""
    from monitor.emerging import find_emerging
    from monitor.emerging.review import current

    if window not in ("day", "week"):
        raise TensionError(f"--window {window!r}: use day or week")
    if as_format not in ("table", "json"):
        raise TensionError(f"--format {as_format!r}: use table or json")
    service = _service(ctx)
    try:
        now = utcnow()
        if refresh:
            today = now.replace(hour=0, minute=0, second=0, microsecond=0)
            find_emerging(service, now, force_window=today)
        items = current(service.store, now, days=1 if window == "day" else 7, include_all=show_all)
        names = {loc.id: loc.name for loc in service.settings.localities.localities}
    finally:
        service.close()
    if as_format == "json":
        print(json.dumps([e.as_json() for e in items], indent=2, ensure_ascii=False))
        return
    table = Table("id", "status", "terms", "posts", "growth", "authors", "places", "platforms",
                  "first seen", "excerpt")
    for e in items:
        places = ", ".join(f"{names.get(p, p)} {n}" for p, n in list(e.localities.items())[:4])
        platforms = ", ".join(f"{p} {n}" for p, n in list(e.platforms.items())[:3])
        table.add_row(e.id, e.status if e.reportable else f"{e.status} (below line)",
                      ", ".join(e.terms[:6]), str(e.size), f"{e.growth:+d}", str(e.authors), places,
                      platforms, f"{e.first_seen:%a %d %b %H:%M}", (e.excerpts or [""])[0][:80])
    out.print(table)
    if not items:
        out.print("no emerging narratives above the reporting line" + ("" if show_all else
                                                                       " (--all shows everything tracked)"))


@narratives_app.command("promote")
@user_errors
def promote(
    ctx: typer.Context,
    cluster_id: Annotated[str, typer.Argument(help="Cluster id, e.g. em-20261120-1.")],
    status: Annotated[str, typer.Option("--status", help="false, misleading, unverified or true.")],
    by: Annotated[str, typer.Option("--by", help="Who decided (recorded in the audit log).")],
    title: Annotated[str | None, typer.Option("--title", help="Title in the library.")] = None,
    claim: Annotated[str | None, typer.Option("--claim", help="The claim as the library should "
                                                              "match it (default: the top excerpt).")] = None,
) -> None:
    """Add an emerging narrative to the narrative library; posts are matched to it from then on."""
    from monitor.emerging.review import promote as do_promote
    from monitor.store import Store

    settings = _settings(ctx)
    store = Store.open(settings.database_url)
    try:
        narrative_id = do_promote(store, cluster_id, status=status, by=by, title=title, claim=claim,
                                  now=utcnow())
    finally:
        store.close()
    out.print(f"promoted {cluster_id} to the library as {narrative_id} ({status}); new posts are "
              "matched to it from the next scoring run")


@narratives_app.command("dismiss")
@user_errors
def dismiss(
    ctx: typer.Context,
    cluster_id: Annotated[str, typer.Argument(help="Cluster id, e.g. em-20261120-1.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is not a narrative to track.")],
    by: Annotated[str, typer.Option("--by", help="Who decided (recorded in the audit log).")],
) -> None:
    """Stop reporting an emerging narrative (it is still tracked, so it does not return as new)."""
    from monitor.emerging.review import dismiss as do_dismiss
    from monitor.store import Store

    settings = _settings(ctx)
    store = Store.open(settings.database_url)
    try:
        do_dismiss(store, cluster_id, by=by, reason=reason, now=utcnow())
    finally:
        store.close()
    out.print(f"dismissed {cluster_id}")


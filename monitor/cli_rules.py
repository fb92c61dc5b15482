"""`tension rules test` and `tension rules eval`: alert rules as checkable contracts.

``test`` is promtool's ``test rules`` for our rule kinds: it needs no database and no running
service, so it belongs in CI next to the rules it guards. ``eval`` shows what the rules say
about the live store right now without touching any alert, for tuning a threshold.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli import _settings, app, err, out, user_errors, utcnow
from monitor.errors import TensionError

rules_app = typer.Typer(help="Alert rules: unit tests and dry runs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("test")
def rules_test(
    files: Annotated[list[Path], typer.Argument(help="Rule test files (YAML).")],
) -> None:
    """Run rule unit tests (like promtool test rules); exit 1 if any test fails."""
    from alerts.rule_tests import run_file

    passed = failed = broken = 0
    for path in files:
        try:
            results = run_file(path)
        except TensionError as exc:
            broken += 1
            for line in str(exc).splitlines():
                err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
            continue
        out.print(f"{path}", highlight=False, soft_wrap=True)
        for result in results:
            if result.passed:
                passed += 1
                out.print(f"  [green]PASS[/green] {result.name}", highlight=False, soft_wrap=True)
                continue
            failed += 1
            out.print(f"  [red]FAIL[/red] {result.name}", highlight=False, soft_wrap=True)
            for line in result.failures:
                out.print(f"       {line}", highlight=False, soft_wrap=True, markup=False)
    summary = f"{passed} passed, {failed} failed" + (f", {broken} file(s) not valid" if broken else "")
    if failed or broken:
        out.print(f"[red]FAILED[/red] {summary}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"[green]SUCCESS[/green] {summary}", highlight=False, soft_wrap=True)


@rules_app.command("eval")
@user_errors
def rules_eval(
    ctx: typer.Context,
    at: Annotated[dt.datetime | None, typer.Option(
        "--at", help="Evaluate as of this UTC time (default now), e.g. 2026-11-20T18:00.",
        formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"])] = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="Also list places where the condition is false.")] = False,
) -> None:
    """Evaluate every rule against the database now and print what is true; changes nothing."""
    from alerts.evaluate import evaluate
    from monitor.store import Store

    settings = _settings(ctx)
    now = at.replace(tzinfo=dt.timezone.utc) if at else utcnow()
    store = Store.open(settings.database_url)
    try:
        candidates = evaluate(store, settings, now)
    finally:
        store.close()
    table = Table("rule", "locality", "other labels", "active", "value", "description")
    shown = 0
    for c in candidates:
        if not (c.active or all_):
            continue
        shown += 1
        extra = {k: v for k, v in c.labels.items()
                 if k not in ("alertname", "locality", "category", "severity")}
        table.add_row(c.rule_id, c.labels["locality"], " ".join(f"{k}={v}" for k, v in extra.items()),
                      "yes" if c.active else "no", "-" if c.value is None else f"{c.value:.3g}",
                      c.annotations.get("description", ""))
    out.print(table)
    out.print(f"{sum(c.active for c in candidates)} of {len(candidates)} conditions true at "
              f"{now:%Y-%m-%d %H:%M} UTC ({shown} shown)", highlight=False, soft_wrap=True)

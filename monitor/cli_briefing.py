"""`tension briefing ...`: write the weekly tension briefing, list the archive, approve a draft."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli import _settings, app, out, user_errors, utcnow
from monitor.errors import TensionError

briefing_app = typer.Typer(
    help="The weekly tension briefing: write it (HTML, PDF, Markdown), list the archive, approve a draft.",
    invoke_without_command=True,
)
app.add_typer(briefing_app, name="briefing")

DEFAULT_OUT = Path("briefings")


@contextmanager
def _store(settings) -> Iterator:
    from monitor.store import Store

    store = Store.open(settings.database_url)
    try:
        yield store
    finally:
        store.close()


def _writable(folder: Path) -> Path:
    """Fail before the slow part when --out cannot be written."""
    import os

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TensionError(f"--out {folder}: cannot create the folder: {exc.strerror or exc}") from None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise TensionError(f"--out {folder}: not a writable folder")
    return folder


@briefing_app.callback()
@user_errors
def briefing(
    ctx: typer.Context,
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W47 (UTC days).")] = None,
    first: Annotated[str | None, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last UTC day, YYYY-MM-DD (inclusive).")] = None,
    formats: Annotated[str, typer.Option("--format", help="Any of html,pdf,md, comma-separated.")] = "html,pdf,md",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the files.")] = DEFAULT_OUT,
) -> None:
    """Write the briefing for a week (default: the last complete one) and archive it as a draft."""
    if ctx.invoked_subcommand is not None:
        return
    from monitor.briefing.job import generate, parse_formats, write_files
    from monitor.briefing.period import choose

    wanted = parse_formats(formats)
    now = utcnow()
    period = choose(week, first, last, now)
    settings = _settings(ctx)
    _writable(out_dir)
    with _store(settings) as store:
        made = generate(store, settings, period, now)
    files = write_files(made.stem, made.rendered, out_dir, wanted)
    overall = made.data["overall"]
    out.print(f"briefing {made.id} for {period.label} (version {made.version}, draft): overall level "
              f"{overall['shown_level']} {overall['arrow']}; key judgement marked DRAFT until approved "
              f"(`tension briefing approve {made.id} --by NAME`)", highlight=False, soft_wrap=True)
    for path in files:
        out.print(f"  {path}", highlight=False, soft_wrap=True)


@briefing_app.command("list")
@user_errors
def briefing_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many, newest period first.")] = 50,
) -> None:
    """Archived briefings: period, version, draft or approved, and by whom."""
    from monitor.briefing.archive import list_briefings

    settings = _settings(ctx)
    with _store(settings) as store:
        rows = list_briefings(store, limit=limit)
    table = Table("id", "period (UTC days)", "version", "status", "created (UTC)", "approved", "judgement edited by")
    for r in rows:
        last = r.period_end - dt.timedelta(days=1)
        approved = f"{r.approved_by}, {r.approved_at:%Y-%m-%d %H:%M}" if r.approved_at else "-"
        table.add_row(str(r.id), f"{r.period_start:%Y-%m-%d} to {last:%Y-%m-%d}", str(r.version), r.status,
                      f"{r.created_at:%Y-%m-%d %H:%M}", approved, r.judgement_edited_by or "-")
    out.print(table)


@briefing_app.command("approve")
@user_errors
def briefing_approve(
    ctx: typer.Context,
    briefing_id: Annotated[int, typer.Argument(metavar="ID", help="Briefing id from `tension briefing list`.")],
    by: Annotated[str, typer.Option("--by", help="Who approves it (audited).")],
    judgement_file: Annotated[Path | None, typer.Option(
        "--judgement-file", help="A text file with the analyst's key judgement, replacing the draft.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the approved files.")] = DEFAULT_OUT,
) -> None:
    """Approve a draft (optionally with an edited key judgement); writes the approved files."""
    from monitor.briefing.archive import approve
    from monitor.briefing.job import FORMATS, write_files
    from monitor.briefing.render import Rendered

    judgement = None
    if judgement_file is not None:
        try:
            judgement = judgement_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TensionError(f"--judgement-file {judgement_file}: cannot read: "
                               f"{getattr(exc, 'strerror', None) or exc}") from None
    settings = _settings(ctx)
    with _store(settings) as store:
        row = approve(store, briefing_id, by=by, now=utcnow(), judgement=judgement)
    label = row["data"]["meta"]["period"]["label"]
    stem = f"tension-briefing-{row['data']['meta']['area']['id']}-{label}-v{row['version']}-approved"
    files = write_files(stem, Rendered(row["html"], row["markdown"], row["pdf"]), out_dir, FORMATS)
    edited = " with the analyst's key judgement" if row.get("judgement_edited_by") == by.strip() else ""
    out.print(f"briefing {briefing_id} ({label}, version {row['version']}) approved by {by.strip()}{edited}",
              highlight=False, soft_wrap=True)
    for path in files:
        out.print(f"  {path}", highlight=False, soft_wrap=True)

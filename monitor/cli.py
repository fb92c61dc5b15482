"""The ``tension`` command. Every user mistake ends as one line on stderr and a non-zero exit."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from monitor import __version__
from monitor.errors import ConfigError, TensionError
from monitor.logs import configure_logging
from monitor.settings import DEFAULT_CONFIG, Settings, load_settings

app = typer.Typer(
    help="tension-monitor: community tension and disinformation monitoring for a council.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check the configuration files.", no_args_is_help=True)
sources_app = typer.Typer(help="Inspect the configured sources.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def user_errors(func):
    """Turn a TensionError into one red line and exit status 2; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TensionError as exc:
            lines = str(exc).splitlines() or [type(exc).__name__]
            for line in lines:
                err.print(f"[red]error:[/red] {line}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"tension-monitor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[Path, typer.Option("--config", "-c", help="Main config file.")] = DEFAULT_CONFIG,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = {"config": config}


def _settings(ctx: typer.Context) -> Settings:
    settings = load_settings(ctx.obj["config"])
    configure_logging(settings.log_level, settings.main.logging.format)
    return settings


def _service(ctx: typer.Context):
    from monitor.service import Service

    return Service.open(_settings(ctx))


@app.command()
@user_errors
def run(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run every due stage once, in order, and exit.")] = False,
) -> None:
    """Run the service: collectors and pipeline stages on their schedules, until Ctrl-C."""
    from monitor.pipeline import run_once
    from monitor.scheduler import run_forever

    service = _service(ctx)
    try:
        if once:
            ok = run_once(service, utcnow())
            out.print(f"{'done' if ok else 'done with errors (see log)'}: "
                      f"{service.store.count_posts()} posts in store")
            if not ok:
                raise typer.Exit(1)
        else:
            from monitor.web.server import start_dashboard

            out.print(f"tension-monitor running on {service.settings.database_url} "
                      f"with {len(service.sources)} sources; Ctrl-C to stop")
            dashboard = start_dashboard(service, lambda line: out.print(line, highlight=False, soft_wrap=True))
            try:
                run_forever(service)
            finally:
                if dashboard is not None:
                    dashboard.stop()
    finally:
        service.close()


@app.command()
@user_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; put TLS in a reverse proxy.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8080,
) -> None:
    """Serve the web API (community reports intake, health) until Ctrl-C."""
    import uvicorn

    from monitor.web import create_app

    web = create_app(_settings(ctx))
    out.print(f"tension-monitor web on http://{host}:{port}/ (API docs at /api/docs); Ctrl-C to stop")
    uvicorn.run(web, host=host, port=port, log_level="warning")


@app.command()
@user_errors
def collect(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source id.")] = None,
) -> None:
    """Poll sources now, whether or not they are due, and store what they return."""
    from monitor.pipeline import collect_due, collect_one

    service = _service(ctx)
    try:
        if source is not None and source not in service.sources:
            known = ", ".join(service.sources) or "none enabled"
            raise ConfigError(f"unknown or disabled source {source!r} (enabled: {known})")
        with out.status("collecting..."):
            reports = ([collect_one(service, source, utcnow())] if source
                       else collect_due(service, utcnow(), force=True))
        table = Table("source", "new", "duplicates", "copies", "result")
        for r in reports:
            result = r.error or r.skipped or ("not modified" if r.not_modified else "ok")
            table.add_row(r.source_id, str(r.new), str(r.duplicates), str(r.copies), result)
        out.print(table)
        if any(r.error for r in reports):
            raise typer.Exit(1)
    finally:
        service.close()


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate every config file and the references between them; print OK or FAILED."""
    path = ctx.obj["config"]
    try:
        settings = load_settings(path)
    except TensionError as exc:
        err.print(f"[red]FAILED[/red] {path}", highlight=False)
        for line in str(exc).splitlines():
            err.print(f"  {line}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    out.print(
        f"[green]OK[/green] {path}: {len(settings.localities.localities)} localities, "
        f"{len(settings.localities.sensitive_sites)} sensitive sites, "
        f"{len(settings.sources.sources)} sources, {len(settings.narratives.narratives)} narratives, "
        f"{len(settings.rules.rules)} rules",
        highlight=False,
    )
    from alerts.routing import startup_warnings

    for line in startup_warnings(settings.alerting, settings.environment.receiver_urls):
        out.print(f"[yellow]warning:[/yellow] {line}", highlight=False, soft_wrap=True)


@sources_app.command("list")
@user_errors
def sources_list(ctx: typer.Context) -> None:
    """Every configured source with kind, health, last success, next poll and posts today."""
    from monitor.scoring import not_scored_errors
    from monitor.source_health import relative_time, source_health
    from monitor.store import Store

    settings = _settings(ctx)
    store = Store.open(settings.database_url)
    try:
        now = utcnow()
        scoring_failures = not_scored_errors(store)
        table = Table("source", "kind", "platform", "enabled", "health", "last success", "next poll",
                      "failures", "posts today", "last error", "scoring failures")
        for row in source_health(settings, store, now):
            table.add_row(
                row.id, row.kind, row.platform, "yes" if row.enabled else "no", row.health,
                relative_time(row.last_success_at, now), relative_time(row.next_poll_at, now), str(row.failures),
                str(row.posts_today), (row.last_error or "")[:60], str(scoring_failures.get(row.id, 0)),
            )
        out.print(table)
    finally:
        store.close()


@db_app.command("upgrade")
@user_errors
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest revision."""
    from monitor.store import Store

    settings = _settings(ctx)
    store = Store.open(settings.database_url)
    current, head = store.schema_revision()
    store.close()
    out.print(f"database at revision {current} (newest {head})")


# Commands defined in their own modules register themselves on `app` when imported.
from monitor import cli_scoring  # noqa: E402,F401
from monitor import cli_rules  # noqa: E402,F401
from monitor import cli_alerts  # noqa: E402,F401
from monitor import cli_levels  # noqa: E402,F401
from monitor import cli_narratives  # noqa: E402,F401
from monitor import cli_briefing  # noqa: E402,F401
from monitor import cli_backtest  # noqa: E402,F401
from monitor import cli_users  # noqa: E402,F401

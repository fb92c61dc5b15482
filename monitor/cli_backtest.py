"""`tension backtest`, `tension incidents ...` and `tension rules save|versions|diff|revert`:
tuning thresholds against history, from a terminal.

The work is in ``alerts.backtest``, ``alerts.incidents`` and ``alerts.rule_versions`` (the
dashboard calls the same functions); this module parses options and prints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from monitor.cli import _settings, app, out, user_errors, utcnow
from monitor.cli_rules import rules_app
from monitor.config_files import parse_duration, read_config_text
from monitor.errors import TensionError

incidents_app = typer.Typer(help="Real incidents, marked by analysts, that backtests score alerts against.",
                            no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")

BAR = 40


@contextmanager
def _store(url: str) -> Iterator:
    from monitor.store import Store

    store = Store.open(url)
    try:
        yield store
    finally:
        store.close()


def _format(value: str) -> str:
    if value not in ("table", "json"):
        raise TensionError(f"--format {value!r}: use table or json")
    return value


def _instant(option: str, value: str, *, end: bool = False) -> dt.datetime:
    """A UTC date (the start of that day, or for an end the end of it) or an ISO date-time."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None and len(value) == 10:
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
        return midnight + dt.timedelta(days=1) if end else midnight
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise TensionError(f"{option} {value!r} is not a date such as 2026-11-17 or a UTC date-time "
                           "such as 2026-11-17T18:00") from None
    return when.astimezone(dt.timezone.utc) if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _hours(value: dt.timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds() / 3600:.1f}h"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _plain(value):
    """Dataclasses to JSON: times as ISO 8601, durations as seconds."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def _print(text: str) -> None:
    out.print(text, highlight=False, soft_wrap=True, markup=False)


# -- tension backtest ---------------------------------------------------------------------------

@app.command()
@user_errors
def backtest(
    ctx: typer.Context,
    rules_file: Annotated[Path | None, typer.Option(
        "--rules", help="Candidate rules file (default: the configured rules).")] = None,
    start: Annotated[str, typer.Option("--from", help="Start: UTC date (2026-11-17) or date-time.")] = "",
    end: Annotated[str, typer.Option("--to", help="End: UTC date (inclusive) or date-time (exclusive).")] = "",
    sweep_spec: Annotated[str | None, typer.Option(
        "--sweep", help="Vary one threshold: rule.param=start:stop:step, e.g. hate-share-high.above=0.1:0.4:0.05.")
    ] = None,
    as_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    use_incidents: Annotated[bool, typer.Option(
        "--incidents/--no-incidents", help="Score against recorded incidents when there are any.")] = True,
    lead_window: Annotated[str, typer.Option(
        "--lead-window", help="How long before an incident an alert still counts as a warning.")] = "72h",
) -> None:
    """Replay rules over stored aggregates: which alerts would have fired, when, how many a week."""
    from alerts.backtest import backtest as run_backtest
    from alerts.backtest import sweep, sweep_values
    from alerts.evaluate import Scope
    from alerts.rule_versions import check_rules

    _format(as_format)
    if not start or not end:
        raise TensionError("give the period: --from DATE --to DATE (UTC, e.g. --from 2026-11-17 --to 2026-11-23)")
    settings = _settings(ctx)
    now = utcnow()
    begin, finish = _instant("--from", start), _instant("--to", end, end=True)
    capped = finish > now
    finish = min(finish, now)
    if finish <= begin:
        raise TensionError(f"bad range: --to ({finish:%Y-%m-%d %H:%M} UTC{', now' if capped else ''}) "
                           f"is not after --from ({begin:%Y-%m-%d %H:%M} UTC)")
    try:
        window = parse_duration(lead_window)
    except ValueError as exc:
        raise TensionError(f"--lead-window: {exc}") from None
    if rules_file is None:
        rules, label = settings.rules.rules, str(settings.path_of("rules"))
    else:
        rules, label = check_rules(ctx.obj["config"], read_config_text(rules_file),
                                   rules_file).rules, str(rules_file)
    scope = Scope.from_settings(settings)
    given = None if use_incidents else ()
    with _store(settings.database_url) as store:
        if sweep_spec is None:
            result = run_backtest(store, scope, rules, begin, finish, incidents=given, lead_window=window)
        else:
            target, _, spec = sweep_spec.partition("=")
            rule_id, _, param = target.rpartition(".")
            if not spec or not rule_id or not param:
                raise TensionError(f"--sweep {sweep_spec!r}: use rule.param=start:stop:step, "
                                   "e.g. hate-share-high.above=0.1:0.4:0.05")
            values = sweep_values(spec)
            points = sweep(store, scope, rules, rule_id, param, values, begin, finish,
                           incidents=given, lead_window=window)
    if as_format == "json":
        body = _plain(result) if sweep_spec is None else {
            "rule": rule_id, "param": param, "start": begin.isoformat(), "end": finish.isoformat(),
            "points": _plain(points)}
        _print(json.dumps(body, indent=2))
        return
    period = f"{begin:%Y-%m-%d %H:%M} to {finish:%Y-%m-%d %H:%M} UTC{' (now)' if capped else ''}"
    if sweep_spec is None:
        _show_backtest(result, scope, label, period)
    else:
        _show_sweep(points, f"{rule_id}.{param}", label, period)


def _show_backtest(result, scope, label: str, period: str) -> None:
    _print(f"backtest of {len(result.rules)} rules from {label}, {period}: {result.steps} hourly steps "
           f"in {result.seconds:.1f}s")
    table = Table("rule", "alerts", "per week")
    for rule_id, n in result.per_rule.items():
        table.add_row(rule_id, str(n), f"{n / result.weeks:.1f}")
    table.add_row("all", str(len(result.episodes)), f"{result.alerts_per_week:.1f}")
    out.print(table)
    weeks = Table("ISO week", "alerts")
    for week, n in result.per_week.items():
        weeks.add_row(week, str(n))
    out.print(weeks)
    _print(f"{len(result.episodes)} alerts would have fired (UTC; fired - resolved, rule, where, value: what):")
    for e in result.episodes:
        extra = " ".join(f"{k}={e.labels[k]}" for k in ("narrative", "site", "burst") if k in e.labels)
        until = f"{e.resolved_at:%a %d %b %H:%M}" if e.resolved_at else "still firing"
        value = "" if e.value is None else f" ({e.value:.3g})"
        _print(f"  {e.fired_at:%a %d %b %H:%M} - {until}  {e.rule_id}  {scope.name(e.locality)}"
               f"{' ' + extra if extra else ''}{value}: {e.description}")
    if result.scoring is not None:
        s = result.scoring
        _print(f"against {s.incidents} recorded incidents (lead window {_hours(s.lead_window)}): "
               f"precision {_share(s.precision)} ({s.true_episodes} of {s.episodes} alerts came before one), "
               f"recall {_share(s.recall)} ({s.detected} of {s.incidents} incidents), median lead "
               f"{_hours(s.median_lead)}")
        detections = Table("incident", "where", "occurred (UTC)", "first alert", "lead", "rules")
        for d in s.detections:
            detections.add_row(str(d.incident_id), scope.name(d.locality_id), f"{d.occurred_at:%a %d %b %H:%M}",
                               f"{d.first_alert_at:%a %d %b %H:%M}" if d.first_alert_at else "missed",
                               _hours(d.lead), ", ".join(d.rule_ids))
        out.print(detections)
    for note in result.notes:
        _print(f"note: {note}")


def _show_sweep(points, target: str, label: str, period: str) -> None:
    _print(f"sweep of {target} ({label}), {period}: alerts per week")
    top = max((p.alerts_per_week for p in points), default=0) or 1
    scored = any(p.incidents for p in points)
    width = max(len(f"{p.value:g}") for p in points)
    for p in points:
        bar = "#" * round(BAR * p.alerts_per_week / top)
        line = f"{p.value:>{width}g} | {bar:<{BAR}} {p.alerts_per_week:6.1f}/week ({p.episodes})"
        if scored:
            line += (f"  precision {_share(p.precision):>4}  recall {_share(p.recall):>4}  "
                     f"median lead {_hours(p.median_lead)}")
        _print(line + ("  <- current" if p.current else ""))
    if not scored:
        _print("no incidents recorded in the period: `tension incidents add` to score precision and recall")


# -- tension incidents ---------------------------------------------------------------------------

@incidents_app.command("add")
@user_errors
def incidents_add(
    ctx: typer.Context,
    locality: Annotated[str, typer.Option("--locality", help="Locality id, or the area id.")],
    at: Annotated[str, typer.Option("--at", help="When it happened: ISO date-time, UTC unless an offset is given.")],
    description: Annotated[str, typer.Option("--description", help="What happened (no names).")],
    by: Annotated[str, typer.Option("--by", help="Who is recording it.")],
) -> None:
    """Record a real incident so backtests can score alerts against it (audited)."""
    from alerts.incidents import add_incident

    settings = _settings(ctx)
    known = {settings.localities.area.id} | {loc.id for loc in settings.localities.localities}
    occurred = _instant("--at", at)
    with _store(settings.database_url) as store:
        incident = add_incident(store, locality_id=locality, occurred_at=occurred, description=description,
                                by=by, now=utcnow(), known=known)
    _print(f"incident {incident.id} recorded: {locality} at {incident.occurred_at:%Y-%m-%d %H:%M} UTC")


@incidents_app.command("list")
@user_errors
def incidents_list(
    ctx: typer.Context,
    as_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Every recorded incident, oldest first."""
    from alerts.incidents import list_incidents

    _format(as_format)
    settings = _settings(ctx)
    with _store(settings.database_url) as store:
        found = list_incidents(store)
    if as_format == "json":
        _print(json.dumps(_plain(found), indent=2))
        return
    table = Table("id", "where", "occurred (UTC)", "description", "recorded by", "recorded (UTC)")
    names = {settings.localities.area.id: settings.localities.area.name,
             **{loc.id: loc.name for loc in settings.localities.localities}}
    for i in found:
        table.add_row(str(i.id), names.get(i.locality_id, i.locality_id), f"{i.occurred_at:%Y-%m-%d %H:%M}",
                      i.description, i.created_by, f"{i.created_at:%Y-%m-%d %H:%M}")
    out.print(table)
    _print(f"{len(found)} incidents")


# -- tension rules save | versions | diff | revert ---------------------------------------------

def _rules_store(ctx: typer.Context):
    """The store, found without reading the rules file (so a broken one can be replaced)."""
    from alerts.rule_versions import settings_with
    from alerts.rules import RuleFile

    return _store(settings_with(ctx.obj["config"], RuleFile()).database_url)


@rules_app.command("save")
@user_errors
def rules_save(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The new rules file (YAML), validated before anything is written.")],
    by: Annotated[str, typer.Option("--by", help="Who is making the change.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
) -> None:
    """Validate a rules file and make it the configured rules: a new version, audited."""
    from alerts.rule_versions import rules_path, save_rules

    text = read_config_text(file)
    with _rules_store(ctx) as store:
        version = save_rules(ctx.obj["config"], store, text, by, reason, source=file)
    _print(f"rules version {version.id} saved to {rules_path(ctx.obj['config'])} "
           f"(sha256 {version.sha256[:12]}); the service uses it from its next start")


@rules_app.command("versions")
@user_errors
def rules_versions(ctx: typer.Context) -> None:
    """Saved versions of the rules file: who, when, why; `current` marks the file on disk."""
    from alerts.rule_versions import list_versions, rules_path, sha256

    path = rules_path(ctx.obj["config"])
    on_disk = sha256(path.read_text(encoding="utf-8")) if path.is_file() else None
    with _rules_store(ctx) as store:
        found = list_versions(store)
    table = Table("version", "saved (UTC)", "by", "reason", "sha256", "")
    for v in found:
        table.add_row(str(v.id), f"{v.created_at:%Y-%m-%d %H:%M}", v.created_by, v.reason, v.sha256[:12],
                      "current" if v.sha256 == on_disk else "")
    out.print(table)
    if found and on_disk not in {v.sha256 for v in found}:
        _print(f"{path} has been edited since the last saved version")


@rules_app.command("diff")
@user_errors
def rules_diff(
    ctx: typer.Context,
    a: Annotated[int, typer.Argument(help="Older version id.")],
    b: Annotated[int, typer.Argument(help="Newer version id.")],
) -> None:
    """Unified diff between two saved versions of the rules."""
    from alerts.rule_versions import diff

    with _rules_store(ctx) as store:
        text = diff(store, a, b)
    _print(text.rstrip("\n") if text else f"versions {a} and {b} are the same")


@rules_app.command("revert")
@user_errors
def rules_revert(
    ctx: typer.Context,
    version: Annotated[int, typer.Argument(help="The version to go back to.")],
    by: Annotated[str, typer.Option("--by", help="Who is making the change.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")],
) -> None:
    """Make an earlier version the configured rules again (validated; a new version, audited)."""
    from alerts.rule_versions import revert, rules_path

    with _rules_store(ctx) as store:
        saved = revert(store, ctx.obj["config"], version, by, reason)
    _print(f"rules version {saved.id} saved (the text of version {version}) to "
           f"{rules_path(ctx.obj['config'])}; the service uses it from its next start")

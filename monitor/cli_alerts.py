"""`tension alerts ...` and `tension silences ...`: what officers do with alerts from a terminal.

Every action here (acknowledge, silence, expire) names who did it and is audited. An unknown
fingerprint or silence id is a one-line error; short prefixes shown by the lists are accepted.
"""

from __future__ import annotations

import enum
import json
import random
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from alerts.ack import acknowledge, acknowledged
from alerts.messages import MessageContext
from alerts.notify import deliver_due
from alerts.outbox import counts
from alerts.routing import inhibited, receiver_targets, startup_warnings
from alerts.silences import active_silences, add_silence, expire_silence, list_silences, silenced_by
from monitor.cli import _settings, app, err, out, user_errors, utcnow
from monitor.config_files import parse_duration
from monitor.errors import TensionError
from monitor.privacy import clean_excerpt
from monitor.store import Store
from monitor.store.schema import alerts

alerts_app = typer.Typer(help="Alerts: list, acknowledge, and deliver queued notifications.",
                         no_args_is_help=True)
silences_app = typer.Typer(help="Silences: mute matching alerts for a while, with a reason.",
                           no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")
app.add_typer(silences_app, name="silences")


class StateFilter(str, enum.Enum):
    firing = "firing"
    pending = "pending"
    resolved = "resolved"
    all = "all"


def _open(ctx: typer.Context):
    settings = _settings(ctx)
    return settings, Store.open(settings.database_url), MessageContext.from_settings(settings)


@alerts_app.command("list")
@user_errors
def alerts_list(
    ctx: typer.Context,
    state: Annotated[StateFilter, typer.Option("--state", help="Which alerts to show.")] = StateFilter.firing,
    as_format: Annotated[str, typer.Option("--format", help="table or json (one object per alert).")] = "table",
) -> None:
    """Alerts with place, severity, since when, and whether a silence, inhibition or ack mutes them."""
    if as_format not in ("table", "json"):
        raise TensionError(f"--format {as_format!r}: use table or json")
    settings, store, context = _open(ctx)
    now = utcnow()
    try:
        with store.transaction() as conn:
            rows = [dict(r) for r in conn.execute(select(alerts).order_by(alerts.c.fired_at)).mappings()]
            silences = active_silences(conn, now)
    finally:
        store.close()
    firing = {r["fingerprint"]: r["labels"] for r in rows if r["state"] == "firing"}
    rules_by_id = {rule.id: rule for rule in settings.rules.rules}
    table = Table("fingerprint", "state", "alert", "place", "severity", "since", "muted", "acknowledged",
                  "summary")
    shown = 0
    records: list[dict] = []
    for row in rows:
        if state is not StateFilter.all and row["state"] != state.value:
            continue
        labels, fp = row["labels"] or {}, row["fingerprint"]
        silence = silenced_by(labels, silences)
        muted = (f"silenced {silence.id[:8]}" if silence
                 else "inhibited" if inhibited(labels, fp, settings.alerting.inhibit_rules, firing) else "")
        since = row["resolved_at"] if row["state"] == "resolved" else row["fired_at"] or row["active_since"]
        ack = f"{row['acknowledged_by']}" if row["state"] == "firing" and acknowledged(row) else ""
        shown += 1
        if as_format == "json":
            rule = rules_by_id.get(row["rule_id"])
            records.append({
                "fingerprint": fp, "state": row["state"], "kind": rule.kind if rule else None,
                "labels": labels,
                "annotations": row["annotations"] or {}, "value": row["value"],
                "since": since.isoformat() if since else None,
                "fired_at": row["fired_at"].isoformat() if row["fired_at"] else None,
                "resolved_at": row["resolved_at"].isoformat() if row["resolved_at"] else None,
                "muted": muted or None,
                "acknowledged_by": ack or None,
            })
            continue
        table.add_row(fp[:12], row["state"], labels.get("alertname", row["rule_id"]), context.place(labels),
                      labels.get("severity", ""), context.local(since), muted, ack,
                      clean_excerpt((row["annotations"] or {}).get("summary"), 80))
    if as_format == "json":
        print(json.dumps(records, indent=2, ensure_ascii=False))
        return
    out.print(table if shown else f"no {'' if state is StateFilter.all else state.value + ' '}alerts")


@alerts_app.command("ack")
@user_errors
def alerts_ack(
    ctx: typer.Context,
    fingerprint: Annotated[str, typer.Argument(help="The alert's fingerprint (or its first 6+ characters).")],
    by: Annotated[str, typer.Option("--by", help="Who is acknowledging.")],
    comment: Annotated[str | None, typer.Option("--comment", help="What is being done about it.")] = None,
) -> None:
    """Acknowledge a firing alert: no more reminders about it until it resolves."""
    _, store, context = _open(ctx)
    try:
        ack = acknowledge(store, fingerprint, by=by, comment=comment, now=utcnow())
    finally:
        store.close()
    out.print(f"acknowledged {ack.fingerprint[:12]} by {ack.by} at {context.local(ack.at)}", highlight=False)


@alerts_app.command("deliver")
@user_errors
def alerts_deliver(ctx: typer.Context) -> None:
    """Send every queued notification that is due now, and report what happened."""
    settings, store, _ = _open(ctx)
    env_urls = settings.environment.receiver_urls
    for line in startup_warnings(settings.alerting, env_urls):
        err.print(f"[yellow]warning:[/yellow] {line}", highlight=False, soft_wrap=True)
    try:
        report = deliver_due(store, receiver_targets(settings.alerting, env_urls), settings.alerting.delivery,
                             utcnow(), rng=random.Random())
        waiting = counts(store)
    finally:
        store.close()
    for line in report.errors:
        err.print(f"[yellow]failed:[/yellow] {line}", highlight=False, soft_wrap=True)
    out.print(f"sent {report.sent}, will retry {report.retrying}, dead {report.dead}; "
              f"outbox: {waiting.get('pending', 0)} pending, {waiting.get('dead', 0)} dead", highlight=False)
    if report.retrying or report.dead:
        raise typer.Exit(1)


@silences_app.command("add")
@user_errors
def silences_add(
    ctx: typer.Context,
    match: Annotated[list[str], typer.Option("--match", "-m", help='Label matcher, e.g. locality=workington '
                                                                   'or severity=~"high|medium"; repeatable.')],
    reason: Annotated[str, typer.Option("--reason", help="Why these alerts may be muted.")],
    by: Annotated[str, typer.Option("--by", help="Who is creating the silence.")],
    duration: Annotated[str, typer.Option("--for", help="How long: 30m, 4h, 2d (at most 30d).")],
) -> None:
    """Mute alerts matching every --match for a while; a reason is required and audited."""
    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise TensionError(f"--for: {exc}") from None
    _, store, context = _open(ctx)
    try:
        silence = add_silence(store, match, reason=reason, created_by=by, duration=length, now=utcnow())
    finally:
        store.close()
    matchers = ", ".join(str(m) for m in silence.matchers)
    out.print(f"silence {silence.id} ({matchers}) until {context.local(silence.ends_at)}", highlight=False)


@silences_app.command("list")
@user_errors
def silences_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include expired silences.")] = False,
) -> None:
    """Active and upcoming silences (with --all, expired ones too)."""
    _, store, context = _open(ctx)
    now = utcnow()
    try:
        found = list_silences(store, now, include_expired=all_)
    finally:
        store.close()
    if not found:
        out.print("no silences")
        return
    table = Table("id", "state", "matchers", "until", "created by", "reason")
    for s in found:
        until = s.expired_at if s.expired_at and s.expired_at < s.ends_at else s.ends_at
        table.add_row(s.id[:8], s.state(now), ", ".join(str(m) for m in s.matchers), context.local(until),
                      s.created_by, clean_excerpt(s.reason, 80))
    out.print(table)


@silences_app.command("expire")
@user_errors
def silences_expire(
    ctx: typer.Context,
    silence_id: Annotated[str, typer.Argument(help="The silence id (or its first 6+ characters).")],
    by: Annotated[str, typer.Option("--by", help="Who is ending the silence.")],
) -> None:
    """End a silence now; matching alerts that still fire are notified again."""
    _, store, context = _open(ctx)
    try:
        silence = expire_silence(store, silence_id, by=by, now=utcnow())
    finally:
        store.close()
    out.print(f"silence {silence.id[:8]} expired at {context.local(silence.expired_at)} by {by}", highlight=False)

"""The pipeline stages in data order, each a function of (service, now) that writes to the store.

The scheduler runs each stage on its own timer; ``run_once`` runs every due stage once, in
order, for cron users and tests (pass ``now`` instead of sleeping).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from alerts.dispatch import dispatch
from alerts.lifecycle import evaluate_alerts
from alerts.notify import deliver
from monitor.aggregate import aggregate
from monitor.amplification import detect
from monitor.emerging import find_emerging
from monitor.collect import CollectReport, collect_source, is_due
from monitor.errors import TensionError
from monitor.reports import purge_contacts
from monitor.retention import purge_derived
from monitor.scoring import score_pending
from monitor.service import Service
from monitor.store.schema import post_scores, posts

log = logging.getLogger("tension.pipeline")


def collect_one(service: Service, source_id: str, now: dt.datetime) -> CollectReport:
    source = service.sources[source_id]
    config = service.source_config(source_id)
    report = collect_source(
        service.store,
        source,
        config,
        pseudonymiser=service.pseudonymiser,
        policy=service.settings.main.http,
        now=now,
        rng=service.rng,
        contact_vault=lambda: service.contact_vault,
    )
    fields = {
        "source": source_id,
        "kind": source.kind,
        "new": report.new,
        "duplicates": report.duplicates,
        "copies": report.copies,
        "not_modified": report.not_modified,
        "next_poll": report.next_poll_at.isoformat() if report.next_poll_at else None,
    }
    if report.skipped:
        log.warning("source skipped", extra={"fields": fields | {"reason": report.skipped}})
    elif report.error:
        log.warning("collect failed", extra={"fields": fields | {"error": report.error}})
    else:
        log.info("collected", extra={"fields": fields})
    for note in report.notes:
        log.warning("source note", extra={"fields": {"source": source_id, "note": note}})
    return report


def collect_due(service: Service, now: dt.datetime, *, force: bool = False) -> list[CollectReport]:
    """Poll every enabled source that is due (or all of them with ``force``); one source's
    failure, whatever it is, never keeps the next one from being polled."""
    states = service.store.load_states()
    reports = []
    for source_id in service.sources:
        state = states.get(source_id)
        if force or state is None or is_due(state, now):
            try:
                reports.append(collect_one(service, source_id, now))
            except Exception as exc:  # noqa: BLE001 - source boundary, as in the scheduler's _poll
                log.exception("collector crashed", extra={"fields": {"source": source_id}})
                reports.append(CollectReport(source_id, error=f"{type(exc).__name__}: {exc}"))
    return reports


def apply_retention(service: Service, now: dt.datetime) -> int:
    days = service.settings.main.retention_days
    purged = service.store.purge_text(now - dt.timedelta(days=days), now)
    contacts = purge_contacts(service.store, now - dt.timedelta(days=days))
    purge_derived(service.store, now - dt.timedelta(days=days))
    log.info("retention", extra={"fields": {"retention_days": days, "purged_posts": purged,
                                            "purged_report_contacts": contacts}})
    return purged


# A post scored more than this long after it was published arrived late for the window stages
# (a collector back from an outage, a backfill, the demo's replay): the bursts and stories of
# windows they have already passed.
LATE = dt.timedelta(hours=1)


def late_posts_scored(service: Service, since: dt.datetime) -> bool:
    """Whether any post published over ``LATE`` before ``since`` has been scored after it."""
    with service.store.transaction() as conn:
        return conn.execute(
            sa.select(post_scores.c.post_id).join(posts, posts.c.id == post_scores.c.post_id)
            .where(post_scores.c.scored_at > since, posts.c.published_at < since - LATE)
            .limit(1)).first() is not None


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Service, dt.datetime], object]
    every: Callable[[Service], dt.timedelta]
    # The long-running scheduler also runs the stage before ``every`` has passed when this says
    # its input changed behind it (given the time of its last run).
    early: Callable[[Service, dt.datetime], bool] | None = None


# In data order. Later stages (scoring, aggregation, alerts) join this list.
STAGES: tuple[Stage, ...] = (
    Stage("collect", collect_due, lambda s: dt.timedelta(minutes=1)),
    Stage("score", score_pending, lambda s: s.settings.main.scoring.every),
    Stage("aggregate", aggregate, lambda s: s.settings.main.aggregation.every),
    Stage("amplification", lambda s, now: detect(s.store, s.settings.main.amplification, now),
          lambda s: s.settings.main.amplification.every, early=late_posts_scored),
    Stage("emerging", find_emerging, lambda s: s.settings.main.emerging.every, early=late_posts_scored),
    Stage("retention", apply_retention, lambda s: s.settings.main.scheduler.retention_every),
    Stage("alerts", evaluate_alerts, lambda s: s.settings.main.scheduler.tick),
    Stage("dispatch", dispatch, lambda s: s.settings.alerting.dispatch_every),
    Stage("deliver", deliver, lambda s: s.settings.alerting.delivery.every),
)


def run_stage(service: Service, stage: Stage, now: dt.datetime) -> bool:
    """Run one stage; a stage failure is logged in one line and does not stop the others."""
    try:
        stage.run(service, now)
        return True
    except TensionError as exc:  # includes StorageError: a problem we can explain in one line
        log.error("stage failed", extra={"fields": {"stage": stage.name, "error": str(exc)}})
    except Exception:  # noqa: BLE001 - stage boundary: a bug in one stage must not stop the rest
        log.exception("stage crashed", extra={"fields": {"stage": stage.name}})
    return False


def run_once(service: Service, now: dt.datetime) -> bool:
    ok = True
    for stage in STAGES:
        ok = run_stage(service, stage, now) and ok
    return ok

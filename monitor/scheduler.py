"""Long-running mode: APScheduler 3 runs one job per source and one pipeline job.

A source job runs at the time its fetch state asks for (the configured interval plus jitter,
or a backoff after failures, or a server's Retry-After) and schedules its own next run.

The stages after collect (score, aggregate, alerts, dispatch, deliver...) run in data order in
one pipeline job every ``scheduler.tick``, each only when its own interval has passed (or, for
the window stages, when posts arrived late for windows they have passed), and a collect that
stored new posts wakes the pipeline at once. With a timer per stage instead, each
stage waited a whole interval for the one before it: a call to gather took 96-148 s from
ingest to notification (benchmarks/alert_latency.py); in one job it flows through in one go.
SIGINT/SIGTERM stop the scheduler after running jobs finish.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from monitor.briefing.job import scheduled_briefing
from monitor.briefing.when import zone
from monitor.pipeline import STAGES, Stage, collect_one, run_stage
from monitor.service import Service

log = logging.getLogger("tension.scheduler")
PIPELINE_JOB = "pipeline"
BRIEFING_JOB = "briefing"
BRIEFING_STAGE = Stage("briefing", scheduled_briefing, lambda s: dt.timedelta(days=7))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class ServiceScheduler:
    def __init__(self, service: Service):
        self.service = service
        # A thread per source plus the pipeline at least: a source that hangs until its timeout
        # (an unreachable host, a slow stream) then never holds up another source's poll.
        workers = max(service.settings.main.scheduler.max_workers, len(service.sources) + 1)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=dt.timezone.utc,
        )
        self._stopping = threading.Event()
        self._last_run: dict[str, dt.datetime] = {}

    def start(self) -> None:
        states = self.service.store.load_states()
        now = utcnow()
        for source_id in self.service.sources:
            state = states.get(source_id)
            if state is not None and state.status == "gone":
                log.warning("source not scheduled", extra={"fields": {
                    "source": source_id, "reason": "gone (HTTP 410)"}})
                continue
            first = state.next_poll_at if state and state.next_poll_at else now
            self._schedule_source(source_id, max(first, now))
        self.scheduler.add_job(
            self._run_pipeline, "interval", id=PIPELINE_JOB, next_run_time=now,
            seconds=self.service.settings.main.scheduler.tick.total_seconds(),
        )
        briefing = self.service.settings.main.briefing
        if briefing.enabled:
            self.scheduler.add_job(self._run_briefing, CronTrigger(
                day_of_week=briefing.day, hour=briefing.time.hour, minute=briefing.time.minute,
                timezone=zone(self.service.settings.main.timezone)), id=BRIEFING_JOB)
        self.scheduler.start()
        log.info("scheduler started", extra={"fields": {
            "sources": len(self.service.sources), "stages": len(STAGES)}})

    def _schedule_source(self, source_id: str, when: dt.datetime) -> None:
        self.scheduler.add_job(
            self._poll, "date", run_date=when, args=[source_id],
            id=f"source:{source_id}", replace_existing=True,
        )

    def _poll(self, source_id: str) -> None:
        now = utcnow()
        next_poll = now + self.service.source_config(source_id).every
        try:
            report = collect_one(self.service, source_id, now)
            if report.skipped:
                return
            next_poll = report.next_poll_at or next_poll
            if report.new and not self._stopping.is_set():
                self.scheduler.modify_job(PIPELINE_JOB, next_run_time=utcnow())
        except Exception:  # noqa: BLE001 - scheduler boundary: log the bug, keep the source polled
            log.exception("collector crashed", extra={"fields": {"source": source_id}})
        if not self._stopping.is_set():
            self._schedule_source(source_id, next_poll)

    def _run_pipeline(self) -> None:
        """Every stage after collect, in order, each when its own interval has passed."""
        half_tick = self.service.settings.main.scheduler.tick / 2
        for stage in STAGES:
            if stage.name == "collect" or self._stopping.is_set():
                continue  # sources have their own jobs
            now = utcnow()
            last = self._last_run.get(stage.name)
            if (last is not None and now - last + half_tick < stage.every(self.service)
                    and not (stage.early and stage.early(self.service, last))):
                continue
            self._last_run[stage.name] = now
            run_stage(self.service, stage, now)

    def _run_briefing(self) -> None:
        """The weekly briefing: written, archived and queued for e-mail; the pipeline's deliver
        stage then sends it at once."""
        if run_stage(self.service, BRIEFING_STAGE, utcnow()) and not self._stopping.is_set():
            self.scheduler.modify_job(PIPELINE_JOB, next_run_time=utcnow())

    def stop(self) -> None:
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        log.info("scheduler stopped")


def run_forever(service: Service) -> None:
    """Run until SIGINT or SIGTERM, then finish running jobs and return."""
    stop = threading.Event()

    def _handle(signum, _frame):
        log.info("stopping", extra={"fields": {"signal": signal.Signals(signum).name}})
        stop.set()

    previous = {sig: signal.signal(sig, _handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    runner = ServiceScheduler(service)
    try:
        runner.start()
        stop.wait()
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

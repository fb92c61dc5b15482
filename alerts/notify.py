"""The delivery stage: send queued messages through apprise and record what happened.

One Apprise object per receiver holds all its URLs, each tagged with a short hash of the URL.
When some URLs of a receiver succeed and others fail, the successes are remembered in the
message payload (``delivered``) and the retry goes only to the URLs still owed, so the email
that did arrive is not sent again twenty times. A failure is never raised out of the stage: it
is recorded on the message (``last_error``, next attempt with backoff) and retried; after
``max_attempts`` the message is ``dead`` and one error line is logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import random
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from alerts.outbox import OutboxMessage, claim_due, mark_failed, mark_sent
from alerts.routing import DeliverySettings, ReceiverTarget, quiet_apprise, receiver_targets
from monitor.store import Store

log = logging.getLogger("tension.alerts")


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    delivered: frozenset[str]  # URL tags that accepted the message
    error: str = ""


def url_tag(url: str) -> str:
    """A stable, non-secret handle for one URL (apprise lower-cases tags, so hex it is)."""
    return "u" + hashlib.sha256(url.encode()).hexdigest()[:12]


def send(target: ReceiverTarget, message: OutboxMessage, *, skip: frozenset[str],
         timeout: dt.timedelta) -> SendOutcome:
    """Send one message to every URL of ``target`` not in ``skip``."""
    import apprise

    owed = {url_tag(u): u for u in target.urls if url_tag(u) not in skip}
    if not owed:
        return SendOutcome(True, skip)
    sender = apprise.Apprise()
    with quiet_apprise():
        rejected = [tag for tag, url in owed.items() if not sender.add(url, tag=tag)]
    with tempfile.TemporaryDirectory(prefix="tension-attach-") as folder:
        result = sender.notify(body=message.body, title=message.title, body_format=target.body_format,
                               tag=sorted(owed), timeout=timeout.total_seconds(),
                               attach=_attachments(message, Path(folder)) or None)
    with result:
        delivered = set(skip)
        problems = [f"{target.name}: apprise rejected a URL ({len(rejected)} of {len(owed)})"] if rejected else []
        for service in result:
            tags = set(service.tag) & set(owed)
            if service:
                delivered |= tags
            else:
                problems.append(f"{service.name}: {_last_problem(service.logs()) or service.status.name.lower()}")
        if not result and not problems:
            problems.append(_last_problem(result.call_logs()) or f"apprise: {result.status.name.lower()}")
    ok = set(owed) <= delivered
    return SendOutcome(ok, frozenset(delivered), "" if ok else "; ".join(problems))


def _attachments(message: OutboxMessage, folder: Path) -> list[str]:
    """Files the message carries in its payload (a briefing's PDF), written out for apprise."""
    paths = []
    for item in message.payload.get("attachments", ()):
        path = folder / Path(item["filename"]).name
        path.write_bytes(base64.b64decode(item["data"]))
        paths.append(str(path))
    return paths


def _last_problem(entries) -> str:
    lines = [e.message for e in entries if e.level in ("WARNING", "ERROR", "CRITICAL")]
    return lines[-1] if lines else ""


def deliver(service, now: dt.datetime) -> DeliveryReport:
    """Pipeline stage: send every message that is due."""
    settings = service.settings
    targets = receiver_targets(settings.alerting, settings.environment.receiver_urls)
    return deliver_due(service.store, targets, settings.alerting.delivery, now, rng=service.rng)


def deliver_due(store: Store, targets: Mapping[str, ReceiverTarget], delivery: DeliverySettings,
                now: dt.datetime, *, rng: random.Random) -> DeliveryReport:
    report = DeliveryReport()
    while True:
        batch = claim_due(store, now, limit=delivery.batch_size, lease=delivery.claim_lease)
        for message in batch:
            _deliver_one(store, message, targets.get(message.receiver), delivery, now, rng, report)
        if len(batch) < delivery.batch_size:
            return report


def _deliver_one(store: Store, message: OutboxMessage, target: ReceiverTarget | None,
                 delivery: DeliverySettings, now: dt.datetime, rng: random.Random,
                 report: DeliveryReport) -> None:
    skip = frozenset(message.payload.get("delivered", ()))
    if target is None:
        outcome = SendOutcome(False, skip, f"receiver {message.receiver!r} has no URL configured")
    else:
        outcome = send(target, message, skip=skip, timeout=delivery.timeout)
    fields = {"receiver": message.receiver, "ref": message.idempotency_key, "attempt": message.attempts}
    if outcome.ok:
        mark_sent(store, message.id, now)
        report.sent += 1
        log.info("notification sent", extra={"fields": fields})
        return
    payload = {**message.payload, "delivered": sorted(outcome.delivered)} if outcome.delivered != skip else None
    status = mark_failed(store, message, now, error=outcome.error, max_attempts=delivery.max_attempts,
                         base=delivery.backoff_base, cap=delivery.backoff_max, rng=rng, payload=payload)
    report.errors.append(f"{message.receiver}: {outcome.error}")
    if status == "dead":
        report.dead += 1
        log.error("notification dead", extra={"fields": fields | {"error": outcome.error}})
    else:
        report.retrying += 1
        log.warning("notification failed, will retry", extra={"fields": fields | {"error": outcome.error}})

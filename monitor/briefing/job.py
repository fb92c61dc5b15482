"""Making a briefing: gather, draft, render, archive; and the weekly job that also emails it.

The scheduled job queues one message per distribution receiver in the alert outbox, in the same
transaction that archives the draft, with the PDF as an attachment; the delivery stage sends it
like any alert, with the same retries. The message names the period, the overall level and the
marking: no post text, handle or pseudonym.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from alerts.messages import Message
from alerts.outbox import enqueue
from monitor.briefing import archive
from monitor.briefing.data import gather
from monitor.briefing.draft import DRAFT_MARK, key_judgement
from monitor.briefing.period import Period, last_complete_week
from monitor.briefing.render import LEVEL_WORD, Rendered, render
from monitor.errors import TensionError
from monitor.store import Store

log = logging.getLogger("tension.briefing")
FORMATS = ("html", "pdf", "md")


@dataclass(frozen=True)
class Briefing:
    id: int
    version: int
    period: Period
    data: dict
    judgement: str
    rendered: Rendered

    @property
    def stem(self) -> str:
        return f"tension-briefing-{self.data['meta']['area']['id']}-{self.period.label}-v{self.version}"


def parse_formats(value: str) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise TensionError(f"--format {value!r}: use one or more of {', '.join(FORMATS)}, comma-separated")
    return wanted


def generate(store: Store, settings, period: Period, now: dt.datetime, *, origin: str = "cli",
             also=None) -> Briefing:
    """Gather, draft, render and archive a draft. ``also(conn, briefing)`` runs in the archiving
    transaction (the scheduled job queues its e-mails there)."""
    data = gather(store, settings, period, now, origin=origin)
    judgement = key_judgement(data)
    version = archive.next_version(store, period)
    rendered = render(data, judgement=judgement, status="draft", version=version)
    with store.transaction() as conn:
        briefing_id = archive.insert_draft(conn, period, version, data, judgement, rendered, now)
        briefing = Briefing(briefing_id, version, period, data, judgement, rendered)
        if also is not None:
            also(conn, briefing)
    return briefing


def write_files(stem: str, rendered: Rendered, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write the asked-for editions; an unusable folder is one TensionError line."""
    contents = {"html": rendered.html.encode("utf-8"), "md": rendered.markdown.encode("utf-8"),
                "pdf": rendered.pdf}
    written = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            path = out_dir / f"{stem}.{fmt}"
            path.write_bytes(contents[fmt] or b"")
            written.append(path)
    except OSError as exc:
        raise TensionError(f"cannot write the briefing to {out_dir}: {exc.strerror or exc}") from None
    return written


def email_message(briefing: Briefing, receiver: str, key: str) -> Message:
    meta, overall = briefing.data["meta"], briefing.data["overall"]
    period = briefing.period
    last = period.end - dt.timedelta(days=1)
    title = (f"{meta['marking']}: {meta['area']['name']} tension briefing {period.label} "
             f"(v{briefing.version}, draft)")
    body = "\n".join([
        f"The weekly tension briefing for {meta['area']['name']}, {period.start:%a %d %b} to "
        f"{last:%a %d %b %Y}, is attached as a PDF.",
        "",
        f"Overall level: {overall['shown_level']} ({LEVEL_WORD[overall['shown_level']]}) {overall['arrow']}",
        f"The key judgement is a {DRAFT_MARK.lower()} until an analyst approves it.",
        "",
        f"Handling: {meta['marking']}. For the distribution list only; do not forward.",
        f"Ref: {key}",
    ])
    pdf = base64.b64encode(briefing.rendered.pdf or b"").decode("ascii")
    payload = {"kind": "briefing", "briefing_id": briefing.id, "period": period.label,
               "version": briefing.version, "receiver": receiver, "idempotency_key": key,
               "attachments": [{"filename": f"{briefing.stem}.pdf", "content_type": "application/pdf",
                                "data": pdf}]}
    return Message(title, body, payload)


def _key(briefing: Briefing, receiver: str) -> str:
    key = f"briefing-{briefing.period.label}-v{briefing.version}-{receiver}"
    return key if len(key) <= 64 else "briefing-" + hashlib.sha256(key.encode()).hexdigest()[:55]


def scheduled_briefing(service, now: dt.datetime) -> Briefing | None:
    """The weekly job: the last complete week, once; files, archive and e-mail to the distribution."""
    settings = service.settings
    config = settings.main.briefing
    period = last_complete_week(now)
    if archive.existing(service.store, period, origin="schedule"):
        log.info("briefing already sent", extra={"fields": {"period": period.label}})
        return None

    def queue(conn, briefing: Briefing) -> None:
        for receiver in config.distribution:
            key = _key(briefing, receiver)
            enqueue(conn, key=key, receiver=receiver, group_key=None, kind="briefing",
                    message=email_message(briefing, receiver, key), now=now)

    briefing = generate(service.store, settings, period, now, origin="schedule", also=queue)
    out_dir = config.out_dir or settings.data_dir / "briefings"
    files = write_files(briefing.stem, briefing.rendered, out_dir, FORMATS)
    log.info("briefing written", extra={"fields": {
        "period": period.label, "id": briefing.id, "version": briefing.version,
        "files": ",".join(str(f) for f in files), "queued_for": ",".join(config.distribution) or "nobody"}})
    return briefing

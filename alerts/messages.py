"""The words an officer reads on a phone: what, where, since when, the numbers, what to do.

Only a fixed set of fields reaches a message: the summary, description, window, narratives and
dashboard annotations; the place, site, narrative, category and severity labels; times; and who
acknowledged, with their comment. Never a handle, pseudonym or post text: annotation text and
the officer's comment go through ``monitor.privacy.clean_excerpt`` (the one cleaning function),
and a Markdown body (Teams, Slack) escapes every value with ``markdown_text`` so no raw HTML,
link or emphasis reaches the card. Wording is about content, never about people ("possible
offence — refer to police"). The reference (idempotency key) lets a receiver drop a duplicate
delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from monitor.privacy import clean_excerpt, markdown_text

SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}
ADVICE = {
    "hate": "Possible offence — refer to police.",
    "mobilisation": "Possible call to gather — check with neighbourhood policing.",
    "narrative": "False or misleading narrative — consider counter-messaging (see the dashboard).",
}
TITLE_MAX = 120


@dataclass(frozen=True)
class MessageContext:
    """Display names and settings a message needs; built once from the settings."""

    timezone: str = "Europe/London"
    dashboard_url: str = ""
    places: Mapping[str, str] = field(default_factory=dict)
    sites: Mapping[str, str] = field(default_factory=dict)
    narratives: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings) -> MessageContext:
        loc = settings.localities
        places = {loc.area.id: loc.area.name} | {p.id: p.name for p in loc.localities}
        return cls(
            timezone=settings.main.timezone,
            dashboard_url=settings.main.dashboard_url,
            places=places,
            sites={s.id: s.name for s in loc.sensitive_sites},
            narratives={n.id: n.title for n in settings.narratives.narratives},
        )

    def local(self, when: dt.datetime | None) -> str:
        if when is None:
            return "unknown time"
        return when.astimezone(ZoneInfo(self.timezone)).strftime("%a %d %b %Y, %H:%M %Z")

    def place(self, labels: Mapping[str, Any]) -> str:
        locality = labels.get("locality")
        return self.places.get(locality, locality) if locality else "the whole area"


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    payload: dict


def _one_line(text: Any, limit: int) -> str:
    """A name or address from the settings or a login (not a post): one line, at most ``limit``."""
    value = " ".join(str(text or "").split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _summary(alert: Mapping) -> str:
    return clean_excerpt(alert["annotations"].get("summary") or alert["labels"].get("alertname") or "Alert", 160)


def _severity(alerts: Sequence[Mapping]) -> str:
    ranked = max((SEVERITY_RANK.get(a["labels"].get("severity", ""), 0) for a in alerts), default=0)
    return {3: "HIGH", 2: "MEDIUM", 1: "LOW"}.get(ranked, "ALERT")


def _places(alerts: Sequence[Mapping], context: MessageContext) -> str:
    names = list(dict.fromkeys(context.place(a["labels"]) for a in alerts))
    text = ", ".join(names[:3])
    return text + (f" (+{len(names) - 3})" if len(names) > 3 else "")


def title_for(firing: Sequence[Mapping], resolved: Sequence[Mapping], context: MessageContext) -> str:
    everyone = [*firing, *resolved]
    if not firing:
        head = "Resolved: " + (_summary(resolved[0]) if len(resolved) == 1 else f"{len(resolved)} alerts")
    elif len(everyone) == 1:
        head = f"{_severity(firing)}: {_summary(firing[0])}"
    else:
        extra = f", {len(resolved)} resolved" if resolved else ""
        head = f"{_severity(firing)}: {len(firing)} tension alert{'s' if len(firing) > 1 else ''}{extra}"
    title = f"{head} — {_places(everyone, context)}"
    return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1] + "…"


def _alert_lines(alert: Mapping, context: MessageContext, markdown: bool) -> list[str]:
    labels, notes = alert["labels"], alert["annotations"]
    v = markdown_text if markdown else str  # every value escaped for a Markdown medium
    severity = v(labels.get("severity", ""))
    head = f"{severity.upper()} — {v(_summary(alert))}" if severity else v(_summary(alert))
    lines = [f"**{head}**" if markdown else f"* {head}"]
    bullet = "- " if markdown else "  "
    where = context.place(labels)
    if labels.get("site"):
        where += f", near {context.sites.get(labels['site'], labels['site'])}"
    lines.append(f"{bullet}Where: {v(_one_line(where, 200))}")
    if alert["state"] == "resolved":
        lines.append(f"{bullet}Resolved at {context.local(alert.get('resolved_at'))} "
                     f"(firing since {context.local(alert.get('fired_at'))})")
        return lines
    lines.append(f"{bullet}Since: {context.local(alert.get('fired_at') or alert.get('active_since'))}")
    if notes.get("description"):
        lines.append(f"{bullet}Numbers: {v(clean_excerpt(notes['description'], 400))}")
    if notes.get("window"):
        lines.append(f"{bullet}Period: {v(clean_excerpt(notes['window'], 120))}")
    ids = [n.strip() for n in str(labels.get("narrative") or "").split(",") if n.strip()]
    narratives = [context.narratives.get(n) or clean_excerpt(n, 120) for n in ids]
    if notes.get("narratives"):  # the rules' own "Title (posts), ..." summary
        narratives.append(clean_excerpt(notes["narratives"], 300))
    if narratives:
        lines.append(f"{bullet}Narratives: " + "; ".join(v(n) for n in narratives))
    advice = ADVICE.get(labels.get("category", ""))
    if advice:
        lines.append(f"{bullet}Action: {advice}")
    if alert.get("acked"):
        comment = f": {v(clean_excerpt(alert.get('ack_comment'), 200))}" if alert.get("ack_comment") else ""
        lines.append(f"{bullet}Acknowledged by {v(_one_line(alert['acknowledged_by'], 120))} at "
                     f"{context.local(alert.get('acknowledged_at'))}{comment}")
    link = notes.get("dashboard") or notes.get("dashboard_url") or context.dashboard_url
    if link:  # the dashboard's own address, from the settings: kept whole so it can be opened
        lines.append(f"{bullet}Details: {_one_line(link, 300).replace(' ', '%20')}")
    return lines


def render(*, firing: Sequence[Mapping], resolved: Sequence[Mapping], context: MessageContext,
           key: str, group_key: str, receiver: str, body_format: str, repeat: bool) -> Message:
    """The title, body and structured payload of one group notification."""
    markdown = body_format == "markdown"
    parts: list[str] = []
    if repeat:
        parts.append("Reminder: still firing, nobody has acknowledged it yet." if len(firing) == 1
                     else "Reminder: still firing, not all acknowledged yet.")
        parts.append("")
    for alert in firing:
        parts.extend(_alert_lines(alert, context, markdown))
        parts.append("")
    if resolved:
        parts.append("**Resolved**" if markdown else "Resolved:")
        for alert in resolved:
            parts.extend(_alert_lines(alert, context, markdown))
        parts.append("")
    parts.append(f"Ref: {key}")
    body = "\n".join(parts)
    payload = {
        "idempotency_key": key,
        "group_key": group_key,
        "receiver": receiver,
        "status": "firing" if firing else "resolved",
        "repeat": repeat,
        "alerts": [
            {
                "fingerprint": a["fingerprint"],
                "state": a["state"],
                "labels": dict(a["labels"]),
                "summary": _summary(a),
                "fired_at": a["fired_at"].isoformat() if a.get("fired_at") else None,
                "resolved_at": a["resolved_at"].isoformat() if a.get("resolved_at") else None,
                "acknowledged": bool(a.get("acked")),
            }
            for a in [*firing, *resolved]
        ],
    }
    return Message(title_for(firing, resolved, context), body, payload)

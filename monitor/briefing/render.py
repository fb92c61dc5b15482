"""The briefing as HTML (Jinja2), Markdown (Jinja2) and PDF (WeasyPrint from the HTML).

Rendering reads only the archived figures (``data``), the key judgement and its status, so an
approved briefing is rendered again from exactly the figures the draft showed. Quoted wording
was cleaned when the figures were gathered (``monitor.privacy.clean_excerpt``); here every value
is escaped for its edition: HTML by Jinja's autoescape, Markdown by ``markdown_text`` on every
``{{ }}`` (the environment's ``finalize``), so no value can open a tag, a link or a table cell.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from monitor.briefing import charts
from monitor.briefing.draft import DRAFT_MARK
from monitor.briefing.when import zone
from monitor.privacy import markdown_text

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS = (
    "1. Briefing details",
    "2. Overall tension level and key judgement",
    "3. Tension by locality",
    "4. Incidents and community reports against the baseline",
    "5. Online narratives and rumours",
    "6. Forward look",
    "7. Alerts fired, acknowledged and resolved",
    "8. Charts and map",
    "9. Emerging narratives for analyst review",
    "10. Sources, methodology, limitations and data protection",
)
LEVEL_WORD = {1: "green", 2: "green", 3: "amber", 4: "red", 5: "red"}


@dataclass(frozen=True)
class Rendered:
    html: str
    markdown: str
    pdf: bytes | None


def _parse(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _points(change: float | None, short: bool = False) -> str:
    if change is None:
        return "no earlier data" if short else "no earlier period to compare with"
    return f"{change:+.0f}" if short else f"{change:+.0f} points on the previous period"


class _MarkdownSafe(str):
    """Markdown the template built itself (a quoted judgement, a checked link): not escaped again."""


def _markdown_value(value) -> str:
    return value if isinstance(value, _MarkdownSafe) else markdown_text(value)


def _quote(text) -> _MarkdownSafe:
    """The key judgement as the lines of one block quote, each paragraph escaped."""
    paragraphs = (" ".join(block.split()) for block in str(text).split("\n\n"))
    return _MarkdownSafe("\n>\n> ".join(markdown_text(p) for p in paragraphs if p))


def _autolink(url) -> _MarkdownSafe:
    """An http(s) address as a Markdown autolink; anything else (javascript:, data:) as nothing."""
    value = str(url or "").strip()
    if not value.lower().startswith(("https://", "http://")) or any(c.isspace() or c in '<>"`' for c in value):
        return _MarkdownSafe("")
    return _MarkdownSafe(f"<{value}>")


def _environment(timezone: str, *, html: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True,
                      finalize=None if html else _markdown_value)
    tz = zone(timezone)

    def local(value, fmt="%a %d %b %H:%M") -> str:
        when = _parse(value)
        return when.astimezone(tz).strftime(fmt) if when else "-"

    def day(value, fmt="%a %d %b") -> str:
        when = _parse(value)
        return when.strftime(fmt) if when else "-"

    def date_only(value) -> str:
        return dt.date.fromisoformat(value).strftime("%a %d %b %Y") if value else "-"

    def paragraphs(text) -> Markup:
        out = []
        for block in str(text).split("\n\n"):
            block = block.strip()
            if block.startswith("### "):
                out.append(Markup("<h3>{}</h3>").format(Markup(block[4:])))
            elif block:
                out.append(Markup("<p>{}</p>").format(Markup(block)))
        return Markup("\n").join(out)

    env.filters.update(
        local=local, day=day, date_only=date_only, paragraphs=paragraphs,
        level=lambda level: f"{level} {LEVEL_WORD.get(int(level), '')}",
        pct=lambda value: "-" if value is None else f"{value:+d}%",
        points=_points,
        cell=lambda value: " ".join(str(value).split()),  # one line; "|" is escaped with the rest
        quote=_quote, autolink=_autolink,
        css=lambda value: Markup(str(value).replace("\\", "\\\\").replace('"', '\\"')),
    )
    return env


def context(data: dict, *, judgement: str, status: str, version: int, approved_by: str | None = None,
            approved_at: str | None = None, charts_png: dict | None = None) -> dict:
    busy = data["meta"]["method"]["min_posts"]
    shown = [r for r in data["localities"] if r["analyst"] or r["level"] > 1 or r["posts"] >= busy]
    meta = dict(data["meta"])
    period = dict(meta["period"])
    period["last"] = period["days"][-1] if period["days"] else period["start"]
    meta["period"] = period
    incidents = {r["key"]: r for r in data["incidents"]}
    return {
        **data, "meta": meta, "sections": SECTIONS, "version": version, "status": status,
        "judgement": judgement.strip(), "draft_mark": DRAFT_MARK, "approved_by": approved_by,
        "approved_at": approved_at, "shown_localities": shown,
        "quiet_count": len(data["localities"]) - len(shown),
        "unread": incidents.get("unread", {}).get("count", 0), "charts": charts_png or {},
    }


def render_html(ctx: dict) -> str:
    return _environment(ctx["meta"]["timezone"], html=True).get_template("briefing.html").render(ctx)


def render_markdown(ctx: dict) -> str:
    text = _environment(ctx["meta"]["timezone"], html=False).get_template("briefing.md").render(ctx)
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:  # at most one blank line in a row
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def render_pdf(html: str) -> bytes:
    # WeasyPrint reports every step (from its import on) at INFO; the service logs INFO by default.
    progress = logging.getLogger("weasyprint.progress")
    before = progress.level
    progress.setLevel(logging.WARNING)
    try:
        from weasyprint import HTML

        return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    finally:
        progress.setLevel(before)


def render(data: dict, *, judgement: str, status: str, version: int, pdf: bool = True,
           approved_by: str | None = None, approved_at: dt.datetime | None = None) -> Rendered:
    """All three editions (the archive keeps each); ``pdf=False`` skips the slowest."""
    ctx = context(data, judgement=judgement, status=status, version=version, approved_by=approved_by,
                  approved_at=approved_at.isoformat() if approved_at else None,
                  charts_png=charts.draw_all(data))
    html = render_html(ctx)
    markdown = render_markdown(ctx)
    return Rendered(html, markdown, render_pdf(html) if pdf else None)

"""The key judgement, drafted from the figures for an analyst to edit and approve.

It describes places, content and numbers, never people: "posts labelled hateful", "calls to
gather naming", "possible offences — refer to police". The briefing shows it marked
"DRAFT — for analyst review" until an analyst approves it (monitor.briefing.archive).
"""

from __future__ import annotations

import datetime as dt

DRAFT_MARK = "DRAFT — for analyst review"
COLOUR = {1: "green", 2: "green", 3: "amber", 4: "red", 5: "red"}


def _day(value: str | None) -> str:
    return dt.datetime.fromisoformat(value).strftime("%A %d %B") if value else "no day in particular"


def _level(level: int) -> str:
    return f"level {level} ({COLOUR[level]})"


def _change(count: int, baseline: float | None) -> str:
    if not baseline:
        return ""
    pct = round(100 * (count - baseline) / baseline)
    if abs(pct) < 10:
        return ", about the usual"
    return f", {abs(pct)}% {'above' if pct > 0 else 'below'} the usual {baseline:.0f}"


def _overall(data: dict) -> str:
    area, overall = data["meta"]["area"]["name"], data["overall"]
    if overall["change"] is None:
        change = "no earlier period to compare with"
    elif overall["arrow"] == "→":
        change = "little changed on the previous period"
    else:
        direction = "up" if overall["arrow"] == "↑" else "down"
        change = f"{direction} {abs(overall['change']):.0f} points on the previous period"
    text = (f"Tension across {area} peaked at {_level(overall['level'])} on {_day(overall['peak_day'])} "
            f"(index {overall['index']:.0f}, {change}).")
    if overall.get("analyst"):
        text += f" An analyst has set the area at {_level(overall['analyst']['level'])}."
    return text


def _places(data: dict) -> str:
    raised = [r for r in data["localities"] if r["shown_level"] >= 3]
    if not raised:
        return "No locality reached amber or red."
    named = [f"{r['name']} (level {r['shown_level']} {COLOUR[r['shown_level']]}: {r['drivers']})"
             for r in raised[:3]]
    more = f", and {len(raised) - 3} more" if len(raised) > 3 else ""
    return (f"{len(raised)} localit{'y' if len(raised) == 1 else 'ies'} reached amber or red: "
            f"{'; '.join(named)}{more}.")


def _signals(data: dict) -> str:
    counts = {row["key"]: row for row in data["incidents"]}
    parts = []
    posts = counts["posts"]
    parts.append(f"{posts['count']:,} posts were about the area{_change(posts['count'], posts['baseline'])}")
    hate = counts["hate"]
    if hate["count"]:
        parts.append(f"{hate['count']:,} were labelled hateful (possible offences — refer to police)"
                     f"{_change(hate['count'], hate['baseline'])}")
    reports = counts["reports"]
    if reports["count"]:
        parts.append(f"{reports['count']} community report{'s' if reports['count'] != 1 else ''} "
                     f"were received{_change(reports['count'], reports['baseline'])}")
    return "; ".join(parts) + "."


def _narratives(data: dict) -> str:
    harmful = [n for n in data["narratives"] if n["status"] in ("false", "misleading")]
    text = ""
    if harmful:
        top = harmful[0]
        title = top["title"] if top["title"][:1] in "\"“'" else f"“{top['title']}”"
        text = (f"The most widespread {top['status']} narrative was {title}: {top['posts']:,} posts "
                f"reaching {top['localities_reached']} localit{'y' if top['localities_reached'] == 1 else 'ies'}"
                f" (trend {top['trend']}).")
    if data["amplification"]:
        bursts = data["amplification"]
        text += (f" {len(bursts)} burst{'s' if len(bursts) != 1 else ''} of near-identical posts from many "
                 "accounts suggest coordinated amplification.")
    if data["emerging"]:
        text += (f" {len(data['emerging'])} possible new narrative{'s' if len(data['emerging']) != 1 else ''} "
                 "not yet in the library need review (section 9).")
    return text.strip()


def _forward(data: dict) -> str:
    calls = data["gatherings"]
    if not calls:
        return "No calls to gather naming a monitored place were detected."
    by_place: dict[str, list[dict]] = {}
    for call in calls:
        by_place.setdefault(call["place"], []).append(call)
    place, rows = max(by_place.items(), key=lambda item: sum(r["posts"] for r in item[1]))
    posts = sum(r["posts"] for r in rows)
    sites = [r for r in rows if r["site"]]
    text = f"{posts} posts called people to gather in {place}"
    if sites:
        text += f", {sum(r['posts'] for r in sites)} naming {', '.join(r['site'] for r in sites)}"
    dated = max((r for r in rows if r["likely_date"]), key=lambda r: r["posts"], default=None)
    if dated:
        text += f", most often for {dt.date.fromisoformat(dated['likely_date']):%A %d %B}"
    if len(by_place) > 1:
        text += f" ({len(by_place) - 1} other place{'s' if len(by_place) > 2 else ''} also named)"
    return text + "; check with neighbourhood policing."


def key_judgement(data: dict) -> str:
    """A first draft in plain sentences; the analyst's edit replaces it wholesale."""
    alerts = data["alerts"]
    closing = (f"{alerts['fired']} alert{'s' if alerts['fired'] != 1 else ''} fired in the period, "
               f"{alerts['acknowledged']} acknowledged and {alerts['resolved']} resolved.")
    paragraphs = [[_overall(data), _places(data)], [_signals(data), _narratives(data)], [_forward(data), closing]]
    return "\n\n".join(" ".join(p for p in group if p) for group in paragraphs)

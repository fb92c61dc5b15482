"""What circulated online in the period: narratives, amplification, calls to gather, new clusters.

Narrative volumes come from ``narrative_windows``; amplification bursts and emerging clusters
from the tables the emerging-narratives stage writes. Calls to gather read the period's posts
with a high call-to-gather score (a handful) for where and when they name. Wording is only ever
quoted as a short excerpt with mentions, links and e-mail addresses removed: never a handle, a
pseudonym or a link to a post.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import Connection, and_, func, select

from alerts.evaluate import EXCLUDED_FROM_MOBILISATION
from monitor.briefing import when
from monitor.briefing.period import Period
from monitor.post_text import capped_text
from monitor.privacy import EXCERPT_MAX, clean_excerpt  # noqa: F401 - the briefing's quoting rule
from monitor.scoring import _slug
from monitor.store.schema import (
    amplification_bursts,
    claims,
    cluster_windows,
    narrative_clusters,
    narrative_windows,
    post_localities,
    post_scores,
    posts,
)

# without a mobilisation rule, calls to gather count at the shipped call-to-gather line (config/rules.yaml)
DEFAULT_CALL_SCORE = 0.6


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def gather(conn: Connection, settings, period: Period) -> dict:
    names = {settings.localities.area.id: settings.localities.area.name}
    names |= {p.id: p.name for p in settings.localities.localities}
    return {
        "narratives": narratives(conn, settings, period, names),
        "amplification": amplification(conn, period, names),
        "gatherings": gatherings(conn, settings, period, names),
        "events": upcoming_events(settings, period),
        "emerging": emerging(conn, period, names),
    }


def _merge(target: Counter, counts: dict | None) -> None:
    for key, n in (counts or {}).items():
        target[str(key)] += int(n or 0)


def _places(counts: Counter, names: dict[str, str]) -> list[str]:
    return [f"{names.get(k, k)} ({n})" for k, n in counts.most_common()]


def narratives(conn: Connection, settings, period: Period, names: dict[str, str]) -> list[dict]:
    """Each library narrative or fact-checked claim seen in the period, busiest first."""
    previous = period.previous()
    rows = conn.execute(select(narrative_windows).where(
        narrative_windows.c.window == "day", narrative_windows.c.start >= previous.start,
        narrative_windows.c.start < period.end)).mappings().all()
    seen = {r["narrative_id"] for r in rows if r["start"] >= period.start}
    if not seen:
        return []
    first_seen = dict(conn.execute(select(narrative_windows.c.narrative_id, func.min(narrative_windows.c.start))
                                   .where(narrative_windows.c.window == "hour",
                                          narrative_windows.c.narrative_id.in_(sorted(seen)))
                                   .group_by(narrative_windows.c.narrative_id)).all())
    library = {n.id: n for n in settings.narratives.narratives}
    # Imported fact-checks are matched as narratives "claim-<slug>" (monitor.scoring).
    fact_checks = {f"claim-{_slug(r['id'])}": r for r in conn.execute(select(claims)).mappings()}
    day_index = {d: i for i, d in enumerate(period.days)}
    out = []
    for nid in seen:
        now_rows = [r for r in rows if r["narrative_id"] == nid and r["start"] >= period.start]
        before = sum(r["posts"] for r in rows if r["narrative_id"] == nid and r["start"] < period.start)
        localities, platforms, daily = Counter(), Counter(), [0] * len(day_index)
        for r in now_rows:
            _merge(localities, r["localities"])
            _merge(platforms, r["platforms"])
            daily[day_index[r["start"]]] += r["posts"]
        total = sum(daily)
        entry, claim = library.get(nid), fact_checks.get(nid)
        counter = [{"title": link.title, "url": str(link.url)} for link in entry.counter_messaging] if entry else []
        if claim is not None and claim["url"]:
            counter.append({"title": f"Fact check: {claim['publisher'] or claim['title'] or 'source'}",
                            "url": claim["url"]})
        title = entry.title if entry else clean_excerpt(claim["title"] or claim["text"], 120) if claim else nid
        status = entry.status if entry else claim["status"] if claim else "unverified"
        wording = entry.claims[0] if entry else claim["text"] if claim else ""
        change = total - before
        out.append({
            "id": nid, "title": title, "status": status,
            "claim": clean_excerpt(wording), "posts": total, "previous_posts": before,
            "trend": volume_trend(total, before),
            "change": change, "localities": _places(localities, names), "localities_reached": len(localities),
            "platforms": _platforms(platforms),
            "first_seen": iso(first_seen.get(nid)),
            "library_first_seen": entry.first_seen.isoformat() if entry and entry.first_seen else None,
            "daily": daily, "counter_messaging": counter,
        })
    return sorted(out, key=lambda n: (-n["posts"], n["title"]))


def _platforms(counts: Counter) -> list[str]:
    """"name (posts)", largest first; a platform name comes from a feed, so it is cleaned too."""
    return [f"{clean_excerpt(p, 40)} ({n})" for p, n in counts.most_common()]


def volume_trend(now: int, before: int) -> str:
    """"new", or an arrow for a change of at least a quarter and five posts on the last period."""
    if before == 0:
        return "new" if now else "→"
    change = now - before
    if abs(change) >= max(5, before / 4):
        return "↑" if change > 0 else "↓"
    return "→"


def amplification(conn: Connection, period: Period, names: dict[str, str]) -> list[dict]:
    """Bursts of near-identical posts from many accounts that started in the period (counts only)."""
    rows = conn.execute(select(amplification_bursts).where(
        amplification_bursts.c.started_at >= period.start, amplification_bursts.c.started_at < period.end)
        .order_by(amplification_bursts.c.started_at)).mappings()
    out = []
    for r in rows:
        localities, platforms = Counter(), Counter()
        _merge(localities, r["localities"])
        _merge(platforms, r["platforms"])
        out.append({"started_at": iso(r["started_at"]), "ended_at": iso(r["ended_at"]),
                    "minutes": round((r["ended_at"] - r["started_at"]).total_seconds() / 60),
                    "posts": r["posts"], "authors": r["authors"], "new_authors": r["new_authors"],
                    "excerpt": clean_excerpt(r["excerpt"]), "localities": _places(localities, names),
                    "platforms": _platforms(platforms)})
    return out


def _call_score(settings) -> float:
    rule = next((r for r in settings.rules.rules if r.kind == "mobilisation"), None)
    return float(getattr(rule, "min_score", DEFAULT_CALL_SCORE)) if rule else DEFAULT_CALL_SCORE


def gatherings(conn: Connection, settings, period: Period, names: dict[str, str]) -> list[dict]:
    """Calls to gather in the period by place and site, with the dates and times they name.

    The same posts as the call-to-gather alert rule: a high call-to-gather score, a monitored
    place, and never X (its terms forbid using its content for protests)."""
    sites = {s.id: s.name for s in settings.localities.sensitive_sites}
    query = (
        select(post_localities.c.locality_id, post_localities.c.site_id, posts.c.published_at, capped_text())
        .select_from(posts.join(post_scores, post_scores.c.post_id == posts.c.id)
                     .join(post_localities, post_localities.c.post_id == posts.c.id))
        .where(and_(posts.c.published_at >= period.start, posts.c.published_at < period.end),
               post_scores.c.status == "scored", post_scores.c.mobilisation >= _call_score(settings),
               post_localities.c.confidence >= settings.main.aggregation.min_confidence,
               func.lower(posts.c.platform).not_in(EXCLUDED_FROM_MOBILISATION)))
    groups: dict[tuple, list] = defaultdict(list)
    for locality_id, site_id, published, text in conn.execute(query):
        groups[(locality_id, site_id)].append((published, text))
    tz = when.zone(settings.main.timezone)
    out = []
    for (locality_id, site_id), found in groups.items():
        mentions = [when.mentioned(text, published.astimezone(tz).date()) for published, text in found]
        phrases = Counter(m.phrase for m in mentions if m.phrase)
        dates = Counter(m.date for m in mentions if m.date)
        likely = dates.most_common(1)[0][0] if dates else None
        out.append({
            "place": names.get(locality_id, locality_id),
            "site": sites.get(site_id, site_id) if site_id else None,
            "posts": len(found), "first_seen": iso(min(p for p, _ in found)),
            "last_seen": iso(max(p for p, _ in found)),
            "named_times": [f"{clean_excerpt(p, 60)} ({n})" for p, n in phrases.most_common(3)],
            "likely_date": likely.isoformat() if likely else None,
            "upcoming": bool(likely and likely >= period.end.date()),
        })
    return sorted(out, key=lambda g: (-g["posts"], g["place"], g["site"] or ""))


def upcoming_events(settings, period: Period) -> list[dict]:
    """Configured events from the period's start to ``look_ahead`` after its end."""
    briefing = settings.main.briefing
    last = (period.end + briefing.look_ahead).date()
    return [{"date": e.date.isoformat(), "place": e.place, "title": e.title,
             "upcoming": e.date >= period.end.date()}
            for e in sorted(briefing.events, key=lambda e: e.date) if period.start.date() <= e.date < last]


def emerging(conn: Connection, period: Period, names: dict[str, str]) -> list[dict]:
    """Candidate clusters (not yet in the library) over the reporting line on some day of the
    period, largest first: terms, short excerpts, size, accounts, places and platforms."""
    rows = conn.execute(
        select(narrative_clusters.c.id, narrative_clusters.c.terms, narrative_clusters.c.excerpts,
               narrative_clusters.c.first_seen, cluster_windows.c.size, cluster_windows.c.authors,
               cluster_windows.c.reportable, cluster_windows.c.localities, cluster_windows.c.platforms)
        .select_from(narrative_clusters.join(cluster_windows, cluster_windows.c.cluster_id == narrative_clusters.c.id))
        .where(narrative_clusters.c.status == "candidate", cluster_windows.c.start >= period.start,
               cluster_windows.c.start < period.end)).mappings()
    clusters: dict[str, dict] = {}
    for r in rows:
        terms = [clean_excerpt(t, 40) for t in (r["terms"] or [])]
        c = clusters.setdefault(r["id"], {"id": r["id"], "terms": [t for t in terms if t][:8],
                                          "excerpts": [clean_excerpt(x) for x in (r["excerpts"] or [])][:3],
                                          "first_seen": iso(r["first_seen"]), "size": 0, "authors": 0,
                                          "_reportable": False, "_places": Counter(), "_platforms": Counter()})
        c["size"] += int(r["size"] or 0)
        c["authors"] = max(c["authors"], int(r["authors"] or 0))  # per day; a sum would count twice
        c["_reportable"] = c["_reportable"] or bool(r["reportable"])
        _merge(c["_places"], r["localities"])
        _merge(c["_platforms"], r["platforms"])
    out = []
    for c in clusters.values():
        c["localities"] = _places(c.pop("_places"), names)
        c["platforms"] = _platforms(c.pop("_platforms"))
        if c.pop("_reportable"):
            out.append(c)
    return sorted(out, key=lambda c: (-c["size"], c["id"]))

"""What the service itself did in the period: alerts fired, acknowledged and resolved, and the
health of each source. Officers' names are not shown; only that and when an alert was handled.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, select

from monitor.briefing.period import Period
from monitor.privacy import clean_excerpt
from monitor.store.schema import alert_events, alerts, audit_log, fetch_state, posts


def iso(value):
    return value.isoformat() if value is not None else None


def _names(settings) -> dict[str, str]:
    loc = settings.localities
    return {loc.area.id: loc.area.name} | {p.id: p.name for p in loc.localities} | {
        s.id: s.name for s in loc.sensitive_sites}


def alert_summary(conn: Connection, settings, period: Period) -> dict:
    """Alerts that fired, were acknowledged or resolved in the period (from the history)."""
    in_period = and_(alert_events.c.at >= period.start, alert_events.c.at < period.end)
    events = conn.execute(select(alert_events.c.fingerprint, alert_events.c.at, alert_events.c.to_state)
                          .where(in_period, alert_events.c.to_state.in_(("firing", "resolved")))
                          .order_by(alert_events.c.at)).all()
    acks = conn.execute(select(audit_log.c.object_id, audit_log.c.at).where(
        audit_log.c.action == "alert.acknowledge", audit_log.c.at >= period.start,
        audit_log.c.at < period.end)).all()
    fingerprints = {fp for fp, *_ in events} | {fp for fp, _ in acks}
    rows = {r["fingerprint"]: r for r in conn.execute(
        select(alerts).where(alerts.c.fingerprint.in_(sorted(fingerprints)))).mappings()} if fingerprints else {}
    names = _names(settings)
    table: dict[str, dict] = {}
    for fp in fingerprints:
        alert = rows.get(fp)
        if alert is None:
            continue
        labels = alert["labels"]
        where = names.get(labels.get("locality"), labels.get("locality") or settings.localities.area.name)
        if labels.get("site"):
            where = f"{names.get(labels['site'], labels['site'])} ({where})"
        table[fp] = {"summary": clean_excerpt(alert["annotations"].get("summary") or alert["rule_id"], 160),
                     "rule": alert["rule_id"], "severity": labels.get("severity", ""),
                     "category": labels.get("category", ""), "where": where,
                     "fired": [], "resolved": [], "acknowledged": [], "state_now": alert["state"]}
    for fp, at, state in events:
        if fp in table:
            table[fp]["fired" if state == "firing" else "resolved"].append(iso(at))
    for fp, at in acks:
        if fp in table:
            table[fp]["acknowledged"].append(iso(at))
    ordered = sorted(table.values(), key=lambda r: (min(r["fired"] + r["resolved"] + r["acknowledged"]),
                                                    r["summary"]))
    return {"fired": sum(len(r["fired"]) for r in ordered),
            "acknowledged": sum(len(r["acknowledged"]) for r in ordered),
            "resolved": sum(len(r["resolved"]) for r in ordered), "rows": ordered}


def source_health(conn: Connection, settings, period: Period) -> list[dict]:
    """Every configured source (and any other that stored posts in the period)."""
    counts = dict(conn.execute(select(posts.c.source_id, func.count()).where(
        posts.c.published_at >= period.start, posts.c.published_at < period.end)
        .group_by(posts.c.source_id)).all())
    states = {r["source_id"]: r for r in conn.execute(select(fetch_state)).mappings()}
    configured = {s.id: s for s in settings.sources.sources}
    out = []
    for source_id in list(configured) + sorted(set(counts) - set(configured)):
        config, state = configured.get(source_id), states.get(source_id)
        out.append({
            "id": source_id, "kind": config.kind if config else "-",
            "platform": config.platform if config else "-",
            "enabled": bool(config and config.enabled),
            "status": state["status"] if state else ("never polled" if config else "not configured"),
            "last_success": iso(state["last_success_at"]) if state else None,
            "failures": state["consecutive_failures"] if state else 0,
            "last_error": clean_excerpt(state["last_error"], 120) if state and state["last_error"] else "",
            "posts": int(counts.get(source_id, 0)),
        })
    return out

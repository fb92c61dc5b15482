"""The overview: what is firing, and every locality's level on a map and in a table.

Read from aggregates only (tension_levels, level_overrides, alerts), so it answers in a few
milliseconds however many posts are stored. The models here are also the JSON API's
(``page_api``), so the page and the API always show the same figures.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from alerts.ack import acknowledged
from alerts.messages import SEVERITY_RANK, MessageContext
from alerts.routing import inhibited
from alerts.silences import active_silences, silenced_by
from monitor.levels import current_levels
from monitor.privacy import clean_excerpt
from monitor.store import Store
from monitor.store.schema import alerts
from monitor.tension_index import LEVEL_COLOURS, describe_drivers, trend_arrow
from monitor.web import svg
from monitor.web.auth import User, require
from monitor.web.pages import render

router = APIRouter(include_in_schema=False)
ALERT_STATES = ("firing", "pending", "resolved", "all")


class AlertOut(BaseModel):
    """An alert as officers see it: what, where, since when; never a handle or post text."""

    fingerprint: str
    state: str = Field(description="pending, firing or resolved")
    alertname: str
    summary: str
    locality_id: str | None = Field(description="the locality or area id of the alert, if any")
    place: str = Field(description="the locality's name, or 'the whole area'")
    severity: str | None
    since: dt.datetime | None = Field(description="firing (or pending) since; resolved at, once resolved")
    muted: str | None = Field(description="'silenced <id>' or 'inhibited' when no notification is sent")
    acknowledged_by: str | None


class LocalityLevel(BaseModel):
    """One locality's (or the whole area's) level for a UTC day: computed beside the analyst's."""

    id: str
    name: str
    is_area: bool
    computed_level: int = Field(ge=1, le=5)
    colour: str = Field(description="green, amber or red for the level shown")
    index: float = Field(description="the tension index, 0-100")
    trend: float = Field(description="index change against the same day last week")
    trend_arrow: str
    drivers: str = Field(description="the components that moved the index most")
    analyst_level: int | None = Field(description="the analyst's level in force, if any")
    analyst_reason: str | None
    analyst_by: str | None
    analyst_until: dt.datetime | None
    shown_level: int = Field(description="the analyst's level where one is in force, else the computed one")
    firing_alerts: int


def alert_rows(conn: Connection, settings, now: dt.datetime, *, state: str = "firing",
               locality_id: str | None = None, limit: int = 500) -> list[AlertOut]:
    """Alerts in ``state`` (or all), newest first, firing ones by severity first; muted and
    acknowledged worked out as `tension alerts list` does."""
    context = MessageContext.from_settings(settings)
    query = sa.select(alerts)
    if state != "all":
        query = query.where(alerts.c.state == state)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    firing_rows = rows if state == "firing" else [dict(r) for r in conn.execute(
        sa.select(alerts).where(alerts.c.state == "firing")).mappings()]
    firing = {r["fingerprint"]: r["labels"] or {} for r in firing_rows}
    silences = active_silences(conn, now)
    out = []
    for row in rows:
        labels, fp = row["labels"] or {}, row["fingerprint"]
        if locality_id is not None and labels.get("locality", settings.localities.area.id) != locality_id:
            continue
        silence = silenced_by(labels, silences)
        muted = (f"silenced {silence.id[:8]}" if silence else "inhibited"
                 if row["state"] == "firing" and inhibited(labels, fp, settings.alerting.inhibit_rules, firing)
                 else None)
        since = row["resolved_at"] if row["state"] == "resolved" else row["fired_at"] or row["active_since"]
        out.append(AlertOut(
            fingerprint=fp, state=row["state"], alertname=labels.get("alertname", row["rule_id"]),
            summary=clean_excerpt((row["annotations"] or {}).get("summary") or labels.get("alertname")
                          or row["rule_id"], 200),
            locality_id=labels.get("locality"), place=context.place(labels),
            severity=labels.get("severity"), since=since, muted=muted,
            acknowledged_by=row["acknowledged_by"] if row["state"] == "firing" and acknowledged(row) else None))
    epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    out.sort(key=lambda a: (a.state != "firing", -SEVERITY_RANK.get(a.severity or "", 0),
                            -(a.since or epoch).timestamp()))
    return out[:limit]


def locality_levels(store: Store, settings, now: dt.datetime, *, day: dt.date | None = None,
                    firing: list[AlertOut] | None = None) -> list[LocalityLevel]:
    """The area first, then every locality, highest level shown first."""
    views = current_levels(store, settings, day or now.date(), now=now)
    if firing is None:
        with store.transaction() as conn:
            firing = alert_rows(conn, settings, now)
    area_id = settings.localities.area.id
    counts: dict[str, int] = {}
    for alert in firing:
        place = alert.locality_id or area_id
        counts[place] = counts.get(place, 0) + 1
    rows = [LocalityLevel(
        id=v.locality_id, name=v.name, is_area=v.locality_id == area_id,
        computed_level=v.computed_level, colour=LEVEL_COLOURS[v.shown_level], index=v.index,
        trend=v.trend, trend_arrow=trend_arrow(v.trend), drivers=describe_drivers(v.drivers),
        analyst_level=v.override_level, analyst_reason=v.override_reason, analyst_by=v.set_by,
        analyst_until=v.valid_until, shown_level=v.shown_level,
        firing_alerts=counts.get(v.locality_id, 0)) for v in views.values()]
    rows.sort(key=lambda r: (not r.is_area, -r.shown_level, -r.index, r.name))
    return rows


def locality_map(settings, levels: list[LocalityLevel]):
    by_id = {row.id: row for row in levels}
    places = []
    for loc in settings.localities.localities:
        row = by_id.get(loc.id)
        places.append(svg.MapPlace(
            id=loc.id, name=loc.name, latitude=loc.latitude, longitude=loc.longitude,
            level=row.shown_level if row else 1, computed_level=row.computed_level if row else 1,
            population=loc.population, labelled=loc.kind in ("city", "town")))
    return svg.locality_map(places, area_name=settings.localities.area.name)


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: User = Depends(require("viewer"))):
    state = request.app.state
    now = state.clock()
    with state.store.transaction() as conn:
        firing = alert_rows(conn, state.settings, now)
    levels = locality_levels(state.store, state.settings, now, firing=firing)
    counts = {colour: sum(1 for r in levels if not r.is_area and r.colour == colour)
              for colour in ("red", "amber", "green")}
    return render(request, "overview.html", title="Overview", firing=firing, levels=levels,
                  map=locality_map(state.settings, levels), counts=counts, day=now.date(),
                  area_id=state.settings.localities.area.id)

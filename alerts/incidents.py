"""Real incidents marked by analysts, and how well a set of alerts anticipated them.

An incident is a place, a time and a short description of what happened (a gathering, an
assault, damage to a site). It is not evidence and never names anyone; it is the ground truth a
backtest scores alerts against:

* an incident is **detected** when an alert for its locality, or an area-wide alert, fired in
  ``[occurred_at - lead_window, occurred_at]`` (an incident recorded for the whole area is
  matched by an alert anywhere);
* its **lead time** is ``occurred_at`` minus the earliest such ``fired_at``;
* **precision** is the share of fired episodes that preceded some incident within the lead
  window; **recall** the share of incidents detected.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from monitor import audit
from monitor.errors import TensionError
from monitor.store.schema import incidents

LEAD_WINDOW = dt.timedelta(hours=72)


@dataclass(frozen=True)
class Incident:
    id: int
    locality_id: str
    occurred_at: dt.datetime
    description: str
    created_by: str
    created_at: dt.datetime


def add_incident(store, *, locality_id: str, occurred_at: dt.datetime, description: str, by: str,
                 now: dt.datetime, known: set[str] | None = None) -> Incident:
    """Record an incident (audited). ``known`` are the valid place ids (localities and area)."""
    if known is not None and locality_id not in known:
        raise TensionError(f"unknown locality {locality_id!r} (use one of: {', '.join(sorted(known))})")
    if occurred_at.tzinfo is None:
        raise TensionError("give the incident time with a time zone, or as UTC")
    if occurred_at > now:
        raise TensionError(f"the incident time {occurred_at:%Y-%m-%d %H:%M} UTC is in the future")
    if not description.strip() or not by.strip():
        raise TensionError("an incident needs a description and who recorded it")
    values = {"locality_id": locality_id, "occurred_at": occurred_at, "description": description.strip(),
              "created_by": by.strip(), "created_at": now}
    with store.transaction() as conn:
        new_id = conn.execute(sa.insert(incidents).values(**values)).inserted_primary_key[0]
        audit.record(conn, at=now, actor=values["created_by"], action="incident.add",
                     object_type="incident", object_id=str(new_id),
                     detail={"locality_id": locality_id, "occurred_at": occurred_at.isoformat()})
    return Incident(id=new_id, **values)


def list_incidents(store, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Incident]:
    """Incidents that occurred in ``[start, end)``, oldest first (all when not given)."""
    query = sa.select(incidents).order_by(incidents.c.occurred_at, incidents.c.id)
    if start is not None:
        query = query.where(incidents.c.occurred_at >= start)
    if end is not None:
        query = query.where(incidents.c.occurred_at < end)
    with store.transaction() as conn:
        return [Incident(**row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class Detection:
    """One incident and the alerts that came before it."""

    incident_id: int
    locality_id: str
    occurred_at: dt.datetime
    first_alert_at: dt.datetime | None  # None: not detected
    lead: dt.timedelta | None
    rule_ids: tuple[str, ...]  # rules whose alerts preceded it


@dataclass(frozen=True)
class Scoring:
    lead_window: dt.timedelta
    incidents: int
    detected: int
    episodes: int
    true_episodes: int  # episodes that preceded an incident within the lead window
    precision: float | None  # None when nothing fired
    recall: float | None  # None when there are no incidents
    median_lead: dt.timedelta | None
    mean_lead: dt.timedelta | None
    detections: tuple[Detection, ...]


def _matches(episode, incident: Incident, area_id: str, lead_window: dt.timedelta) -> bool:
    where = episode.locality in (incident.locality_id, area_id) or incident.locality_id == area_id
    return where and incident.occurred_at - lead_window <= episode.fired_at <= incident.occurred_at


def score(episodes: Sequence, found: Sequence[Incident], area_id: str,
          lead_window: dt.timedelta = LEAD_WINDOW) -> Scoring:
    """Precision, recall and lead time of ``episodes`` (anything with ``rule_id``, ``locality``
    and ``fired_at``, e.g. ``alerts.backtest.Episode``) against ``found`` incidents."""
    if lead_window <= dt.timedelta(0):
        raise TensionError("the lead window must be positive, e.g. 72h")
    detections = []
    for incident in found:
        before = [e for e in episodes if _matches(e, incident, area_id, lead_window)]
        first = min((e.fired_at for e in before), default=None)
        detections.append(Detection(
            incident.id, incident.locality_id, incident.occurred_at, first,
            incident.occurred_at - first if first is not None else None,
            tuple(sorted({e.rule_id for e in before}))))
    true = sum(any(_matches(e, i, area_id, lead_window) for i in found) for e in episodes)
    leads = [d.lead for d in detections if d.lead is not None]
    return Scoring(
        lead_window=lead_window, incidents=len(found), detected=len(leads), episodes=len(episodes),
        true_episodes=true, precision=true / len(episodes) if episodes else None,
        recall=len(leads) / len(found) if found else None,
        median_lead=statistics.median(leads) if leads else None,
        mean_lead=sum(leads, dt.timedelta(0)) / len(leads) if leads else None,
        detections=tuple(detections))

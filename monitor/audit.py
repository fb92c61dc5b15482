"""The audit log: who did what, written in the same transaction as the action itself.

Analyst level overrides, acknowledgements, silences and (with the dashboard) every view of raw
post text land here, so an action and its record can never disagree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert

from monitor.store.schema import audit_log


def record(conn: Connection, *, at: dt.datetime, actor: str, action: str, object_type: str,
           object_id: str | None, detail: dict) -> None:
    conn.execute(insert(audit_log).values(at=at, actor=actor, action=action, object_type=object_type,
                                          object_id=object_id, detail=detail))

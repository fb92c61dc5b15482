"""Imported fact-check claims: stored once, matched like library narratives from then on."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite

from monitor.errors import TensionError
from monitor.store import Store
from monitor.store.schema import claims

# Ratings fact-checkers use, folded onto the library's statuses. Checked in order.
_RATINGS = (
    (r"pants on fire|\bfalse\b|\bfake\b|hoax|incorrect|not true|fabricated|baseless", "false"),
    (r"misleading|mislead|mostly false|half true|mixture|mixed|distort|out of context|exaggerat|"
     r"missing context|partly", "misleading"),
    (r"\btrue\b|correct|accurate", "true"),
)


def status_from_rating(rating: str | None) -> str:
    """'Pants on Fire' -> false, 'Missing context' -> misleading, 'Unproven' -> unverified."""
    text = (rating or "").casefold()
    for pattern, status in _RATINGS:
        if re.search(pattern, text):
            return status
    return "unverified"


def import_claims(store: Store, path: Path, now: dt.datetime) -> tuple[int, list[str]]:
    """Store every usable claim in the file (re-importing updates); return (count, skipped)."""
    from classifiers.claims import load_claims

    try:
        result = load_claims(path)
    except FileNotFoundError:
        raise TensionError(f"{path}: file not found") from None
    except (OSError, ValueError) as exc:
        raise TensionError(str(exc).splitlines()[0]) from None
    rows = [
        {
            "id": record.id[:120],
            "text": record.text,
            "title": record.title,
            "status": status_from_rating(record.rating),
            "rating": record.rating,
            "url": record.url,
            "publisher": record.publisher,
            "imported_from": str(path),
            "imported_at": now,
        }
        for record in result.claims
    ]
    if rows:
        insert = (postgresql if store.dialect == "postgresql" else sqlite).insert(claims)
        stmt = insert.on_conflict_do_update(
            index_elements=["id"],
            set_={c: insert.excluded[c] for c in rows[0] if c != "id"},
        )
        with store.transaction() as conn:
            conn.execute(stmt, rows)
    return len(rows), list(result.skipped)

"""The collect stage: poll a source, pseudonymise, store posts and fetch state together.

Failures never escape as exceptions: a failed poll is recorded in the fetch state with a
jittered exponential backoff (capped, never giving up), or as ``gone`` when the server says
the feed no longer exists. The source-health rule reads that state to alert officers.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.errors import SourceError, StorageError
from monitor.privacy import Pseudonymiser, content_hash
from monitor.store import Store
from sources.base import Collection, FetchState, Post
from sources.http import HttpPolicy

log = logging.getLogger("tension.collect")

# A replay file or a paged API can hand over many batches in one job; stop eventually so one
# source cannot hold a worker for ever.
MAX_BATCHES_PER_RUN = 10_000


@dataclass
class CollectReport:
    source_id: str
    new: int = 0
    duplicates: int = 0
    copies: int = 0
    batches: int = 0
    not_modified: bool = False
    error: str | None = None
    skipped: str | None = None
    next_poll_at: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)


def post_row(post: Post, *, platform: str, keep_author: bool, pseudonymiser: Pseudonymiser,
             now: dt.datetime) -> dict:
    """The stored form of a post. The raw handle stops here."""
    author = None
    if keep_author and post.author_handle:
        author = pseudonymiser.pseudonym(platform, post.author_handle)
    return {
        "source_id": post.source_id,
        "external_id": post.external_id[:512],
        "platform": str(post.meta.get("platform") or platform)[:32],
        "url": post.url,
        "author_pseudonym": author,
        "text": post.text,
        "title": post.title,
        "language": (post.language or None) and post.language[:16],
        "content_hash": content_hash(post.text),
        "published_at": post.published_at,
        "collected_at": now,
        "text_purged_at": None,
        "geo_lat": post.geo[0] if post.geo else None,
        "geo_lon": post.geo[1] if post.geo else None,
        # "contact" is a reporter's contact: sealed apart by monitor.reports, never stored here
        "meta": {k: v for k, v in post.meta.items() if k not in ("platform", "contact")}
        | ({"place_hints": list(post.place_hints)} if post.place_hints else {}),
    }


def backoff_delay(failures: int, policy: HttpPolicy, rng: random.Random) -> dt.timedelta:
    """Exponential from ``backoff_base``, capped at ``backoff_max``, with +/-25% jitter."""
    base = policy.backoff_base.total_seconds()
    cap = policy.backoff_max.total_seconds()
    seconds = min(cap, base * 2 ** max(0, failures - 1))
    return dt.timedelta(seconds=seconds * rng.uniform(0.75, 1.25))


def is_due(state: FetchState, now: dt.datetime) -> bool:
    if state.status == "gone":
        return False
    return state.next_poll_at is None or state.next_poll_at <= now


def collect_source(
    store: Store,
    source,
    config,
    *,
    pseudonymiser: Pseudonymiser,
    policy: HttpPolicy,
    now: dt.datetime,
    rng: random.Random,
    contact_vault: Callable[[], object] | None = None,
) -> CollectReport:
    """Poll ``source`` once (or until it has nothing more ready) and store what it found.
    ``contact_vault`` gives the vault that seals report contacts (monitor.reports) when a
    report collector hands one over; it is only opened then."""
    report = CollectReport(source_id=source.id)
    state = store.load_state(source.id)
    if state.status == "gone":
        report.skipped = "gone (HTTP 410): fix the URL in the sources config and reset the source"
        return report
    try:
        for _ in range(MAX_BATCHES_PER_RUN):
            collection = source.collect(state, now)
            state = _store_batch(store, collection, config, pseudonymiser, now, rng, report,
                                 contact_vault)
            if not collection.more:
                break
    except SourceError as exc:
        state = _record_failure(store, state, exc, policy, now, rng)
        report.error = str(exc)
    except StorageError as exc:
        # Nothing of this batch was written (the transaction rolled back, cursor included), so
        # the next run fetches it again.
        report.error = str(exc)
    report.next_poll_at = state.next_poll_at
    return report


def _store_batch(store: Store, collection: Collection, config, pseudonymiser, now, rng,
                 report: CollectReport, contact_vault=None) -> FetchState:
    from monitor.reports import seal_contacts, take_contacts

    found, contacts = take_contacts(collection.posts)
    if contacts and contact_vault is None:
        raise SourceError(f"{config.id}: reports with contacts need the contact vault; "
                          "nothing was stored")
    rows = [
        post_row(p, platform=config.platform, keep_author=config.keep_author,
                 pseudonymiser=pseudonymiser, now=now)
        for p in found
    ]
    jitter = rng.uniform(0, config.jitter.total_seconds())
    wait = max(config.every.total_seconds() + jitter, collection.retry_after or 0)
    # A source that has used up its allowance (X's monthly read cap) says so in its state,
    # and that stays visible (sources list, source-health alert) until the source clears it.
    exhausted = collection.state.status == "exhausted"
    state = collection.state.evolve(
        consecutive_failures=0,
        last_success_at=now,
        last_error=collection.state.last_error if exhausted else None,
        status="exhausted" if exhausted else "ok",
        next_poll_at=now + dt.timedelta(seconds=wait),
    )
    also = None
    if contacts:
        vault = contact_vault()
        also = lambda conn: seal_contacts(conn, vault, config.id, contacts, now)  # noqa: E731
    result = store.ingest(rows, state, also=also)
    report.batches += 1
    report.new += result.new
    report.duplicates += result.duplicates
    report.copies += result.copies
    report.not_modified = report.not_modified or collection.not_modified
    report.notes.extend(collection.notes)
    return state


def _record_failure(store, state: FetchState, exc: SourceError, policy, now, rng) -> FetchState:
    failures = state.consecutive_failures + 1
    if exc.gone:
        next_poll = None
        status = "gone"
    else:
        delay = backoff_delay(failures, policy, rng)
        if exc.retry_after:
            delay = max(delay, dt.timedelta(seconds=exc.retry_after))
        next_poll = now + delay
        status = "failing"
    state = state.evolve(
        consecutive_failures=failures,
        last_error=str(exc)[:2000],
        last_error_at=now,
        status=status,
        next_poll_at=next_poll,
    )
    try:
        store.save_state(state)
    except StorageError as storage_exc:
        log.error("could not record source failure", extra={"fields": {
            "source": state.source_id, "error": str(storage_exc)}})
    return state

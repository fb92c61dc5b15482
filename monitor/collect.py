"""The collect stage: poll a source, pseudonymise, store posts and fetch state together.

Failures never escape as exceptions: a failed poll (whatever the collector or the store
raised) is recorded in the fetch state with a jittered exponential backoff (capped, never
giving up), or as ``gone`` when the server says the feed no longer exists. The source-health
rule reads that state to alert officers.

Every post passes ``sources.base.storable`` here, whichever collector made it: what cannot be
stored is skipped and named (line number or id) in one note that also stays in the source's
``last_error``, and the rest of the batch is stored. A post the database still refuses is
skipped the same way once the database has shown it accepts writes, so it is not retried
for ever.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor.errors import SourceError, StorageError
from monitor.privacy import Pseudonymiser, content_hash
from monitor.store import IngestResult, Store
from sources.base import Collection, FetchState, Post, Unstorable, listing, storable
from sources.http import HttpPolicy

log = logging.getLogger("tension.collect")

# A replay file or a paged API can hand over many batches in one job; stop eventually so one
# source cannot hold a worker for ever.
MAX_BATCHES_PER_RUN = 10_000
# How long `sources list` and the dashboard keep showing a poll's skipped items.
SKIPS_SHOWN_FOR = dt.timedelta(days=1)


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
    # each item skipped as not storable: "line 7: ..." (replay) or "id '...': ..." (any collector)
    rejected: list[str] = field(default_factory=list)


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
    try:
        state = store.load_state(source.id)
    except StorageError as exc:
        report.error = str(exc)
        return report
    if state.status == "gone":
        report.skipped = "gone (HTTP 410): fix the URL in the sources config and reset the source"
        return report
    try:
        for _ in range(MAX_BATCHES_PER_RUN):
            collection = source.collect(state, now)
            state = _store_batch(store, collection, config, pseudonymiser, now, rng, report,
                                 contact_vault, previous=state)
            if not collection.more:
                break
    except (SourceError, StorageError) as exc:
        # A storage error wrote nothing of this batch (the transaction rolled back, cursor
        # included), so the next run fetches it again.
        state = _record_failure(store, state, exc, policy, now, rng)
        report.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - source boundary: a collector's bug is its source's error
        log.exception("collector crashed", extra={"fields": {"source": source.id}})
        report.error = f"collector crashed: {type(exc).__name__}: {exc}"
        state = _record_failure(store, state, SourceError(report.error), policy, now, rng)
    report.next_poll_at = state.next_poll_at
    return report


def _admit(posts: list[Post], now: dt.datetime, rejected: list[str], changed: list[str]) -> list[Post]:
    """The posts that can be stored, as ``storable`` makes them; the others named in ``rejected``."""
    kept = []
    for post in posts:
        try:
            post, remark = storable(post, now)
        except Unstorable as exc:
            rejected.append(f"id {_shown(post.external_id)}: {exc}")
            continue
        if remark:
            changed.append(f"id {_shown(post.external_id)}: {remark}")
        kept.append(post)
    return kept


def _shown(external_id) -> str:
    return repr(external_id)[:80]


def _store_batch(store: Store, collection: Collection, config, pseudonymiser, now, rng,
                 report: CollectReport, contact_vault=None, *, previous: FetchState) -> FetchState:
    from monitor.reports import seal_contacts, take_contacts

    rejected, changed = list(collection.rejected), []
    found, contacts = take_contacts(_admit(collection.posts, now, rejected, changed))
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
    # A note of skipped items (a poll that succeeded) stays for a day; a failure's error goes
    # with the first good poll.
    exhausted = collection.state.status == "exhausted"
    before = collection.state
    skips_shown = (before.consecutive_failures == 0 and before.last_error_at is not None
                   and now - before.last_error_at < SKIPS_SHOWN_FOR)
    state = collection.state.evolve(
        consecutive_failures=0,
        last_success_at=now,
        last_error=before.last_error if exhausted or skips_shown else None,
        status="exhausted" if exhausted else "ok",
        next_poll_at=now + dt.timedelta(seconds=wait),
    )
    also = None
    if contacts:
        vault = contact_vault()
        also = lambda conn: seal_contacts(conn, vault, config.id, contacts, now)  # noqa: E731
    # Skipped items are the source's last error (sources list, dashboard), kept for a day.
    known = len(rejected)
    state = _with_skips(state, report.rejected + rejected, now)
    result = _ingest(store, rows, state, previous, also, rejected)
    if len(rejected) > known:
        state = _with_skips(state, report.rejected + rejected, now)
        store.save_state(state)
    report.rejected.extend(rejected)
    report.batches += 1
    report.new += result.new
    report.duplicates += result.duplicates
    report.copies += result.copies
    report.not_modified = report.not_modified or collection.not_modified
    report.notes.extend(collection.notes)
    if rejected:
        report.notes.append(listing("item(s) skipped", rejected))
    if changed:
        report.notes.append(listing("post(s) stored with a value changed", changed))
    return state


def _with_skips(state: FetchState, rejected: list[str], now: dt.datetime) -> FetchState:
    if not rejected:
        return state
    return state.evolve(last_error=listing("item(s) skipped", rejected)[:2000], last_error_at=now)


def _ingest(store: Store, rows: list[dict], state: FetchState, previous: FetchState, also,
            rejected: list[str]) -> IngestResult:
    """Store the batch in one transaction; if the database refuses it but still accepts a write
    of the source's previous state, store the posts one by one and skip (naming) those refused,
    so one post cannot make the source retry for ever."""
    try:
        return store.ingest(rows, state, also=also)
    except StorageError:
        if not rows:
            raise
        store.save_state(previous)  # raises again when the database itself is failing
    new = duplicates = copies = 0
    for row in rows:
        try:
            one = store.ingest([row], None)
        except StorageError as exc:
            rejected.append(f"id {_shown(row['external_id'])}: {exc}")
            continue
        new, duplicates, copies = new + one.new, duplicates + one.duplicates, copies + one.copies
    store.ingest([], state, also=also)
    return IngestResult(new=new, duplicates=duplicates, copies=copies)


def _record_failure(store, state: FetchState, exc: SourceError | StorageError, policy, now,
                    rng) -> FetchState:
    failures = state.consecutive_failures + 1
    if getattr(exc, "gone", False):
        next_poll = None
        status = "gone"
    else:
        delay = backoff_delay(failures, policy, rng)
        if getattr(exc, "retry_after", None):
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

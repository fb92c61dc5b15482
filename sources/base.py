"""The contract every collector keeps: a source turns its fetch state into new posts.

A collector never touches the database. It receives the stored ``FetchState`` and returns a
``Collection``: the posts it found and the state to store with them. The ingest stage
(``monitor.ingest``) pseudonymises authors and writes posts and state in one transaction, so a
crash between fetching and storing loses nothing and a rerun duplicates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Post:
    """One public item from a source, before pseudonymisation.

    ``author_handle`` is the platform's handle or id. It lives only in memory between the
    collector and the ingest stage, which replaces it with an HMAC pseudonym (or drops it when
    the source's terms forbid keeping any author identifier). It is never stored.
    """

    source_id: str
    external_id: str
    text: str
    published_at: datetime
    url: str | None = None
    author_handle: str | None = None
    language: str | None = None
    title: str | None = None
    geo: tuple[float, float] | None = None
    place_hints: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchState:
    """What a source remembers between polls. Stored in the ``fetch_state`` table."""

    source_id: str
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    status: str = "ok"  # ok | failing | gone | exhausted

    def evolve(self, **changes: Any) -> FetchState:
        return replace(self, **changes)


@dataclass(frozen=True)
class Collection:
    """The result of one poll.

    ``state`` is the state to store *with* these posts. ``more`` says the source has more
    ready now (a replay file or a paged API) and the caller may poll again at once.
    ``retry_after`` is a server's explicit wait request in seconds, honoured by the scheduler.
    ``notes`` are human-readable remarks for the log (e.g. a malformed feed that still parsed).
    """

    posts: list[Post]
    state: FetchState
    more: bool = False
    not_modified: bool = False
    retry_after: float | None = None
    notes: tuple[str, ...] = ()


class Source(Protocol):
    """A configured collector. ``collect`` raises ``SourceError`` on a failed poll."""

    id: str
    kind: str

    def collect(self, state: FetchState, now: datetime) -> Collection: ...

    def close(self) -> None: ...

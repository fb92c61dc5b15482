"""The contract every collector keeps: a source turns its fetch state into new posts.

A collector never touches the database. It receives the stored ``FetchState`` and returns a
``Collection``: the posts it found and the state to store with them. The ingest stage
(``monitor.ingest``) pseudonymises authors and writes posts and state in one transaction, so a
crash between fetching and storing loses nothing and a rerun duplicates nothing.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
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
    ``rejected`` names each item the collector could not turn into a post, with where it was
    and why ("line 7: published_at 0001-01-01 is before 2000"); the collect stage reports them.
    """

    posts: list[Post]
    state: FetchState
    more: bool = False
    not_modified: bool = False
    retry_after: float | None = None
    notes: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()


class Source(Protocol):
    """A configured collector. ``collect`` raises ``SourceError`` on a failed poll."""

    id: str
    kind: str

    def collect(self, state: FetchState, now: datetime) -> Collection: ...

    def close(self) -> None: ...


# -- what can be stored ----------------------------------------------------------------------

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=1)
ID_MAX = 512  # posts.external_id
LANGUAGE_MAX = 16  # posts.language
_SURROGATE = re.compile("[\ud800-\udfff]")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
# How many items a note names before "and N more".
NAMED_IN_NOTE = 5


class Unstorable(ValueError):
    """A post that cannot be stored as one; the message is the reason, in a few words."""


def storable(post: Post, now: datetime) -> tuple[Post, str | None]:
    """The post as the store can hold it, and a remark when a value had to change; raises
    ``Unstorable`` when it cannot be a post.

    The one check every collector's output passes (the collect stage calls it for each post; the
    replay calls it per line to name line numbers). Text is made encodable (lone surrogates
    become U+FFFD, NULs go: PostgreSQL refuses both); a number where text belongs is written as
    text; an id too long for its column becomes its SHA-256; a language that is not a language
    tag is dropped (scoring detects it); meta becomes plain JSON. ``published_at`` must be a
    date-time from 2000 on; one more than a day ahead of ``now`` is given ``now``, the collection
    time, and the remark says so. A list, an object or true/false where text belongs, a missing
    or blank text and a url that is not text are refused with the field named."""
    published, remark = _published(post.published_at, now)
    external_id = _text_of(post.external_id, "id", required=True)
    if len(external_id) > ID_MAX:
        external_id = "sha256:" + hashlib.sha256(external_id.encode()).hexdigest()
    text = _text_of(post.text, "text", required=True)
    if not isinstance(post.url, (str, type(None))):
        raise Unstorable(f"url is {_kind(post.url)}, not text")
    language = post.language if isinstance(post.language, str) else None
    language = language.strip() if language and _LANGUAGE_TAG.match(language.strip()) \
        and len(language.strip()) <= LANGUAGE_MAX else None
    if not isinstance(post.meta, dict):
        raise Unstorable(f"meta is {_kind(post.meta)}, not a mapping")
    hints = post.place_hints if isinstance(post.place_hints, (tuple, list)) else ()
    return replace(
        post,
        source_id=str(post.source_id),
        external_id=external_id,
        text=text,
        published_at=published,
        url=_text_of(post.url, "url") or None,
        author_handle=_text_of(post.author_handle, "author") or None,
        language=language,
        title=_text_of(post.title, "title") or None,
        geo=_point(post.geo),
        place_hints=tuple(_clean(h) for h in hints if isinstance(h, str) and h.strip()),
        meta=_plain_json(post.meta),
    ), remark


def listing(count_of: str, items: list[str]) -> str:
    """One line for the log and ``last_error``: "3 item(s) skipped: line 4: not JSON; ...;
    and 1 more"."""
    named = "; ".join(item[:160] for item in items[:NAMED_IN_NOTE])
    more = f"; and {len(items) - NAMED_IN_NOTE} more" if len(items) > NAMED_IN_NOTE else ""
    return f"{len(items)} {count_of}: {named}{more}"


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return {dict: "an object", list: "a list", tuple: "a list"}.get(type(value), f"a {type(value).__name__}")


def encodable(value: str) -> bool:
    """Whether text can be stored as it is: UTF-8 (and so either database) has no form for a
    surrogate code point, the escape a broken decode leaves behind."""
    return not _SURROGATE.search(value)


def _clean(value: str) -> str:
    if _SURROGATE.search(value):  # pairs are joined, lone halves replaced
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value.replace("\x00", "")


def _text_of(value: Any, name: str, *, required: bool = False) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            value = str(value)
        except ValueError:  # an integer of thousands of digits
            raise Unstorable(f"{name} is a number too long to be text") from None
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise Unstorable(f"{name} is {_kind(value)}, not text")
    value = _clean(value)
    if required and not value.strip():
        raise Unstorable(f"{name} is empty")
    return value.strip() if name != "text" else value


def _published(value: Any, now: datetime) -> tuple[datetime, str | None]:
    if not isinstance(value, datetime):
        raise Unstorable(f"published_at is {_kind(value)}, not a date-time")
    try:
        when = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    except OverflowError:
        raise Unstorable(f"published_at {value.isoformat()} is out of range") from None
    if when < EARLIEST:
        raise Unstorable(f"published_at {when.date().isoformat()} is before 2000")
    if when > now + FUTURE_SLACK:
        return now, f"published_at {when.date().isoformat()} is more than a day ahead: stored as collected"
    return when, None


def _point(geo: Any) -> tuple[float, float] | None:
    try:
        lat, lon = (float(v) for v in geo)
    except (TypeError, ValueError, OverflowError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def _plain_json(value: Any, depth: int = 0) -> Any:
    """Meta as plain JSON: strings cleaned, keys as text, non-finite or over-64-bit numbers
    dropped, dates as ISO text, anything else as its text."""
    if depth > 20:
        return None
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -2**63 <= value < 2**63 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_clean(str(k)): _plain_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain_json(v, depth + 1) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return _clean(str(value))

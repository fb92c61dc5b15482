"""Mastodon: hashtag and local/public timelines of one instance, through Mastodon.py.

Each stream (a hashtag, the local or the federated timeline) keeps its own position in the
cursor: the id of the newest status delivered. Later polls ask for ``min_id`` = that id, which
returns the statuses *immediately* after it (``since_id`` would return the newest ones and skip
whatever lies between when more than a page arrived), then page forward with the Link headers
(``fetch_previous``) up to ``max_pages``. The position moves only past statuses returned, so no
status is lost between polls. A first poll takes the newest page only: history is not wanted.

An instance may close a timeline to anonymous readers (HTTP 401); that stream is skipped with a
note and the others continue. Any other failure aborts the poll: the cursor stays where it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from typing import Any, Literal, Mapping
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, NavigableString
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)
from pydantic import Field, HttpUrl, field_validator, model_validator

from monitor.errors import SourceError
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig
from sources.http import HostPacer, HttpPolicy
from sources.rss import _aware, _one_line

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
HASHTAG = re.compile(r"^\w+$")
# Statuses of closed timelines: 401 on current Mastodon, 403/422 on older servers and forks.
CLOSED = frozenset({401, 403, 422})
BLOCK_TAGS = ("p", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol")


class MastodonConfig(SourceConfig):
    kind: Literal["mastodon"] = "mastodon"
    platform: str = "mastodon"
    instance: HttpUrl
    hashtags: tuple[str, ...] = ()  # with or without the leading '#'
    timelines: tuple[Literal["local", "public"], ...] = ()
    # Some instances serve timelines only to logged-in apps: the token comes from this variable.
    access_token_env: str | None = Field(default=None, pattern=ENV_NAME)
    page_size: int = Field(default=40, ge=1, le=40)
    max_pages: int = Field(default=5, ge=1, le=100)

    @field_validator("hashtags")
    @classmethod
    def _bare_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        tags = tuple(tag.strip().removeprefix("#") for tag in value)
        for tag in tags:
            if not HASHTAG.match(tag):
                raise ValueError(f"{tag!r} is not a hashtag such as Cumbria or #Cumbria")
        return tuple(dict.fromkeys(tags))

    @model_validator(mode="after")
    def _something_to_read(self) -> MastodonConfig:
        if not self.hashtags and not self.timelines:
            raise ValueError("list at least one of `hashtags` or `timelines` (local, public)")
        return self


class _StreamClosed(Exception):
    """The instance will not serve this stream to us; the other streams carry on."""


class MastodonSource:
    """One instance. Keeps one Mastodon.py client, so connections and the instance check that
    Mastodon.py makes before a timeline call (``/api/v2/instance``) are reused."""

    kind = "mastodon"

    def __init__(self, config: MastodonConfig, policy: HttpPolicy, pacer: HostPacer,
                 environ: Mapping[str, str] = os.environ):
        self.id = config.id
        self.config = config
        self._policy = policy
        self._pacer = pacer
        self._base = str(config.instance).rstrip("/")
        self._host = urlsplit(self._base).hostname or self._base
        self._streams = [f"tag:{tag.lower()}" for tag in config.hashtags] + list(config.timelines)
        env = config.access_token_env
        self._token = (environ.get(env) or "").strip() if env else ""
        self._api = Mastodon(
            api_base_url=self._base,
            access_token=self._token or None,
            ratelimit_method="throw",  # never sleep inside a poll; the scheduler waits
            request_timeout=policy.timeout.total_seconds(),
            version_check_mode="none",  # no request at construction
            user_agent=policy.user_agent,
        )

    def collect(self, state: FetchState, now: dt.datetime) -> Collection:
        now = _aware(now).astimezone(dt.timezone.utc)
        if self.config.access_token_env and not self._token:
            raise SourceError(f"{self.id}: missing credential: set the environment variable "
                              f"{self.config.access_token_env}")
        positions = _positions(state.cursor)
        posts: list[Post] = []
        seen: set[str] = set()
        notes: list[str] = []
        more, closed, retry_after = False, 0, None
        for stream in self._streams:
            if self._spent():
                # The rate limit is used up: the remaining streams wait for the reset.
                reset = self._api.ratelimit_reset
                retry_after = max(0.0, reset - time.time()) if reset else None
                notes.append(f"{self._host}: rate limit used up; other streams wait for the reset")
                more = False
                break
            try:
                stream_posts, position, full = self._read(stream, positions.get(stream), now)
            except _StreamClosed as exc:
                notes.append(str(exc))
                closed += 1
                continue
            positions[stream] = position
            more = more or full
            for post in stream_posts:
                if post.external_id not in seen:
                    seen.add(post.external_id)
                    posts.append(post)
        if closed == len(self._streams):
            raise SourceError(f"{self.id}: every stream refused: {notes[0]}")
        cursor = json.dumps({k: v for k, v in positions.items() if v}, sort_keys=True)
        ok = state.evolve(cursor=cursor, last_success_at=now, last_error=None,
                          consecutive_failures=0, status="ok")
        return Collection(posts=posts, state=ok, more=more, retry_after=retry_after,
                          notes=tuple(notes))

    def close(self) -> None:
        self._api.session.close()

    def _read(self, stream: str, position: str | None, now: dt.datetime
              ) -> tuple[list[Post], str | None, bool]:
        """One stream's new statuses; returns the posts, the new position, and whether the page
        limit stopped it with statuses still waiting."""
        first_poll = position is None
        posts: list[Post] = []
        page = self._call(stream, lambda: self._first_page(stream, position))
        pages = 1
        while True:
            posts.extend(p for p in (self._to_post(s, stream, now) for s in page) if p)
            before, position = position, _newest(position, *(str(s.get("id")) for s in page))
            # A first poll takes only the newest page; a short page is the end of the stream; a
            # page with nothing newer means the server ignored min_id, and paging would loop.
            if (first_poll or len(page) < self.config.page_size or position == before
                    or self._spent()):
                return posts, position, False
            if pages >= self.config.max_pages:
                return posts, position, True
            following = self._call(stream, lambda: self._api.fetch_previous(page))
            if not following:
                return posts, position, True  # no Link header: the next poll goes on from here
            page, pages = following, pages + 1

    def _first_page(self, stream: str, position: str | None) -> list:
        limit = self.config.page_size
        if stream.startswith("tag:"):
            return self._api.timeline_hashtag(stream[4:], min_id=position, limit=limit)
        return self._api.timeline_public(min_id=position, limit=limit, local=stream == "local")

    def _call(self, stream: str, request) -> list:
        """One paced API call; every failure becomes ``SourceError`` or ``_StreamClosed``."""
        where = f"{self.id}: {self._host} {_label(stream)}"
        self._pacer.wait(self._host, self._policy.per_host_interval.total_seconds())
        try:
            page = request()
        except MastodonRatelimitError:
            reset = self._api.ratelimit_reset
            wait = max(0.0, reset - time.time()) if reset else None
            hint = f" (resets in {wait:.0f}s)" if wait is not None else ""
            raise SourceError(f"{where}: rate limited (HTTP 429){hint}", retry_after=wait) from None
        except MastodonUnauthorizedError as exc:
            raise _StreamClosed(self._closed_message(where, exc)) from None
        except MastodonServerError as exc:
            raise SourceError(f"{where}: server error (HTTP {_status(exc)})") from None
        except MastodonNetworkError as exc:
            raise SourceError(f"{where}: unreachable: {_one_line(exc)}") from None
        except MastodonAPIError as exc:
            if _status(exc) in CLOSED:
                raise _StreamClosed(self._closed_message(where, exc)) from None
            if "parse response as JSON" in str(exc):
                raise SourceError(f"{where}: malformed response (not JSON)") from None
            raise SourceError(f"{where}: request failed: {_one_line(exc)}") from None
        except MastodonError as exc:
            raise SourceError(f"{where}: request failed: {_one_line(exc)}") from None
        # Mastodon.py casts whatever JSON came to the declared type (an object becomes the list
        # of its keys), so the items themselves must be checked.
        if page is not None and not (isinstance(page, list) and all(isinstance(s, dict) for s in page)):
            raise SourceError(f"{where}: malformed response (not a list of statuses)")
        return page or []

    def _closed_message(self, where: str, exc: MastodonAPIError) -> str:
        reason = f"HTTP {_status(exc)}" + (f", {exc.args[3]}" if len(exc.args) > 3 and exc.args[3] else "")
        hint = ("the token may lack the read scope" if self._token
                else "set access_token_env or drop the stream")
        return f"{where} is closed to us ({reason}): skipped ({hint})"

    def _spent(self) -> bool:
        """True when the last response used up the rate limit: stop paging for this poll."""
        remaining, reset = self._api.ratelimit_remaining, self._api.ratelimit_reset
        return remaining is not None and remaining <= 0 and bool(reset) and reset > time.time()

    def _to_post(self, status: Any, stream: str, now: dt.datetime) -> Post | None:
        if not status.get("id") or status.get("reblog"):  # a boost repeats someone's status
            return None
        spoiler = " ".join((status.get("spoiler_text") or "").split())
        body = plain_text(status.get("content") or "")
        if not spoiler and not body:
            return None
        account = status.get("account") or {}
        acct = account.get("acct") or ""
        handle = (acct if "@" in acct else f"{acct}@{self._host}") if acct else None
        tags = [t.get("name") for t in status.get("tags") or () if t.get("name")]
        meta: dict[str, Any] = {"platform": self.config.platform, "instance": self._host,
                                "stream": stream}
        if tags:
            meta["hashtags"] = tags
        return Post(
            source_id=self.id,
            external_id=str(status["id"]),
            text=f"{spoiler}\n\n{body}".strip() if spoiler else body,
            published_at=_published(status.get("created_at"), now),
            url=status.get("url") or status.get("uri") or None,
            author_handle=handle,
            language=status.get("language") or None,
            title=spoiler or None,  # a content warning names what the status is about
            meta=meta,
        )


def plain_text(html: str) -> str:
    """Text of a status's HTML: paragraphs kept apart by a blank line, ``<br>`` as a line break,
    entities decoded, links as their full address (Mastodon hides parts of long URLs in
    invisible spans, which are text all the same)."""
    soup = BeautifulSoup(html, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for block in soup.find_all(BLOCK_TAGS):
        block.insert_after(NavigableString("\n\n"))
    paragraphs = []
    for chunk in re.split(r"\n[ \t]*\n", soup.get_text()):
        lines = (" ".join(line.split()) for line in chunk.split("\n"))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _positions(cursor: str | None) -> dict[str, str]:
    """Stream -> newest status id delivered. An unreadable cursor starts afresh, which costs
    one newest page per stream, never a gap that is not already there."""
    try:
        stored = json.loads(cursor or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {str(k): str(v) for k, v in stored.items() if isinstance(v, (str, int))}


def _newest(*ids: str | None) -> str | None:
    """Status ids are strings that sort as numbers on Mastodon (longer is newer) and as
    fixed-width strings on Pleroma-style servers; (length, text) orders both."""
    present = [i for i in ids if i and i != "None"]
    return max(present, key=lambda i: (len(i), i)) if present else None


def _published(value: Any, now: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return now
    if not isinstance(value, dt.datetime):
        return now
    return min(_aware(value).astimezone(dt.timezone.utc), now)


def _status(exc: MastodonAPIError) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _label(stream: str) -> str:
    return f"#{stream[4:]}" if stream.startswith("tag:") else f"{stream} timeline"

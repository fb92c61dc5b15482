"""Bluesky: the public Jetstream firehose filtered here, or searchPosts with an app password.

Jetstream needs no account: it is the whole network's public post stream, so the filtering by
our terms and place names happens here and only matching posts are kept. Each poll reads for
a bounded time and resumes from the stored cursor (Jetstream's ``time_us``) on the next one,
rewound a few seconds because replays are harmless (posts are deduplicated by at:// URI) and a
gap is not. ``searchPosts`` finds older posts the stream never showed us, but Bluesky serves it
only to logged-in accounts, hence the app password; the atproto SDK does the XRPC work.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from typing import Any, Callable, Iterable, Literal, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

from atproto_client import Client, models
from atproto_client.exceptions import (
    InvokeTimeoutError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.utils import get_model_as_dict
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError, InvalidAtUriError
from atproto_core.uri import AtUri
from pydantic import Field, HttpUrl, WebsocketUrl, field_validator, model_validator
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidStatus,
    WebSocketException,
)
from websockets.sync.client import ClientConnection, connect

from monitor.config_files import Duration
from monitor.errors import SourceError
from monitor.localities import Locality
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig
from sources.http import HostPacer, HttpPolicy
from sources.rss import _aware, _one_line, _retry_after

JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST_COLLECTION = "app.bsky.feed.post"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
MAX_EVENT_BYTES = 1_000_000  # Jetstream events are a few kB; anything bigger is not one
T = TypeVar("T")


class BlueskyConfig(SourceConfig):
    kind: Literal["bluesky"]
    platform: str = "bluesky"
    mode: Literal["jetstream", "search"] = "jetstream"
    # Kept when any term or place appears as a whole word or hashtag, in any case. The source
    # also takes the watched localities' names, aliases and hashtags (``place_terms``).
    terms: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    # Jetstream mode.
    jetstream_url: WebsocketUrl = WebsocketUrl(JETSTREAM_URL)
    read_for: Duration = dt.timedelta(seconds=20)
    max_events: int = Field(default=20_000, ge=1, le=1_000_000)
    rewind: Duration = dt.timedelta(seconds=5)
    # Search mode: the account's handle and app password come from these environment variables.
    service_url: HttpUrl = HttpUrl("https://bsky.social")
    handle_env: str | None = Field(default=None, pattern=ENV_NAME)
    app_password_env: str | None = Field(default=None, pattern=ENV_NAME)
    queries: tuple[str, ...] = ()  # empty: one search per term and place
    language: str | None = None  # search only posts in this language
    page_size: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=5, ge=1, le=100)

    @field_validator("terms", "places", "queries")
    @classmethod
    def _no_blank_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("entries must not be blank")
        return tuple(item.strip() for item in value)

    @model_validator(mode="after")
    def _search_needs_credentials(self) -> BlueskyConfig:
        if self.mode == "search" and not (self.handle_env and self.app_password_env):
            raise ValueError("mode search needs handle_env and app_password_env "
                             "(names of environment variables, e.g. TENSION_BSKY_HANDLE)")
        return self


def place_terms(localities: Iterable[Locality]) -> tuple[str, ...]:
    """Every name, alias and hashtag of the watched localities, for ``places``."""
    terms: list[str] = []
    for locality in localities:
        terms.extend((locality.name, *locality.aliases, *locality.hashtags))
    return tuple(dict.fromkeys(terms))


class TermMatcher:
    """Finds terms in text as whole words, in any case: "Workington" matches "#workington" and
    "Workington's" but not "Workingtonian"; "#Workington" matches only the hashtag."""

    def __init__(self, terms: Iterable[str]):
        self._canonical: dict[str, str] = {}
        for term in terms:
            self._canonical.setdefault(_fold(term), " ".join(term.split()))
        phrases = sorted(self._canonical, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I) if phrases else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def find(self, text: str) -> tuple[str, ...]:
        """The terms found, as configured, in order of first appearance."""
        if self._pattern is None:
            return ()
        found = (self._canonical.get(_fold(m.group(0))) for m in self._pattern.finditer(text))
        return tuple(dict.fromkeys(term for term in found if term))


class BlueskySource:
    """One Bluesky source. The search client logs in once and is kept, since createSession is
    rate limited per account (30 per 5 minutes); the SDK refreshes the session itself."""

    kind = "bluesky"

    def __init__(self, config: BlueskyConfig, policy: HttpPolicy, pacer: HostPacer,
                 places: Iterable[str] = ()):
        self.id = config.id
        self.config = config
        self._policy = policy
        self._pacer = pacer
        self._timeout = policy.timeout.total_seconds()
        self._terms = TermMatcher(config.terms)
        self._places = TermMatcher((*config.places, *places))
        self._queries = config.queries or tuple(dict.fromkeys((*config.terms, *config.places, *places)))
        self._client: Client | None = None

    def collect(self, state: FetchState, now: dt.datetime) -> Collection:
        now = _aware(now)
        if self.config.mode == "search":
            return self._collect_search(state, now)
        return self._collect_stream(state, now)

    def close(self) -> None:
        if self._client is not None:
            self._client.request.close()
            self._client = None

    # --- Jetstream ------------------------------------------------------------------------------

    def _collect_stream(self, state: FetchState, now: dt.datetime) -> Collection:
        if not (self._terms or self._places):
            raise SourceError(f"{self.id}: no terms or places to filter the Jetstream firehose on")
        resume = _stored(state.cursor).get("time_us")
        resume = resume if isinstance(resume, int) else None
        url = self._stream_url(resume)
        interval = self._policy.per_host_interval.total_seconds()
        try:
            self._pacer.wait(urlsplit(url).hostname or "", interval)
            with connect(url, open_timeout=self._timeout, close_timeout=2, max_size=MAX_EVENT_BYTES,
                         user_agent_header=self._policy.user_agent) as stream:
                return self._read(stream, state, now, resume)
        except InvalidStatus as exc:
            response = exc.response
            message = f"{url}: handshake refused: HTTP {response.status_code} {response.reason_phrase}"
            wait = _retry_after(response.headers.get("Retry-After"), now)
            if response.status_code in (429, 503):
                hint = f" (retry after {wait:g}s)" if wait is not None else ""
                raise SourceError(message.rstrip() + hint, retry_after=wait) from None
            raise SourceError(message.rstrip()) from None
        except TimeoutError:
            raise SourceError(f"{url}: timed out after {self._timeout:g}s") from None
        except (OSError, WebSocketException) as exc:  # refused, reset, DNS, bad handshake
            raise SourceError(f"{url}: unreachable: {_one_line(exc)}") from None

    def _stream_url(self, resume: int | None) -> str:
        """The configured URL with our collection and, when resuming, the rewound cursor."""
        parts = urlsplit(str(self.config.jetstream_url))
        query = [("wantedCollections", POST_COLLECTION)]
        if resume is not None:
            rewind_us = int(self.config.rewind.total_seconds() * 1_000_000)
            query.append(("cursor", str(max(0, resume - rewind_us))))
        own = f"{parts.query}&" if parts.query else ""
        return urlunsplit(parts._replace(query=own + urlencode(query)))

    def _read(self, stream: ClientConnection, state: FetchState, now: dt.datetime,
              resume: int | None) -> Collection:
        """Events until ``read_for`` or ``max_events``. A drop keeps what was read: the cursor is
        the last event fully handled, so the next poll resumes right after it."""
        deadline = time.monotonic() + self.config.read_for.total_seconds()
        posts: dict[str, Post] = {}
        frames = malformed = 0
        last: int | None = None
        dropped: str | None = None
        while frames < self.config.max_events:  # reaching it means more is queued
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                frame = stream.recv(timeout=remaining)
            except TimeoutError:
                break
            except ConnectionClosed as exc:
                dropped = "closed by the server" if isinstance(exc, ConnectionClosedOK) \
                    else _one_line(exc)
                break
            frames += 1
            try:
                time_us, event = _parse_event(frame)
            except ValueError:
                malformed += 1
                continue
            post = self._stream_post(event, time_us) if event else None
            if post:
                posts.setdefault(post.external_id, post)
            last = time_us
        if dropped and not frames:
            raise SourceError(
                f"{self.config.jetstream_url}: stream dropped before any event ({dropped})")
        notes = []
        if malformed:
            notes.append(f"{malformed} malformed event(s) skipped")
        if dropped:
            notes.append(f"stream dropped after {frames} event(s) ({dropped}); "
                         "the next poll resumes after the last complete event")
        cursor = last if last is not None else resume
        # Stopped by max_events while far behind the live stream: poll again at once to catch up.
        behind = last is not None and now - _from_us(last) > self.config.every
        stored = json.dumps({"time_us": cursor}) if cursor is not None else None
        return Collection(
            posts=list(posts.values()),
            state=state.evolve(cursor=stored),
            more=frames >= self.config.max_events and behind and not dropped,
            notes=tuple(notes),
        )

    def _stream_post(self, event: dict[str, Any], time_us: int) -> Post | None:
        did, rkey = event["did"], event["commit"]["rkey"]
        return self._post(f"at://{did}/{POST_COLLECTION}/{rkey}", _web_url(did, rkey), did,
                          event["commit"]["record"], _from_us(time_us), require_match=True)

    # --- searchPosts ----------------------------------------------------------------------------

    def _collect_search(self, state: FetchState, now: dt.datetime) -> Collection:
        """Each query pages newest first down to where the last poll stopped. A query with more
        pages than ``max_pages`` keeps its page cursor and asks to be polled again at once."""
        if not self._queries:
            raise SourceError(f"{self.id}: no queries, terms or places to search for")
        client = self._search_client(now)
        stored = _stored(state.cursor).get("search")
        stored = stored if isinstance(stored, dict) else {}
        posts: dict[str, Post] = {}
        marks: dict[str, dict[str, str]] = {}
        for query in self._queries:
            mark = stored.get(query) if isinstance(stored.get(query), dict) else {}
            found, marks[query] = self._search(client, query, mark, now)
            for post in found:
                posts.setdefault(post.external_id, post)
        more = any("page" in mark for mark in marks.values())
        return Collection(posts=list(posts.values()),
                          state=state.evolve(cursor=json.dumps({"search": marks})), more=more)

    def _search(self, client: Client, query: str, mark: dict[str, str],
                now: dt.datetime) -> tuple[list[Post], dict[str, str]]:
        since, page, newest = (mark.get(k) if isinstance(mark.get(k), str) else None
                               for k in ("since", "page", "newest"))
        posts: list[Post] = []
        for _ in range(self.config.max_pages):
            params = models.AppBskyFeedSearchPosts.Params(
                q=query, sort="latest", limit=self.config.page_size, since=since, cursor=page,
                lang=self.config.language)
            response = self._call(lambda: client.app.bsky.feed.search_posts(params), "search", now)
            for view in response.posts:
                post = self._search_post(view, now)
                if post is None:
                    continue
                posts.append(post)
                sort_at = _stamp(post.published_at)  # min(createdAt, indexedAt), as sortAt is
                newest = max(newest or sort_at, sort_at)
            page = response.cursor if response.posts else None
            if not page:
                return posts, ({"since": newest} if newest else {})
        return posts, {k: v for k, v in (("since", since), ("page", page), ("newest", newest)) if v}

    def _search_post(self, view: models.AppBskyFeedDefs.PostView, now: dt.datetime) -> Post | None:
        try:
            at_uri = AtUri.from_str(view.uri)
        except InvalidAtUriError:
            return None
        record = view.record if isinstance(view.record, dict) else get_model_as_dict(view.record)
        indexed = min(_parse_time(view.indexed_at) or now, now)
        return self._post(view.uri, _web_url(at_uri.host, at_uri.rkey), view.author.did, record,
                          indexed, require_match=False)

    def _search_client(self, now: dt.datetime) -> Client:
        if self._client is None:
            handle = _credential(self.config.handle_env)
            password = _credential(self.config.app_password_env)
            request = Request(timeout=self._timeout)
            client = Client(base_url=str(self.config.service_url), request=request)
            client.request.add_additional_header("User-Agent", self._policy.user_agent)
            self._call(lambda: client.login(handle, password, fetch_bsky_profile=False), "login", now)
            self._client = client
        return self._client

    def _call(self, request: Callable[[], T], what: str, now: dt.datetime) -> T:
        """One paced XRPC call; every SDK failure becomes a one-line ``SourceError``."""
        where = f"{self.config.service_url}: {what}"
        try:
            interval = self._policy.per_host_interval.total_seconds()
            self._pacer.wait(self.config.service_url.host or "", interval)
            return request()
        except RateLimitExceededError as exc:
            wait = exc.retry_after
            if wait is None and exc.reset_at is not None:
                wait = max(0.0, (exc.reset_at - now).total_seconds())
            hint = f" (retry after {wait:g}s)" if wait is not None else ""
            raise SourceError(f"{where}: rate limited (HTTP 429){hint}", retry_after=wait) from None
        except UnauthorizedError as exc:
            self.close()  # log in afresh next time: the session may have been revoked
            raise SourceError(f"{where}: refused ({_one_line(exc)}): check the account in "
                              f"{self.config.handle_env} and {self.config.app_password_env}") from None
        except InvokeTimeoutError:
            raise SourceError(f"{where}: timed out after {self._timeout:g}s") from None
        except NetworkError as exc:
            if exc.response is None:
                raise SourceError(f"{where}: unreachable: {_one_line(exc.__cause__ or exc)}") from None
            raise SourceError(f"{where}: HTTP {_one_line(exc)}") from None
        except RequestErrorBase as exc:
            raise SourceError(f"{where}: HTTP {_one_line(exc)}") from None
        except (AtProtocolError, ValueError) as exc:  # a body that is not the lexicon's shape
            raise SourceError(f"{where}: malformed response: {_one_line(exc)}") from None

    # --- shared ---------------------------------------------------------------------------------

    def _post(self, uri: str, url: str, did: str, record: dict[str, Any], seen: dt.datetime, *,
              require_match: bool) -> Post | None:
        """A post from an ``app.bsky.feed.post`` record, or None when it has no text or, from
        the firehose, mentions none of our terms or places."""
        text = record.get("text") if isinstance(record.get("text"), str) else ""
        card = _link_card(record)
        haystack = "\n".join((text, *card, *(f"#{tag}" for tag in _hashtags(record))))
        terms, places = self._terms.find(haystack), self._places.find(haystack)
        if (require_match and not (terms or places)) or not (text.strip() or card):
            return None
        langs = record.get("langs")
        meta: dict[str, Any] = {"platform": self.config.platform}
        if terms:
            meta["terms"] = list(terms)
        if isinstance(record.get("reply"), dict):
            meta["reply"] = True
        created = _parse_time(record.get("createdAt"))
        return Post(
            source_id=self.id,
            external_id=uri,
            text=text.strip() or card[0],
            # createdAt is set by the author's app and may be anything; the time the network
            # saw the post bounds it from above.
            published_at=min(created, seen) if created else seen,
            url=url,
            author_handle=did if self.config.keep_author else None,
            language=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str)
            else None,
            title=card[0] if card else None,
            place_hints=places,
            meta=meta,
        )


def _parse_event(frame: str | bytes) -> tuple[int, dict[str, Any] | None]:
    """``time_us`` and, when the event creates a post, the event itself. Identity and account
    events, deletes and other collections are handled by skipping them. ValueError: not a
    Jetstream event."""
    try:
        event = json.loads(frame)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(event, dict) or not isinstance(event.get("did"), str) \
            or not isinstance(event.get("time_us"), int) or not 0 < event["time_us"] < 10**17:
        raise ValueError("not a Jetstream event")
    commit = event.get("commit")
    if event.get("kind") != "commit":
        return event["time_us"], None
    if not isinstance(commit, dict):
        raise ValueError("commit event without a commit")
    if commit.get("collection") != POST_COLLECTION or commit.get("operation") != "create":
        return event["time_us"], None
    if not isinstance(commit.get("record"), dict) or not isinstance(commit.get("rkey"), str):
        raise ValueError("post create without a record")
    return event["time_us"], event


def _link_card(record: dict[str, Any]) -> tuple[str, ...]:
    """Title and description of an attached link card: often the only words of a shared link."""
    embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
    media = embed.get("media") if isinstance(embed.get("media"), dict) else {}
    external = embed.get("external") or media.get("external")
    if not isinstance(external, dict):
        return ()
    parts = (external.get("title"), external.get("description"))
    return tuple(p.strip() for p in parts if isinstance(p, str) and p.strip())


def _hashtags(record: dict[str, Any]) -> list[str]:
    """Tags from rich-text facets and the record's own ``tags`` (which are not in the text)."""
    tags = [t for t in _list(record.get("tags")) if isinstance(t, str)]
    for facet in _list(record.get("facets")):
        for feature in _list(facet.get("features") if isinstance(facet, dict) else None):
            if isinstance(feature, dict) and isinstance(feature.get("tag"), str):
                tags.append(feature["tag"])
    return tags


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _web_url(did: str, rkey: str) -> str:
    """The post's page on bsky.app (by DID, which unlike a handle never changes)."""
    return f"https://bsky.app/profile/{did}/post/{rkey}"


def _credential(name: str | None) -> str:
    """A secret's value from the environment variable the config names (never from a file)."""
    value = os.environ.get(name or "", "").strip()
    if not value:
        raise SourceError(f"missing credential: set the environment variable {name}")
    return value


def _stored(cursor: str | None) -> dict[str, Any]:
    """The fetch-state cursor as a dict; anything unreadable (another mode's, a hand edit)
    counts as no cursor, which at worst re-reads a few posts."""
    try:
        value = json.loads(cursor or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _aware(parsed).astimezone(dt.timezone.utc)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _from_us(time_us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(time_us / 1_000_000, tz=dt.timezone.utc)


def _fold(term: str) -> str:
    return " ".join(term.split()).casefold()

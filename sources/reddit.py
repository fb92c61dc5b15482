"""Reddit: new posts (and optionally comments) of chosen subreddits.

Without credentials the public JSON listing (``/r/<sub>/new.json``) is read with httpx, paced and
size-capped like every web request here. With an app's client id and secret (names of
environment variables in the config) PRAW reads the same listings through the OAuth API, which
Reddit rate-limits far more generously.

Listings run newest first and Reddit's ``before=`` cursor breaks for good when its post is
deleted, so each stream remembers the (created, id) of the newest item delivered (its floor)
and walks ``after=`` pages down to it. A walk cut short by ``max_pages`` keeps its ``after``
token and resumes on the next poll (``more=True``); the floor moves only when the walk reaches
it, so nothing between polls is lost. A first poll takes the newest page only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import httpx
import praw
import prawcore
import requests
from pydantic import Field, HttpUrl, field_validator, model_validator

from monitor.errors import SourceError
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig
from sources.http import HostPacer, HttpPolicy
from sources.rss import _aware, _one_line

REDDIT = "https://www.reddit.com"  # permalinks always point at the real site
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}$")
GONE_TEXT = frozenset({"[removed]", "[deleted]"})
Listing = Literal["new", "comments"]


class RedditConfig(SourceConfig):
    kind: Literal["reddit"] = "reddit"
    platform: str = "reddit"
    subreddits: tuple[str, ...] = Field(min_length=1)
    comments: bool = False  # also read each subreddit's newest comments
    # Both set: PRAW over OAuth with this app's credentials; neither: the public JSON listings.
    client_id_env: str | None = Field(default=None, pattern=ENV_NAME)
    client_secret_env: str | None = Field(default=None, pattern=ENV_NAME)
    base_url: HttpUrl = HttpUrl(REDDIT)  # public listings, and where OAuth tokens come from
    oauth_url: HttpUrl = HttpUrl("https://oauth.reddit.com")
    page_size: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=3, ge=1, le=10)

    @field_validator("subreddits")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(name.strip().removeprefix("/").removeprefix("r/") for name in value)
        for name in names:
            if not SUBREDDIT.match(name):
                raise ValueError(f"{name!r} is not a subreddit name such as Cumbria or r/Carlisle")
        return tuple(dict.fromkeys(names))

    @model_validator(mode="after")
    def _both_credentials_or_none(self) -> RedditConfig:
        if bool(self.client_id_env) != bool(self.client_secret_env):
            raise ValueError("set both client_id_env and client_secret_env (names of environment "
                             "variables, e.g. TENSION_REDDIT_CLIENT_ID), or neither")
        return self


@dataclass
class _Page:
    items: list[dict[str, Any]]
    after: str | None
    spent: bool = False  # the rate limit is used up: read nothing more this poll
    wait: float | None = None  # seconds until it resets, when known


class _StreamClosed(Exception):
    """The subreddit is private, banned or missing; the other streams carry on."""


class RedditSource:
    """One set of subreddits, read through the public listings or PRAW."""

    kind = "reddit"

    def __init__(self, config: RedditConfig, policy: HttpPolicy, pacer: HostPacer,
                 environ: Mapping[str, str] = os.environ):
        self.id = config.id
        self.config = config
        self._streams: list[tuple[str, Listing]] = [
            (name, listing) for name in config.subreddits
            for listing in (("new", "comments") if config.comments else ("new",))]
        self._missing: str | None = None
        if config.client_id_env and config.client_secret_env:
            client_id = (environ.get(config.client_id_env) or "").strip()
            secret = (environ.get(config.client_secret_env) or "").strip()
            missing = [n for n, v in ((config.client_id_env, client_id),
                                      (config.client_secret_env, secret)) if not v]
            self._missing = " and ".join(missing) or None
            self._listings: _PublicListings | _PrawListings = _PrawListings(
                config, client_id, secret, policy, pacer)
        else:
            self._listings = _PublicListings(config, policy, pacer)

    def collect(self, state: FetchState, now: dt.datetime) -> Collection:
        now = _aware(now).astimezone(dt.timezone.utc)
        if self._missing:
            raise SourceError(f"{self.id}: missing credential: set the environment variable "
                              f"{self._missing}")
        entries = _entries(state.cursor)
        posts: list[Post] = []
        notes: list[str] = []
        more, closed, retry_after = False, 0, None
        for name, listing in self._streams:
            key = f"{name.lower()}/{listing}"
            try:
                found, entries[key], full, page = self._read(name, listing, entries.get(key) or {}, now)
            except _StreamClosed as exc:
                notes.append(str(exc))
                closed += 1
                continue
            posts.extend(found)
            more = more or full
            if page.spent:
                notes.append("Reddit rate limit used up: the other subreddits wait for the next poll")
                more, retry_after = False, page.wait
                break
        if closed == len(self._streams):
            raise SourceError(f"{self.id}: every subreddit refused: {notes[0]}")
        cursor = json.dumps(entries, sort_keys=True, separators=(",", ":"))
        ok = state.evolve(cursor=cursor, last_success_at=now, last_error=None,
                          consecutive_failures=0, status="ok")
        return Collection(posts=posts, state=ok, more=more, retry_after=retry_after,
                          notes=tuple(notes))

    def close(self) -> None:
        self._listings.close()

    def _read(self, name: str, listing: Listing, entry: dict[str, Any], now: dt.datetime
              ) -> tuple[list[Post], dict[str, Any], bool, _Page]:
        """One stream's walk from the newest item (or the stored ``after``) down to its floor."""
        floor = _order(entry.get("floor"))
        after, top = entry.get("after"), entry.get("top")
        posts: list[Post] = []
        for _ in range(self.config.max_pages):
            page = self._listings.page(name, listing, after, self.config.page_size)
            fresh = [item for item in page.items if floor is None or (_order(_mark(item)) or floor) > floor]
            posts.extend(p for p in (self._to_post(item, listing, now) for item in fresh) if p)
            top = _newest(top, *(_mark(item) for item in page.items))
            if floor is None or len(fresh) < len(page.items) or not page.after:
                return posts, {"floor": top or entry.get("floor")}, False, page  # reached the floor
            after = page.after
            entry = {"floor": entry.get("floor"), "after": after, "top": top}
            if page.spent:
                return posts, entry, False, page
        return posts, entry, True, page

    def _to_post(self, item: dict[str, Any], listing: Listing, now: dt.datetime) -> Post | None:
        name, created = item.get("name"), item.get("created_utc")
        if not isinstance(name, str) or not isinstance(created, (int, float)):
            return None
        body = _clean(item.get("selftext") if listing == "new" else item.get("body"))
        title = _clean(item.get("title")) if listing == "new" else ""
        text = f"{title}\n\n{body}".strip() if title and body else (title or body)
        if not text:
            return None
        subreddit = str(item.get("subreddit") or "")
        meta: dict[str, Any] = {"platform": self.config.platform, "subreddit": subreddit}
        if listing == "comments" and item.get("link_title"):
            meta["thread"] = item["link_title"]
        if listing == "new" and not item.get("is_self", True) and item.get("url"):
            meta["link"] = item["url"]
        if item.get("link_flair_text"):
            meta["flair"] = item["link_flair_text"]
        author = item.get("author")
        return Post(
            source_id=self.id,
            external_id=name,
            text=text,
            published_at=min(dt.datetime.fromtimestamp(created, tz=dt.timezone.utc), now),
            url=REDDIT + _permalink(item, subreddit),
            author_handle=None if author in (None, "[deleted]") else str(author),
            title=title or None,
            meta=meta,
        )


class _PublicListings:
    """Reddit's public JSON listings over httpx: no account, a modest rate limit."""

    def __init__(self, config: RedditConfig, policy: HttpPolicy, pacer: HostPacer):
        self._base = str(config.base_url).rstrip("/")
        self._policy, self._pacer = policy, pacer
        self._timeout = policy.timeout.total_seconds()
        self._client = httpx.Client(timeout=self._timeout, follow_redirects=False,
                                    headers={"User-Agent": policy.user_agent})

    def page(self, name: str, listing: Listing, after: str | None, limit: int) -> _Page:
        url = f"{self._base}/r/{name}/{listing}.json"
        params = {"limit": str(limit), "raw_json": "1", **({"after": after} if after else {})}
        try:
            self._pacer.wait(httpx.URL(url).host, self._policy.per_host_interval.total_seconds())
            deadline = time.monotonic() + self._timeout
            with self._client.stream("GET", url, params=params) as response:
                _check_status(response, f"r/{name}")
                body = self._read_capped(response, url, deadline)
        except httpx.TimeoutException:
            raise SourceError(f"{url}: timed out after {self._timeout:g}s") from None
        except httpx.NetworkError as exc:
            raise SourceError(f"{url}: unreachable: {_one_line(exc)}") from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise SourceError(f"{url}: request failed: {_one_line(exc)}") from None
        try:
            document = json.loads(body)
        except ValueError:
            raise SourceError(f"{url}: malformed response (not JSON, {len(body)} bytes)") from None
        items, after = _listing_items(document, url)
        remaining = _number(response.headers.get("x-ratelimit-remaining"))
        if remaining is not None and remaining < 1:
            return _Page(items, after, spent=True, wait=_number(response.headers.get("x-ratelimit-reset")))
        return _Page(items, after)

    def _read_capped(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        limit, chunks, size = self._policy.max_bytes, [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise SourceError(f"{url}: response too large (over {limit} bytes, aborted)")
            if time.monotonic() > deadline:
                raise SourceError(f"{url}: timed out after {self._timeout:g}s")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._client.close()


class _PrawListings:
    """The same listings through PRAW and Reddit's OAuth API (an app's client credentials)."""

    def __init__(self, config: RedditConfig, client_id: str, secret: str, policy: HttpPolicy,
                 pacer: HostPacer):
        self._pacer, self._policy = pacer, policy
        self._oauth_url = str(config.oauth_url).rstrip("/")
        self._session = requests.Session()  # ours, so that close() can close it
        self._reddit = praw.Reddit(
            client_id=client_id or "unset", client_secret=secret or "unset",
            user_agent=policy.user_agent, oauth_url=self._oauth_url,
            reddit_url=str(config.base_url).rstrip("/"),
            timeout=max(1, round(policy.timeout.total_seconds())),
            requestor_kwargs={"session": self._session},
            check_for_updates=False, check_for_async=False)

    def page(self, name: str, listing: Listing, after: str | None, limit: int) -> _Page:
        subreddit = self._reddit.subreddit(name)
        source = subreddit.new if listing == "new" else subreddit.comments
        generator = source(limit=limit, params={"after": after} if after else None)
        where = f"r/{name}"
        self._pacer.wait(httpx.URL(self._oauth_url).host, self._policy.per_host_interval.total_seconds())
        try:
            things = list(generator)
        except prawcore.TooManyRequests as exc:
            wait = _number(exc.response.headers.get("x-ratelimit-reset")) or _number(exc.retry_after)
            raise SourceError(f"{where}: Reddit rate limit reached (HTTP 429)"
                              + (f" (resets in {wait:g}s)" if wait is not None else ""),
                              retry_after=wait) from None
        except prawcore.Redirect:
            raise _StreamClosed(f"{where}: no such subreddit (Reddit redirects to search): skipped") from None
        except (prawcore.NotFound, prawcore.Forbidden, prawcore.UnavailableForLegalReasons) as exc:
            raise _StreamClosed(f"{where}: closed to us (HTTP {exc.response.status_code}): skipped") from None
        except prawcore.OAuthException as exc:
            raise SourceError(f"{where}: Reddit refused the app credentials ({exc.error})") from None
        except prawcore.ServerError as exc:
            raise SourceError(f"{where}: Reddit server error (HTTP {exc.response.status_code})") from None
        except prawcore.BadJSON:
            raise SourceError(f"{where}: malformed response (not JSON)") from None
        except prawcore.ResponseException as exc:
            status = exc.response.status_code
            if status == 401:
                raise SourceError(f"{where}: Reddit refused the app credentials (HTTP 401)") from None
            raise SourceError(f"{where}: Reddit request failed (HTTP {status})") from None
        except prawcore.RequestException as exc:
            raise SourceError(f"{where}: Reddit unreachable: {_one_line(exc.original_exception)}") from None
        except (prawcore.PrawcoreException, praw.exceptions.PRAWException, KeyError, ValueError) as exc:
            # KeyError: prawcore maps a 401 without WWW-Authenticate through a dict lookup.
            raise SourceError(f"{where}: Reddit request failed: {_one_line(exc)}") from None
        # The generator stores the listing's ``after`` in its params; an unchanged value means
        # Reddit sent none, i.e. the listing ends here.
        following = generator.params.get("after")
        remaining = self._reddit.auth.limits.get("remaining")
        return _Page([_fields(thing) for thing in things],
                     following if following != after else None,
                     spent=remaining is not None and remaining < 1)

    def close(self) -> None:
        self._session.close()


def _check_status(response: httpx.Response, where: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (301, 302, 307, 308):
        raise _StreamClosed(f"{where}: no such subreddit (Reddit redirects to "
                            f"{response.headers.get('location', 'search')}): skipped")
    if status in (403, 404, 451):
        raise _StreamClosed(f"{where}: closed to us (HTTP {status}, {_reason(response)}): skipped")
    if status == 429:
        wait = _number(response.headers.get("x-ratelimit-reset"))
        wait = _number(response.headers.get("retry-after")) if wait is None else wait
        hint = f" (resets in {wait:g}s)" if wait is not None else ""
        raise SourceError(f"{where}: Reddit rate limit reached (HTTP 429){hint}", retry_after=wait)
    if status >= 500:
        raise SourceError(f"{where}: Reddit server error (HTTP {status})")
    raise SourceError(f"{where}: HTTP {status} {response.reason_phrase}".rstrip())


def _reason(response: httpx.Response) -> str:
    """Reddit says why in a small JSON body ({"reason": "private"}); read it when it is one."""
    try:
        response.read()
        return str(response.json().get("reason") or response.reason_phrase)
    except (ValueError, AttributeError, httpx.HTTPError):
        return response.reason_phrase


def _listing_items(document: Any, url: str) -> tuple[list[dict[str, Any]], str | None]:
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("children"), list):
        raise SourceError(f"{url}: malformed response (not a Reddit listing)")
    items = [child["data"] for child in data["children"]
             if isinstance(child, dict) and child.get("kind") in ("t1", "t3")
             and isinstance(child.get("data"), dict)]
    after = data.get("after")
    return items, after if isinstance(after, str) and after else None


def _fields(thing: Any) -> dict[str, Any]:
    """A PRAW object's fields as Reddit sent them. ``vars()`` never triggers PRAW's lazy fetch
    (reading a missing attribute would issue a request)."""
    data = {k: v for k, v in vars(thing).items() if not k.startswith("_")}
    for key in ("author", "subreddit"):
        if data.get(key) is not None:
            data[key] = str(data[key])
    data.setdefault("name", thing.fullname)
    return data


def _permalink(item: dict[str, Any], subreddit: str) -> str:
    permalink = item.get("permalink")
    if isinstance(permalink, str) and permalink.startswith("/"):
        return permalink
    link = str(item.get("link_id") or "").removeprefix("t3_")
    return f"/r/{subreddit}/comments/{link}/_/{item.get('id', '')}/"


def _clean(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return "" if text in GONE_TEXT else text


def _mark(item: dict[str, Any]) -> list[Any] | None:
    """An item's place in a listing, as stored in the cursor: [created, base-36 id]."""
    created, ident = item.get("created_utc"), item.get("id") or str(item.get("name") or "")[3:]
    if not isinstance(created, (int, float)) or not ident:
        return None
    return [float(created), str(ident)]


def _order(mark: Any) -> tuple[float, int] | None:
    """Comparable form of a mark: Reddit ids are base-36 counters, so they settle items created
    in the same second."""
    try:
        created, ident = mark
        return float(created), int(str(ident), 36)
    except (TypeError, ValueError):
        return None


def _newest(*marks: Any) -> list[Any] | None:
    valid = [mark for mark in marks if _order(mark) is not None]
    return max(valid, key=_order) if valid else None


def _entries(cursor: str | None) -> dict[str, dict[str, Any]]:
    try:
        stored = json.loads(cursor or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {k: v for k, v in stored.items() if isinstance(v, dict)}


def _number(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None

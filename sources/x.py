"""X (Twitter) recent search with tweepy: place-name queries, one since_id per query, a read cap.

X bills per post read, so every post read is counted in the fetch-state cursor and collection
stops for the rest of the calendar month (UTC) once ``monthly_read_cap`` is reached; the state
then says ``exhausted``. For the same reason posts already read are never thrown away: a failure
after some pages still returns them, and the next poll meets the error first and reports it.

Recent search pages run newest first, so a query's ``since_id`` only moves once a sweep has
reached it; a sweep cut short by ``max_pages`` keeps its ``next_token`` and resumes on the next
poll (``more=True``), which is how no post between polls is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping

import requests
import tweepy
from requests.adapters import HTTPAdapter
from pydantic import Field, field_validator

from monitor.config_files import Duration
from monitor.errors import ConfigError, SourceError
from monitor.localities import Locality
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig
from sources.http import HttpPolicy
from sources.rss import _aware, _one_line

QUERY_LIMIT = 512  # characters in one recent-search query (pay-per-use and Basic access)
MIN_PAGE = 10  # the smallest max_results recent search accepts
TWEET_FIELDS = ["created_at", "author_id", "lang", "geo", "public_metrics", "note_tweet"]
PLACE_FIELDS = ["full_name", "country_code"]
EXPANSIONS = ["geo.place_id"]
SNOWFLAKE_EPOCH_MS = 1288834974657  # post ids carry their creation time since this instant
POST_URL = "https://x.com/i/web/status/{id}"
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
BARE_TERM = re.compile(r"[#@$]?\w+")


class XConfig(SourceConfig):
    kind: Literal["x"] = "x"
    platform: str = "x"
    # X's developer terms: no author identifier is kept, not even a pseudonym.
    keep_author: bool = False
    bearer_token_env: str = Field(default="TENSION_X_BEARER_TOKEN", pattern=ENV_NAME)
    # Which localities' names, aliases and hashtags the registry turns into queries.
    localities: Literal["all"] | tuple[str, ...] = "all"
    # Extra place terms, searched as alternatives to the localities' own.
    places: tuple[str, ...] = ()
    # Topic terms: when given, a post must name a place AND one of these.
    terms: tuple[str, ...] = ()
    exclude_retweets: bool = True
    page_size: int = Field(default=100, ge=MIN_PAGE, le=100)
    max_pages: int = Field(default=5, ge=1, le=100)
    monthly_read_cap: int = Field(default=10_000, ge=1)
    # How far back the first sweep of a new query reaches (recent search keeps 7 days).
    backfill: Duration = dt.timedelta(hours=1)

    @field_validator("places", "terms")
    @classmethod
    def _no_blank_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("entries must not be blank")
        return tuple(item.strip() for item in value)

    @field_validator("backfill")
    @classmethod
    def _within_recent_search(cls, value: dt.timedelta) -> dt.timedelta:
        if not dt.timedelta(0) < value <= dt.timedelta(days=6):
            raise ValueError("backfill must be between 1s and 6d (recent search keeps 7 days)")
        return value


def place_terms(localities: Iterable[Locality], selection: Literal["all"] | Iterable[str] = "all"
                ) -> tuple[str, ...]:
    """X query fragments for the selected localities: names, aliases and hashtags.

    A name shared with places elsewhere (``ambiguous_with``) is searched only next to one of its
    ``context_terms`` ("(Brampton (Carlisle OR Cumbria ...))"), or not at all without them, so
    Brampton, Ontario does not eat the monthly read cap.
    """
    known = {locality.id: locality for locality in localities}
    wanted = list(known) if selection == "all" else list(selection)
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(f"x localities: unknown locality id(s) {', '.join(unknown)} "
                          "(hint: use ids from the localities file)")
    fragments: list[str] = []
    for locality in (known[name] for name in wanted):
        fragments.extend(_atom(tag) for tag in locality.hashtags)
        fragments.extend(_atom(alias) for alias in locality.aliases)
        if not locality.ambiguous_with:
            fragments.append(_atom(locality.name))
        elif locality.context_terms:
            fragments.append(f"({_atom(locality.name)} {_any_of(map(_atom, locality.context_terms))})")
    return tuple(dict.fromkeys(fragments))


def build_queries(places: Iterable[str], terms: Iterable[str] = (), *,
                  exclude_retweets: bool = True) -> list[str]:
    """Place alternatives packed into as few queries as fit in ``QUERY_LIMIT`` characters, each
    with the same topic group and operators."""
    suffix = ""
    topic = [_atom(term) for term in terms]
    if topic:
        suffix += " " + _any_of(topic)
    if exclude_retweets:
        suffix += " -is:retweet"
    budget = QUERY_LIMIT - len(suffix)
    queries: list[str] = []
    chunk: list[str] = []
    for atom in dict.fromkeys(_atom(place) for place in places):
        if len(_any_of([atom])) > budget:
            raise ConfigError(f"x query: {atom[:60]!r} with the topic terms is longer than "
                              f"{QUERY_LIMIT} characters (hint: fewer terms)")
        if chunk and len(_any_of([*chunk, atom])) > budget:
            queries.append(_any_of(chunk) + suffix)
            chunk = []
        chunk.append(atom)
    if chunk:
        queries.append(_any_of(chunk) + suffix)
    return queries


@dataclass
class _Poll:
    """What one poll has gathered so far, across queries."""

    ledger: dict[str, Any]
    posts: list[Post] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    read: int = 0
    more: bool = False
    halted: bool = False  # rate limit spent or read cap reached: no further queries this poll
    retry_after: float | None = None


class _StaleCursor(Exception):
    """X refused a since_id, start_time or next_token (older than 7 days, or expired)."""


class XSource:
    """One set of X search queries. The tweepy client is kept so connections are reused."""

    kind = "x"

    def __init__(self, config: XConfig, policy: HttpPolicy, places: Iterable[str] = (),
                 environ: Mapping[str, str] = os.environ):
        self.id = config.id
        self.config = config
        self._queries = build_queries((*config.places, *places), config.terms,
                                      exclude_retweets=config.exclude_retweets)
        if not self._queries:
            raise ConfigError(f"x source {config.id!r}: no place terms to search "
                              "(hint: list `places:` or select localities)")
        token = (environ.get(config.bearer_token_env) or "").strip()
        self._client: tweepy.Client | None = None
        if token:
            self._client = tweepy.Client(bearer_token=token, return_type=requests.Response)
            # tweepy sets no timeout at all; a stalled connection would hold a worker for ever.
            adapter = _TimeoutAdapter(policy.timeout.total_seconds())
            self._client.session.mount("https://", adapter)
            self._client.session.mount("http://", adapter)

    @property
    def queries(self) -> list[str]:
        return list(self._queries)

    def collect(self, state: FetchState, now: dt.datetime) -> Collection:
        now = _aware(now).astimezone(dt.timezone.utc)
        if self._client is None:
            raise SourceError(f"{self.id}: no X bearer token: set the environment variable "
                              f"{self.config.bearer_token_env}")
        poll = _Poll(ledger=_ledger(state.cursor, now))
        for query in self._queries:
            try:
                self._sweep(query, poll, now)
            except SourceError as exc:
                if not poll.read:
                    raise
                # Posts read are billed: keep them; the next poll meets this error first.
                poll.notes.append(f"stopped after {poll.read} posts read: {exc}")
                poll.retry_after, poll.more = exc.retry_after, False
                break
            if poll.halted:
                poll.more = False
                break
        cursor = json.dumps(poll.ledger, sort_keys=True, separators=(",", ":"))
        ok = state.evolve(cursor=cursor, last_success_at=now, last_error=None,
                          consecutive_failures=0, status="ok")
        if poll.ledger["read"] >= self.config.monthly_read_cap:
            message, wait = _cap_reached(poll.ledger, self.config.monthly_read_cap, now)
            ok = ok.evolve(status="exhausted", last_error=message, last_error_at=now)
            poll.notes.append(message)
            poll.retry_after, poll.more = wait, False
        return Collection(posts=poll.posts, state=ok, more=poll.more,
                          retry_after=poll.retry_after, notes=tuple(poll.notes))

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()

    def _sweep(self, query: str, poll: _Poll, now: dt.datetime) -> None:
        """Up to ``max_pages`` pages of one query, newest first, down to its since_id."""
        key = _query_key(query)
        entry = dict(poll.ledger["queries"].get(key) or {})
        restarted, pages = False, 0
        while pages < self.config.max_pages:
            left = self.config.monthly_read_cap - poll.ledger["read"]
            if left <= 0:
                poll.halted = True
                return
            if not (entry.get("since_id") or entry.get("start_time")):
                entry["start_time"] = _stamp(now - self.config.backfill)
            params = {key_: entry[key_] for key_ in ("since_id", "start_time", "next_token")
                      if entry.get(key_)}
            page_size = min(self.config.page_size, max(MIN_PAGE, left))
            try:
                body, headers = self._search(query, params, page_size, now)
            except _StaleCursor as exc:
                if restarted:
                    raise SourceError(f"{self.id}: X rejected the query: {exc}") from None
                poll.notes.append(f"query cursor refused by X ({exc}); restarting it from "
                                  f"{self.config.backfill} ago")
                entry, restarted = {}, True
                poll.ledger["queries"][key] = entry
                continue
            pages += 1
            tweets = body.get("data") or []
            poll.ledger["read"] += len(tweets)
            poll.read += len(tweets)
            places = {p.get("id"): p for p in (body.get("includes") or {}).get("places") or []
                      if isinstance(p, dict)}
            for tweet in tweets:
                post = self._to_post(tweet, places, now)
                if post is not None and post.external_id not in poll.seen:
                    poll.seen.add(post.external_id)
                    poll.posts.append(post)
            meta = body.get("meta") or {}
            top = _newest(entry.get("top"), meta.get("newest_id"),
                          *(str(t.get("id")) for t in tweets if isinstance(t, dict) and t.get("id")))
            if meta.get("next_token"):
                entry = {**entry, "next_token": meta["next_token"], "top": top}
            elif top or entry.get("since_id"):
                entry = {"since_id": top or entry["since_id"]}  # the sweep reached its floor
            else:
                entry = {"start_time": entry["start_time"]}  # nothing yet: same window next time
            poll.ledger["queries"][key] = entry
            if headers.get("x-rate-limit-remaining", "").strip() == "0":
                poll.retry_after = _until(headers.get("x-rate-limit-reset"), now)
                poll.halted = True
                return
            if "next_token" not in entry:
                return
        poll.more = True

    def _search(self, query: str, params: dict[str, str], page_size: int, now: dt.datetime
                ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """One recent-search request; every failure becomes a one-line ``SourceError``."""
        assert self._client is not None
        try:
            response = self._client.search_recent_tweets(
                query, max_results=page_size, tweet_fields=TWEET_FIELDS, expansions=EXPANSIONS,
                place_fields=PLACE_FIELDS, **params)
        except tweepy.TooManyRequests as exc:
            wait = _until(exc.response.headers.get("x-rate-limit-reset"), now)
            hint = f" (resets in {wait:g}s)" if wait is not None else ""
            raise SourceError(f"{self.id}: X rate limit reached (HTTP 429){hint}",
                              retry_after=wait) from None
        except tweepy.Unauthorized:
            raise SourceError(f"{self.id}: X rejected the bearer token (HTTP 401): check "
                              f"{self.config.bearer_token_env}") from None
        except tweepy.BadRequest as exc:
            if params:
                raise _StaleCursor(_api_message(exc)) from None
            raise SourceError(f"{self.id}: X rejected the query (HTTP 400): {_api_message(exc)}") from None
        except tweepy.Forbidden as exc:
            raise SourceError(f"{self.id}: X refused the search (HTTP 403, check the app's access "
                              f"level): {_api_message(exc)}") from None
        except tweepy.TwitterServerError as exc:
            raise SourceError(f"{self.id}: X server error (HTTP {exc.response.status_code})") from None
        except tweepy.HTTPException as exc:
            raise SourceError(f"{self.id}: X request failed: {_one_line(exc)}") from None
        except requests.Timeout:
            raise SourceError(f"{self.id}: X timed out") from None
        except requests.RequestException as exc:
            raise SourceError(f"{self.id}: X unreachable: {_one_line(exc)}") from None
        try:
            body = response.json()
        except ValueError:
            raise SourceError(f"{self.id}: malformed X response (not JSON, "
                              f"{len(response.content)} bytes)") from None
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise SourceError(f"{self.id}: malformed X response (no list of posts)")
        if "data" not in body and "meta" not in body and body.get("errors"):
            raise SourceError(f"{self.id}: X returned only errors: {_one_line(body['errors'][0])}")
        return body, response.headers

    def _to_post(self, tweet: Any, places: dict[Any, dict], now: dt.datetime) -> Post | None:
        if not isinstance(tweet, dict) or not tweet.get("id"):
            return None
        tweet_id = str(tweet["id"])
        long_text = (tweet.get("note_tweet") or {}).get("text")
        text = html.unescape(long_text or tweet.get("text") or "").strip()  # X escapes & < >
        if not text:
            return None
        geo = tweet.get("geo") or {}
        place = places.get(geo.get("place_id")) or {}
        meta: dict[str, Any] = {"platform": self.config.platform}
        if isinstance(tweet.get("public_metrics"), dict):
            meta["metrics"] = tweet["public_metrics"]
        if place.get("country_code"):
            meta["place_country"] = place["country_code"]
        return Post(
            source_id=self.id,
            external_id=tweet_id,
            text=text,
            published_at=_published(tweet, now),
            url=POST_URL.format(id=tweet_id),
            author_handle=tweet.get("author_id") or None,
            language=None if tweet.get("lang") in (None, "", "und") else tweet["lang"],
            geo=_point(geo),
            place_hints=(place["full_name"],) if place.get("full_name") else (),
            meta=meta,
        )


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request the policy's timeout unless the caller set one."""

    def __init__(self, timeout: float):
        super().__init__()
        self._timeout = timeout

    def send(self, request, **kwargs):  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or self._timeout
        return super().send(request, **kwargs)


def _atom(term: str) -> str:
    """One search alternative: a bare word or #tag as it is, anything else as an exact phrase.
    Text already in query syntax (quoted or parenthesised) is used as written."""
    term = " ".join(term.split())
    if BARE_TERM.fullmatch(term) or term.startswith(("(", '"')):
        return term
    return '"' + term.replace('"', " ").strip() + '"'


def _any_of(atoms: Iterable[str]) -> str:
    atoms = list(atoms)
    return atoms[0] if len(atoms) == 1 else "(" + " OR ".join(atoms) + ")"


def _query_key(query: str) -> str:
    """Queries are keyed by a short hash: the cursor stays small, and editing the places or
    terms starts a fresh query instead of misusing another one's since_id."""
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def _ledger(cursor: str | None, now: dt.datetime) -> dict[str, Any]:
    """The stored cursor: the month, posts read in it, and each query's position. A new month
    resets the count; an unreadable cursor starts afresh (at worst re-reading one backfill)."""
    month = f"{now:%Y-%m}"
    try:
        stored = json.loads(cursor or "{}")
    except json.JSONDecodeError:
        stored = {}
    if not isinstance(stored, dict):
        stored = {}
    queries = stored.get("queries") if isinstance(stored.get("queries"), dict) else {}
    read = stored.get("read") if stored.get("month") == month else 0
    return {"month": month, "read": read if isinstance(read, int) else 0, "queries": queries}


def _cap_reached(ledger: dict[str, Any], cap: int, now: dt.datetime) -> tuple[str, float]:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    message = (f"monthly read cap reached: {ledger['read']} of {cap} posts read in "
               f"{ledger['month']}; X collection resumes {next_month:%Y-%m-%d}")
    return message, (next_month - now).total_seconds()


def _newest(*ids: Any) -> str | None:
    numeric = [str(i) for i in ids if i and str(i).isdigit()]
    return max(numeric, key=int) if numeric else None


def _published(tweet: dict[str, Any], now: dt.datetime) -> dt.datetime:
    """``created_at`` in UTC; without it, the time inside the post's snowflake id. Never
    after ``now``."""
    value = tweet.get("created_at")
    if isinstance(value, str):
        try:
            return min(_aware(dt.datetime.fromisoformat(value.replace("Z", "+00:00"))), now)
        except ValueError:
            pass
    millis = (int(tweet["id"]) >> 22) + SNOWFLAKE_EPOCH_MS if str(tweet["id"]).isdigit() else None
    if millis is None:
        return now
    return min(dt.datetime.fromtimestamp(millis / 1000, tz=dt.timezone.utc), now)


def _point(geo: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) from a post's exact location (GeoJSON order is lon, lat)."""
    coordinates = (geo.get("coordinates") or {}).get("coordinates") or ()
    if (geo.get("coordinates") or {}).get("type") != "Point" or len(coordinates) < 2:
        return None
    try:
        lon, lat = float(coordinates[0]), float(coordinates[1])
    except (TypeError, ValueError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def _until(reset: str | None, now: dt.datetime) -> float | None:
    """Seconds from ``now`` to an ``x-rate-limit-reset`` epoch."""
    value = (reset or "").strip()
    return max(0.0, float(value) - now.timestamp()) if value.isdigit() else None


def _api_message(exc: tweepy.HTTPException) -> str:
    return _one_line("; ".join(exc.api_messages) or exc)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

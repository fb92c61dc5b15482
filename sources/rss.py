"""RSS and Atom feeds: a polite conditional GET with httpx, then feedparser on the bytes.

feedparser never fetches anything itself: its fetcher has no size cap, no per-host pacing and
follows redirects silently, so a moved feed would go unnoticed. Here every request is paced,
capped and bounded in time, permanent redirects are remembered in the fetch state, and every
failure becomes a one-line ``SourceError`` that the scheduler can back off on.
"""

from __future__ import annotations

import hashlib
import io
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, Literal

import feedparser
import httpx
from pydantic import HttpUrl

from monitor.errors import SourceError
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig
from sources.http import HostPacer, HttpPolicy

MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECTS = PERMANENT_REDIRECTS | {302, 303, 307}
# Bozo reasons that leave a document usable: a wrong charset label or media type.
SOFT_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
# Spatial reference systems whose points are plain WGS84 latitude/longitude.
WGS84_SRS = ("4326", "4979")


class RssConfig(SourceConfig):
    kind: Literal["rss"] = "rss"
    url: HttpUrl
    platform: str = "news"
    language: str | None = None  # used when neither entry nor feed declares one


class RssSource:
    """One feed. Keeps one ``httpx.Client`` so connections are reused between polls."""

    kind = "rss"

    def __init__(self, config: RssConfig, policy: HttpPolicy, pacer: HostPacer):
        self.id = config.id
        self.config = config
        self._policy = policy
        self._pacer = pacer
        self._timeout = policy.timeout.total_seconds()
        self._client = httpx.Client(
            timeout=self._timeout, follow_redirects=False, headers={"User-Agent": policy.user_agent}
        )

    def collect(self, state: FetchState, now: datetime) -> Collection:
        now = _aware(now)
        configured = str(self.config.url)
        if state.cursor != configured:
            # First poll, or the operator edited the URL: a remembered redirect target and
            # validators belong to the old address, so start afresh from the configured one.
            state = state.evolve(url=None, etag=None, last_modified=None, cursor=configured)
        url = state.url or configured
        moved_to, permanent, seen = None, True, {url}
        for _ in range(MAX_REDIRECTS + 1):
            response, body = self._get(url, state, now)
            if response.status_code in REDIRECTS:
                target = _location(url, response)
                if target in seen:
                    raise SourceError(f"{url}: redirect loop back to {target}")
                seen.add(target)
                # Only an unbroken chain of permanent hops means the feed itself has moved.
                permanent = permanent and response.status_code in PERMANENT_REDIRECTS
                moved_to, url = (target if permanent else moved_to), target
                continue
            etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
            ok = state.evolve(url=moved_to or state.url, last_success_at=now, last_error=None,
                              consecutive_failures=0, status="ok")
            if response.status_code == 304:  # a 304 may refresh the validators; keep the old ones
                ok = ok.evolve(etag=etag or state.etag, last_modified=modified or state.last_modified)
                return Collection(posts=[], state=ok, not_modified=True)
            posts, notes = self._parse(body, response, url, now)
            ok = ok.evolve(etag=etag, last_modified=modified)
            return Collection(posts=posts, state=ok, notes=notes)
        raise SourceError(f"{state.url or self.config.url}: more than {MAX_REDIRECTS} redirects")

    def close(self) -> None:
        self._client.close()

    def _get(self, url: str, state: FetchState, now: datetime) -> tuple[httpx.Response, bytes]:
        """One paced, size-capped, time-bounded GET; every failure becomes a ``SourceError``."""
        conditional = (("If-None-Match", state.etag), ("If-Modified-Since", state.last_modified))
        headers = {name: value for name, value in conditional if value}
        try:
            self._pacer.wait(httpx.URL(url).host, self._policy.per_host_interval.total_seconds())
            # httpx's timeout is per read; the deadline stops a server trickling bytes forever.
            deadline = time.monotonic() + self._timeout
            with self._client.stream("GET", url, headers=headers) as response:
                _check_status(response, url, now)
                if not 200 <= response.status_code < 300:
                    return response, b""
                return response, self._read_capped(response, url, deadline)
        except httpx.TimeoutException:
            raise SourceError(f"{url}: timed out after {self._timeout:g}s") from None
        except httpx.NetworkError as exc:  # DNS failure, refused or reset connection
            raise SourceError(f"{url}: unreachable: {_one_line(exc)}") from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise SourceError(f"{url}: request failed: {_one_line(exc)}") from None

    def _read_capped(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        """Read the body, giving up once it passes ``max_bytes``. The count is of decompressed
        bytes, so a gzip bomb is caught too (at worst one network chunk is inflated first)."""
        limit = self._policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise SourceError(f"{url}: response too large ({declared} bytes, limit {limit})")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise SourceError(f"{url}: response too large (over {limit} bytes, aborted)")
            if time.monotonic() > deadline:
                raise SourceError(f"{url}: timed out after {self._timeout:g}s")
            chunks.append(chunk)
        return b"".join(chunks)

    def _parse(self, body: bytes, response: httpx.Response, url: str, now: datetime):
        """Posts and log notes from a feed body. A feed that is broken *and* yields nothing is an
        error; one that still yields posts is used, with a note, as readers would use it."""
        if not body.strip():
            raise SourceError(f"malformed feed: empty response from {url}")
        # feedparser wants lower-case names; Content-Location resolves relative links.
        headers = {"content-location": url}
        headers.update((k, response.headers[k]) for k in ("content-type", "content-language")
                       if k in response.headers)
        try:
            parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
        except Exception as exc:  # a parser crash on hostile input is the feed's fault
            raise SourceError(f"malformed feed: parser failed ({_one_line(exc)}): {url}") from None
        problem = _one_line(parsed.get("bozo_exception")) if parsed.bozo else None
        posts, seen = [], set()
        for entry in parsed.entries:
            post = self._to_post(entry, parsed.feed, now)
            if post and post.external_id not in seen:
                seen.add(post.external_id)
                posts.append(post)
        if not posts and not parsed.version:
            raise SourceError(f"malformed feed: not RSS or Atom ({problem or 'no feed'}): {url}")
        if not posts and problem and not isinstance(parsed.bozo_exception, SOFT_BOZO):
            raise SourceError(f"malformed feed: {problem}: {url}")
        notes = (f"malformed feed ({problem}): {len(posts)} entries still parsed",)
        return posts, (notes if problem else ())

    def _to_post(self, entry: Any, feed: Any, now: datetime) -> Post | None:
        title = _text(entry.get("title_detail") or {"value": entry.get("title")})
        content = (entry.get("content") or [entry.get("summary_detail") or {}])[0]
        body = _text(content)
        if not title and not body:
            return None
        published = entry.get("published") or entry.get("updated") or ""
        # Untitled items are told apart by their text; otherwise every one would share an id.
        fallback = hashlib.sha256(f"{title or body}\n{published}".encode()).hexdigest()
        link = entry.get("link") or None
        meta = {"platform": self.config.platform}
        if feed.get("title"):
            meta["feed_title"] = feed["title"]
        return Post(
            source_id=self.config.id,
            external_id=(entry.get("id") or "").strip() or link or f"sha256:{fallback}",
            text=title if body in ("", title) else f"{title}\n\n{body}".strip(),
            published_at=_published(entry, now),
            url=link,
            author_handle=entry.get("author") or None,
            language=(entry.get("title_detail") or {}).get("language") or content.get("language")
            or feed.get("language") or self.config.language,
            title=title or None,
            geo=_point(entry),
            meta=meta,
        )


def _check_status(response: httpx.Response, url: str, now: datetime) -> None:
    status = response.status_code
    if status < 300 or status == 304 or status in REDIRECTS:
        return
    if status == 410:
        raise SourceError(f"{url}: gone (410): stop polling", gone=True)
    message = f"{url}: HTTP {status} {response.reason_phrase}".rstrip()
    if status in (429, 503):
        wait = _retry_after(response.headers.get("retry-after"), now)
        hint = f" (retry after {wait:g}s)" if wait is not None else ""
        raise SourceError(message + hint, retry_after=wait)
    raise SourceError(message)


def _location(url: str, response: httpx.Response) -> str:
    location = response.headers.get("location")
    if not location:
        raise SourceError(f"{url}: HTTP {response.status_code} redirect without a Location")
    target = httpx.URL(url).join(location)
    if target.scheme not in ("http", "https"):
        raise SourceError(f"{url}: redirect to unsupported address {location}")
    return str(target)


def _retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After is delta-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (_aware(parsedate_to_datetime(value)) - now).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def _published(entry: Any, now: datetime) -> datetime:
    """Entry date in UTC, never after ``now``: a future date would pin a post to the top of
    every time window. Undated entries count as published when first seen."""
    for key in ("published_parsed", "updated_parsed"):
        try:
            return min(datetime(*entry.get(key)[:6], tzinfo=timezone.utc), now)
        except (TypeError, ValueError, OverflowError):
            continue
    return now


def _point(entry: Any) -> tuple[float, float] | None:
    """(lat, lon) from a GeoRSS/GML point (feedparser gives GeoJSON lon, lat) or W3C geo tags.
    Points in other reference systems (e.g. UTM) are not latitudes, so they are ignored."""
    where = entry.get("where") or {}
    coordinates = where.get("coordinates") or ()
    srs = where.get("srsName") or "EPSG:4326"
    if where.get("type") == "Point" and srs.endswith(WGS84_SRS) and len(coordinates) >= 2:
        lon, lat = coordinates[:2]
    else:
        lat, lon = entry.get("geo_lat"), entry.get("geo_long")
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


class _TextExtractor(HTMLParser):
    """Text of an HTML fragment. Block tags become spaces so paragraphs do not run together.
    Script and style bodies need no care: feedparser's sanitiser has already dropped them."""

    BLOCK = frozenset("p br div li tr td th h1 h2 h3 h4 h5 h6 blockquote pre hr img".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(detail: Any) -> str:
    """Plain text of a feedparser text construct: tags stripped, entities decoded, whitespace
    collapsed. Constructs typed text/plain are kept as they are, so "a < b" survives."""
    value = detail.get("value") or ""
    if detail.get("type") != "text/plain":
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        value = "".join(extractor.parts)
    return " ".join(value.split())


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _one_line(exc: object) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]

"""Public Telegram channels through their web preview, https://t.me/s/<channel>.

The preview needs no account or API key and shows what anyone with a browser sees: about
twenty messages per page, oldest first, with a "more" link to the page before
(``?before=<id>``, exclusive). A poll reads the newest page and pages back until it reaches the
last message id it saw, so nothing between two polls is missed unless more than ``max_pages``
pages arrived in between (said in the notes). Channels whose owners turned the preview off
redirect to https://t.me/<channel>; that is reported as gone, so the source stops polling.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Literal

import httpx
from bs4 import BeautifulSoup, Tag
from pydantic import Field, HttpUrl

from monitor.errors import SourceError
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig
from sources.http import HostPacer, HttpPolicy
from sources.rss import _aware, _one_line, _retry_after

# Telegram usernames: 5-32 letters, digits and underscores, starting with a letter.
CHANNEL_NAME = r"^[A-Za-z][A-Za-z0-9_]{3,31}$"


class TelegramConfig(SourceConfig):
    kind: Literal["telegram"]
    channel: str = Field(pattern=CHANNEL_NAME)
    platform: str = "telegram"
    base_url: HttpUrl = HttpUrl("https://t.me/s/")
    max_pages: int = Field(default=5, ge=1, le=100)
    backfill_pages: int = Field(default=1, ge=1, le=100)  # pages read on the very first poll
    language: str | None = None


@dataclass(frozen=True)
class Message:
    id: int
    text: str
    published_at: dt.datetime
    url: str
    forwarded: bool


@dataclass(frozen=True)
class Page:
    """One preview page. ``seen`` counts every complete message, with or without text."""

    messages: list[Message]
    seen: list[int]
    has_older: bool
    truncated: bool
    malformed: int


class TelegramSource:
    kind = "telegram"

    def __init__(self, config: TelegramConfig, policy: HttpPolicy, pacer: HostPacer):
        self.id = config.id
        self.config = config
        self._policy = policy
        self._pacer = pacer
        self._timeout = policy.timeout.total_seconds()
        self._url = f"{str(config.base_url).rstrip('/')}/{config.channel}"
        self._client = httpx.Client(
            timeout=self._timeout, follow_redirects=False, headers={"User-Agent": policy.user_agent}
        )

    def collect(self, state: FetchState, now: dt.datetime) -> Collection:
        """Pages newest first. The cursor becomes the highest id seen, but never passes a gap:
        a truncated page holds it back to that page's last complete message."""
        now = _aware(now)
        stored = _stored(state.cursor, self.config.channel)
        budget = self.config.max_pages if stored is not None else self.config.backfill_pages
        messages: dict[int, Message] = {}
        notes: list[str] = []
        highest, ceiling, before, malformed = stored, None, None, 0
        for number in range(budget):
            page = self._page(before, now)
            malformed += page.malformed
            if page.truncated:
                if not page.seen and number == 0:
                    raise SourceError(f"{self._url}: truncated page without a complete message")
                where = f"page before message {before}" if before else "newest page"
                notes.append(f"{where} was truncated; its missing messages will be fetched again")
                page_top = max(page.seen, default=stored if stored is not None else 0)
                ceiling = page_top if ceiling is None else min(ceiling, page_top)
            for message in page.messages:
                if stored is None or message.id > stored:
                    messages.setdefault(message.id, message)
            if page.seen:
                highest = max(highest or 0, *page.seen)
            reached = stored is not None and any(i <= stored for i in page.seen)
            if reached or not page.seen or not page.has_older:
                break
            before = min(page.seen)
        else:
            if stored is not None:
                notes.append(f"read {budget} pages without reaching message {stored}; "
                             f"older new messages were skipped (raise max_pages)")
        if malformed:
            notes.append(f"{malformed} malformed message(s) skipped")
        if highest is not None and ceiling is not None:
            highest = max(min(highest, ceiling), stored or 0)
        cursor = state.cursor
        if highest:
            cursor = json.dumps({"channel": self.config.channel, "last_id": highest})
        posts = [self._to_post(m) for m in sorted(messages.values(), key=lambda m: m.id)]
        return Collection(posts=posts, state=state.evolve(cursor=cursor), notes=tuple(notes))

    def close(self) -> None:
        self._client.close()

    def _page(self, before: int | None, now: dt.datetime) -> Page:
        url = self._url if before is None else f"{self._url}?before={before}"
        body = self._get(url, now)
        return parse_page(body, self.config.channel)

    def _get(self, url: str, now: dt.datetime) -> bytes:
        """One paced, size-capped GET of a preview page; every failure is a ``SourceError``."""
        try:
            self._pacer.wait(httpx.URL(url).host, self._policy.per_host_interval.total_seconds())
            deadline = time.monotonic() + self._timeout
            with self._client.stream("GET", url) as response:
                self._check(response, url, now)
                return self._read_capped(response, url, deadline)
        except httpx.TimeoutException:
            raise SourceError(f"{url}: timed out after {self._timeout:g}s") from None
        except httpx.NetworkError as exc:
            raise SourceError(f"{url}: unreachable: {_one_line(exc)}") from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise SourceError(f"{url}: request failed: {_one_line(exc)}") from None

    def _check(self, response: httpx.Response, url: str, now: dt.datetime) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        location = response.headers.get("location", "")
        if 300 <= status < 400 and httpx.URL(url).join(location).path.startswith("/s/"):
            raise SourceError(f"{url}: HTTP {status} to another preview page {location}: "
                              "check the channel name")
        if 300 <= status < 400 or status in (404, 410):
            # Telegram sends channels without a public preview (and unknown names) to the
            # plain t.me/<channel> page; polling again will not change that.
            where = f" (redirected to {location})" if status < 400 else ""
            raise SourceError(f"{url}: channel {self.config.channel} has no public preview: "
                              f"HTTP {status}{where}; stop polling", gone=True)
        message = f"{url}: HTTP {status} {response.reason_phrase}".rstrip()
        if status in (429, 503):
            wait = _retry_after(response.headers.get("retry-after"), now)
            hint = f" (retry after {wait:g}s)" if wait is not None else ""
            raise SourceError(message + hint, retry_after=wait)
        raise SourceError(message)

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

    def _to_post(self, message: Message) -> Post:
        meta: dict[str, object] = {"platform": self.config.platform}
        if message.forwarded:
            meta["forwarded"] = True  # the original author's name is not kept
        return Post(
            source_id=self.id,
            external_id=f"{self.config.channel.lower()}/{message.id}",
            text=message.text,
            published_at=message.published_at,
            url=message.url,
            # The channel is the publisher; ingest pseudonymises it like any author.
            author_handle=self.config.channel if self.config.keep_author else None,
            language=self.config.language,
            meta=meta,
        )


def parse_page(body: bytes, channel: str) -> Page:
    """Messages of one preview page. A page cut short still yields its complete messages
    (those that reached their date); the rest count as missing, not as malformed."""
    truncated = b"</html>" not in body[-4096:].lower()
    soup = BeautifulSoup(body, "html.parser")
    if not truncated and soup.select_one(".tgme_channel_history") is None:
        raise SourceError(f"t.me/s/{channel}: not a channel preview page")
    messages, seen, malformed = [], [], 0
    for node in soup.select(".tgme_widget_message[data-post]"):
        owner, _, number = str(node["data-post"]).rpartition("/")
        stamp = node.select_one(".tgme_widget_message_date time[datetime]")
        if owner.lower() != channel.lower() or not number.isdigit():
            malformed += 1
            continue
        if stamp is None:
            malformed += 0 if truncated else 1  # a cut-off last message is just missing
            continue
        try:
            published = _aware(dt.datetime.fromisoformat(str(stamp["datetime"])))
        except ValueError:
            malformed += 1
            continue
        seen.append(int(number))
        # Service messages ("Channel created", "Channel photo updated") are Telegram's words.
        text = "" if "service_message" in node.get_attribute_list("class") else _message_text(node)
        if text:
            link = node.select_one("a.tgme_widget_message_date[href]")
            messages.append(Message(
                id=int(number), text=text, published_at=published.astimezone(dt.timezone.utc),
                url=str(link["href"]) if link else f"https://t.me/{channel}/{number}",
                forwarded=node.select_one(".tgme_widget_message_forwarded_from") is not None,
            ))
    has_older = soup.select_one("a.tme_messages_more[data-before]") is not None
    return Page(messages, seen, has_older, truncated, malformed)


def _message_text(node: Tag) -> str:
    """The message's own text or caption; a quoted reply reuses the text class but is marked
    ``js-message_reply_text``, so only ``js-message_text`` is taken. Line breaks are kept."""
    element = node.select_one(".tgme_widget_message_text.js-message_text")
    if element is None:
        return ""
    for br in element.find_all("br"):
        br.replace_with("\n")
    lines = (" ".join(line.split()) for line in element.get_text().split("\n"))
    return "\n".join(line for line in lines if line).strip()


def _stored(cursor: str | None, channel: str) -> int | None:
    """The last message id seen, if the stored cursor belongs to this channel (an edited
    channel name starts afresh)."""
    try:
        value = json.loads(cursor or "null")
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or str(value.get("channel", "")).lower() != channel.lower():
        return None
    last = value.get("last_id")
    return last if isinstance(last, int) and last > 0 else None

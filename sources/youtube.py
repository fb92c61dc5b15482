"""YouTube channels and playlists through the Atom feeds YouTube publishes for each of them.

The feeds are plain Atom (with ``yt:`` and ``media:`` extensions feedparser understands), so
this kind is only a shorter way to write an RSS source: the operator gives the channel or
playlist id and the RSS collector does the polite fetching, cursor and error handling. The
API key route (YouTube Data API) would add quota and a secret for nothing the feed lacks.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from urllib.parse import urlencode

from pydantic import Field, HttpUrl, model_validator

from sources.base import Collection, FetchState
from sources.config import SourceConfig
from sources.http import HostPacer, HttpPolicy
from sources.rss import RssConfig, RssSource

FEED_BASE = "https://www.youtube.com/feeds/videos.xml"


class YoutubeConfig(SourceConfig):
    kind: Literal["youtube"]
    # Exactly one: a channel id (UC + 22 characters, from the channel page's address or its
    # "Share channel" link) or a playlist id (the list= value of a playlist's address).
    channel_id: str | None = Field(default=None, pattern=r"^UC[A-Za-z0-9_-]{22}$")
    playlist_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{10,64}$")
    platform: str = "youtube"
    language: str | None = None  # used when the feed declares none (YouTube's never do)
    feed_base: HttpUrl = HttpUrl(FEED_BASE)

    @model_validator(mode="after")
    def _one_feed(self) -> YoutubeConfig:
        if (self.channel_id is None) == (self.playlist_id is None):
            raise ValueError("give exactly one of channel_id and playlist_id")
        return self

    def feed_url(self) -> str:
        if self.channel_id:
            query = {"channel_id": self.channel_id}
        else:
            query = {"playlist_id": self.playlist_id}
        return f"{str(self.feed_base).rstrip('/')}?{urlencode(query)}"

    def as_rss(self) -> RssConfig:
        names = ("id", "enabled", "every", "jitter", "platform", "keep_author", "language")
        shared = {name: getattr(self, name) for name in names}
        return RssConfig(kind="rss", url=self.feed_url(), **shared)


class YoutubeSource:
    """An ``RssSource`` on the feed URL, under this kind's name."""

    kind = "youtube"

    def __init__(self, config: YoutubeConfig, policy: HttpPolicy, pacer: HostPacer):
        self.id = config.id
        self.config = config
        self._feed = RssSource(config.as_rss(), policy, pacer)

    def collect(self, state: FetchState, now: dt.datetime) -> Collection:
        return self._feed.collect(state, now)

    def close(self) -> None:
        self._feed.close()

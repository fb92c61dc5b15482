"""Source kinds by name. Built-ins register here the way an external kind would."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Callable, Union

from pydantic import Field

from monitor.localities import LocalityFile
from sources.base import Source
from sources.bluesky import BlueskyConfig, BlueskySource
from sources.bluesky import place_terms as bluesky_place_terms
from sources.http import HostPacer, HttpPolicy
from sources.imap_reports import ImapConfig, ImapReportSource
from sources.mastodon import MastodonConfig, MastodonSource
from sources.reddit import RedditConfig, RedditSource
from sources.replay import ReplayConfig, ReplaySource
from sources.rss import RssConfig, RssSource
from sources.telegram import TelegramConfig, TelegramSource
from sources.x import XConfig, XSource
from sources.x import place_terms as x_place_terms
from sources.youtube import YoutubeConfig, YoutubeSource

AnySourceConfig = Annotated[
    Union[RssConfig, ReplayConfig, YoutubeConfig, XConfig, MastodonConfig, BlueskyConfig, RedditConfig,
          TelegramConfig, ImapConfig],
    Field(discriminator="kind"),
]


@dataclass
class SourceContext:
    """Shared things a source needs to run: where config lives and how to be polite over HTTP."""

    config_dir: Path
    http: HttpPolicy
    pacer: HostPacer = field(default_factory=HostPacer)
    # The watched localities: X and Bluesky search or filter by their names, aliases, hashtags.
    localities: LocalityFile | None = None

    def place_names(self) -> tuple[str, ...]:
        return bluesky_place_terms(self.localities.localities) if self.localities else ()


Builder = Callable[..., Source]

SOURCE_KINDS: dict[str, Builder] = {
    "rss": lambda config, ctx: RssSource(config, ctx.http, ctx.pacer),
    "replay": lambda config, ctx: ReplaySource(config, ctx.config_dir),
    "imap": lambda config, ctx: ImapReportSource(config),
    "bluesky": lambda config, ctx: BlueskySource(config, ctx.http, ctx.pacer, places=ctx.place_names()),
    "telegram": lambda config, ctx: TelegramSource(config, ctx.http, ctx.pacer),
    "youtube": lambda config, ctx: YoutubeSource(config, ctx.http, ctx.pacer),
    "x": lambda config, ctx: XSource(config, ctx.http, places=x_place_terms(
        ctx.localities.localities, config.localities) if ctx.localities else ()),
    "mastodon": lambda config, ctx: MastodonSource(config, ctx.http, ctx.pacer),
    "reddit": lambda config, ctx: RedditSource(config, ctx.http, ctx.pacer),
}


def build_source(config, context: SourceContext) -> Source:
    return SOURCE_KINDS[config.kind](config, context)

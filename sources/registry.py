"""Source kinds by name. Built-ins register here the way an external kind would."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Callable, Union

from pydantic import Field

from sources.base import Source
from sources.http import HostPacer, HttpPolicy
from sources.replay import ReplayConfig, ReplaySource
from sources.rss import RssConfig, RssSource

AnySourceConfig = Annotated[Union[RssConfig, ReplayConfig], Field(discriminator="kind")]


@dataclass
class SourceContext:
    """Shared things a source needs to run: where config lives and how to be polite over HTTP."""

    config_dir: Path
    http: HttpPolicy
    pacer: HostPacer = field(default_factory=HostPacer)


Builder = Callable[..., Source]

SOURCE_KINDS: dict[str, Builder] = {
    "rss": lambda config, ctx: RssSource(config, ctx.http, ctx.pacer),
    "replay": lambda config, ctx: ReplaySource(config, ctx.config_dir),
}


def build_source(config, context: SourceContext) -> Source:
    return SOURCE_KINDS[config.kind](config, context)

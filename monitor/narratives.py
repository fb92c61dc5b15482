"""The narrative library: false or misleading stories we already know and track.

Loaded from ``config/narratives.yaml``. The classifiers match posts against it; the briefing
reports volumes and counter-messaging for each entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from monitor.config_files import require_unique

from monitor.localities import ID_PATTERN

NarrativeStatus = Literal["false", "misleading", "unverified", "true"]


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str
    url: HttpUrl


class Narrative(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    title: str
    status: NarrativeStatus
    summary: str
    claims: tuple[str, ...] = Field(min_length=1)
    keywords: tuple[str, ...] = ()
    counter_messaging: tuple[Link, ...] = ()
    sources: tuple[Link, ...] = ()
    first_seen: dt.date | None = None


class NarrativeLibrary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    narratives: tuple[Narrative, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> NarrativeLibrary:
        require_unique("narrative", [n.id for n in self.narratives])
        return self

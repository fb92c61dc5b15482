"""What every configured source has in common, whatever its kind."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from monitor.config_files import Duration
from monitor.localities import ID_PATTERN


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_PATTERN)
    enabled: bool = True
    every: Duration = dt.timedelta(minutes=15)
    jitter: Duration = dt.timedelta(seconds=30)
    # What the briefing calls the platform ("news", "x", "telegram"...).
    platform: str = "news"
    # False drops author identifiers entirely (not even a pseudonym), as X's terms require.
    keep_author: bool = True

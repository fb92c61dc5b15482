"""The places we watch: localities (towns, villages) and sensitive sites within them.

Loaded from ``config/localities/*.yaml``. Locality ids are the join key for every aggregate,
rule and briefing table, so they are short, lower-case and stable.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.config_files import require_unique

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Area(Strict):
    """The council area the localities belong to (the parent of every locality)."""

    id: str = Field(pattern=ID_PATTERN)
    name: str
    parent: str | None = None  # e.g. the ceremonial county


class Locality(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    kind: Literal["city", "town", "village", "district"] = "town"
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    postcode_districts: tuple[str, ...] = ()
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    population: int | None = Field(default=None, ge=0)
    geonames_id: int | None = None
    # Places elsewhere that share the name ("Brampton, Cambridgeshire"): mentions need context.
    ambiguous_with: tuple[str, ...] = ()
    # Words that, near an ambiguous name, confirm it is ours (neighbouring places, "Cumbria").
    context_terms: tuple[str, ...] = ()

    @field_validator("postcode_districts")
    @classmethod
    def _districts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for district in value:
            if not POSTCODE_DISTRICT.match(district):
                raise ValueError(f"{district!r} is not a postcode district such as CA14")
        return value

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            if not tag.startswith("#") or " " in tag:
                raise ValueError(f"{tag!r} is not a hashtag such as #Workington")
        return value


SiteType = Literal[
    "place_of_worship",
    "asylum_accommodation",
    "community_centre",
    "school",
    "civic_building",
    "other",
]


class SensitiveSite(Strict):
    """A place a call to gather must never be missed at (mosque, hotel housing asylum seekers...).

    Entries are the partnership's own list; they are matched by name and alias and never shown
    outside the dashboard and officer alerts.
    """

    id: str = Field(pattern=ID_PATTERN)
    name: str
    type: SiteType
    locality: str
    aliases: tuple[str, ...] = ()
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    fictional: bool = False
    note: str | None = None


class LocalityFile(Strict):
    attribution: str
    area: Area
    localities: tuple[Locality, ...] = Field(min_length=1)
    sensitive_sites: tuple[SensitiveSite, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> LocalityFile:
        ids = [loc.id for loc in self.localities]
        require_unique("locality", ids)
        known = set(ids)
        for site in self.sensitive_sites:
            if site.locality not in known:
                raise ValueError(
                    f"sensitive site {site.id!r} names unknown locality {site.locality!r}"
                )
        return self

    def by_id(self) -> dict[str, Locality]:
        return {loc.id: loc for loc in self.localities}

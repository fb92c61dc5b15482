"""Alert rule definitions, loaded from ``config/rules.yaml``.

Each rule kind is one model; the ``kind`` field picks it. The alert engine evaluates them over
locality aggregates; this module only says what a valid rule is, so a typo in a threshold is a
start-up error naming the file and field rather than a silent miss at 3 a.m.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.config_files import Duration, require_unique
from monitor.localities import ID_PATTERN

Severity = Literal["low", "medium", "high"]
Window = Literal["hour", "day"]
Metric = Literal[
    "posts",
    "hate_share",
    "offensive_share",
    "conspiracy_share",
    "mobilisation_posts",
    "negativity_mean",
    "tension_index",
    "reports",
]


class RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=ID_PATTERN)
    summary: str
    severity: Severity = "medium"
    category: str = Field(default="tension", pattern=ID_PATTERN)
    localities: Literal["all"] | tuple[str, ...] = "all"
    labels: dict[str, str] = Field(default_factory=dict)
    pending_for: Duration = Field(default=dt.timedelta(0), alias="for")
    keep_firing_for: Duration = dt.timedelta(0)


class ThresholdRule(RuleBase):
    kind: Literal["threshold"]
    metric: Metric
    window: Window = "hour"
    above: float
    min_posts: int = Field(default=10, ge=1)


class AnomalyRule(RuleBase):
    kind: Literal["anomaly"]
    metric: Literal["posts", "hate_posts", "conspiracy_posts", "mobilisation_posts", "reports"]
    window: Window = "hour"
    baseline: Literal["same_hour_of_week", "ewma"] = "same_hour_of_week"
    max_p_value: float = Field(default=0.001, gt=0, lt=1)
    min_count: int = Field(default=8, ge=1)


class NarrativeSpreadRule(RuleBase):
    kind: Literal["narrative_spread"]
    narratives: Literal["all"] | tuple[str, ...] = "all"
    window: Window = "day"
    min_posts: int = Field(default=20, ge=1)
    min_localities: int = Field(default=3, ge=1)


class MobilisationRule(RuleBase):
    kind: Literal["mobilisation"]
    min_score: float = Field(default=0.5, gt=0, le=1)
    sites: bool = True


class LevelChangeRule(RuleBase):
    kind: Literal["level_change"]
    min_level: int = Field(default=3, ge=1, le=5)


class SourceHealthRule(RuleBase):
    kind: Literal["source_health"]
    max_consecutive_failures: int = Field(default=5, ge=1)
    silent_for: Duration = dt.timedelta(hours=24)


Rule = Annotated[
    Union[
        ThresholdRule,
        AnomalyRule,
        NarrativeSpreadRule,
        MobilisationRule,
        LevelChangeRule,
        SourceHealthRule,
    ],
    Field(discriminator="kind"),
]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> RuleFile:
        require_unique("rule", [r.id for r in self.rules])
        return self

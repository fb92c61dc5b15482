"""Alert rule definitions, loaded from ``config/rules.yaml``.

Each rule kind is one model; the ``kind`` field picks it. ``alerts.evaluate`` turns them into
candidates over the aggregates and ``alerts.lifecycle`` gives them Prometheus semantics; this
module only says what a valid rule is, so a typo in a threshold is a start-up error naming the
file and field rather than a silent miss at 3 a.m.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
# Labels the evaluator sets itself; a rule's own `labels` may not override them, or routing and
# the fingerprint would depend on which of two writers won.
RESERVED_LABELS = frozenset({"alertname", "locality", "category", "severity", "narrative", "site", "burst",
                             "source"})


class RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=ID_PATTERN)
    summary: str
    severity: Severity = "medium"
    category: str = Field(default="tension", pattern=ID_PATTERN)
    localities: Literal["all"] | tuple[str, ...] = "all"
    labels: dict[str, str] = Field(default_factory=dict)
    # How long the condition must hold before the alert fires (Prometheus `for`).
    pending_for: Duration = Field(default=dt.timedelta(0), alias="for")
    # How long a firing alert stays firing after the condition was last true, so a metric
    # hovering around its threshold does not resolve and re-fire every few minutes.
    keep_firing_for: Duration = dt.timedelta(0)

    @field_validator("labels")
    @classmethod
    def _own_labels(cls, value: dict[str, str]) -> dict[str, str]:
        clash = sorted(RESERVED_LABELS & set(value))
        if clash:
            raise ValueError(f"labels {', '.join(clash)} are set by the evaluator; use another name")
        return value

    @property
    def fires_at_once(self) -> bool:
        return self.pending_for == dt.timedelta(0)


class ThresholdRule(RuleBase):
    """A locality metric above a fixed value.

    ``min_posts`` is the fewest scored posts a share or mean needs before it counts (3 of 4
    posts is 75% but tells nothing); counts (posts, reports, mobilisation_posts) and the
    tension index ignore it.
    """

    kind: Literal["threshold"]
    metric: Metric
    window: Window = "hour"
    above: float
    min_posts: int = Field(default=10, ge=1)
    # Also evaluate the whole area (locality label = the area id).
    include_area: bool = False


class AnomalyRule(RuleBase):
    """A count far above its own history for the place (monitor.baselines).

    Fires only when both views agree: the Poisson tail is at most ``max_p_value`` and the
    robust z-score at least ``min_z``. Counts below ``min_count`` never fire. Mobilisation is
    not offered here: calls to gather are rare enough that the mobilisation rule fires on the
    first one.
    """

    kind: Literal["anomaly"]
    metric: Literal["posts", "hate_posts", "offensive_posts", "conspiracy_posts", "reports"]
    window: Window = "hour"
    baseline: Literal["same_hour_of_week", "ewma"] = "same_hour_of_week"
    history: Duration = dt.timedelta(days=28)
    max_p_value: float = Field(default=0.001, gt=0, lt=1)
    min_z: float = Field(default=3.0, ge=0)
    min_count: int = Field(default=8, ge=1)
    # Weight of the newest window in the ewma baseline (near 1 forgets fast).
    alpha: float = Field(default=0.1, gt=0, le=1)
    include_area: bool = False

    @model_validator(mode="after")
    def _enough_history(self) -> AnomalyRule:
        if self.baseline == "same_hour_of_week" and self.history < dt.timedelta(days=7):
            raise ValueError("history must be at least 7d for a same_hour_of_week baseline")
        return self


class NarrativeSpreadRule(RuleBase):
    """A tracked false narrative reaching ``min_posts`` or ``min_localities`` (``require: any``),
    or both (``require: all``), within the window. Area-wide: the locality label is the area."""

    kind: Literal["narrative_spread"]
    narratives: Literal["all"] | tuple[str, ...] = "all"
    window: Window = "day"
    min_posts: int = Field(default=20, ge=1)
    min_localities: int = Field(default=3, ge=1)
    require: Literal["any", "all"] = "any"


class MobilisationRule(RuleBase):
    """A call to gather naming a monitored place or a sensitive site: fires at once.

    Posts from X never count (X's restricted use cases forbid using its content for sensitive
    events such as protests and rallies); see ``alerts.evaluate``.
    """

    kind: Literal["mobilisation"]
    severity: Severity = "high"
    min_score: float = Field(default=0.5, gt=0, le=1)
    # Label the alert with the sensitive site when a post named one.
    sites: bool = True
    # How far back a post still counts; the alert resolves when the last one is this old.
    within: Duration = dt.timedelta(hours=48)

    @model_validator(mode="after")
    def _at_once(self) -> MobilisationRule:
        if not self.fires_at_once:
            raise ValueError("mobilisation rules fire at once; remove `for`")
        return self


class LevelChangeRule(RuleBase):
    """A locality's computed tension level (today's) at or above ``min_level``."""

    kind: Literal["level_change"]
    min_level: int = Field(default=3, ge=1, le=5)


class SourceHealthRule(RuleBase):
    """A source failing repeatedly, gone, or without a successful poll for ``silent_for``."""

    kind: Literal["source_health"]
    max_consecutive_failures: int = Field(default=5, ge=1)
    silent_for: Duration = dt.timedelta(hours=24)


class AmplificationRule(RuleBase):
    """A burst of near-identical posts from many distinct accounts (monitor.amplification):
    one alert per burst, at once, while the burst's last post is within ``within``."""

    kind: Literal["amplification"]
    min_posts: int = Field(default=10, ge=2)
    min_authors: int = Field(default=8, ge=2)
    within: Duration = dt.timedelta(hours=6)


class EmergingNarrativeRule(RuleBase):
    """A story not in the narrative library above the reporting line (monitor.emerging) in
    today's or yesterday's window, not yet promoted or dismissed: one alert per cluster."""

    kind: Literal["emerging_narrative"]
    min_posts: int = Field(default=12, ge=1)


Rule = Annotated[
    Union[
        ThresholdRule,
        AnomalyRule,
        NarrativeSpreadRule,
        MobilisationRule,
        LevelChangeRule,
        SourceHealthRule,
        AmplificationRule,
        EmergingNarrativeRule,
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

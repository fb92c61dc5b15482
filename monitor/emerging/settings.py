"""How emerging narratives are found and when one is worth an analyst's time (`emerging:` in
config/tension.yaml). The reporting line was set on the demo week: the untracked warehouse-fire
rumour's main story is reported on consecutive days (19-21 Nov with heads v1.3, and again with the
v1.5 and v1.7 conspiracy heads), while clusters of everyday chatter (five-a-side, roadworks, the
bus timetable) stay below it."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from monitor.config_files import Duration


class EmergingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    every: Duration = dt.timedelta(hours=1)
    # How far back a first run (or a run after downtime) clusters day by day.
    catch_up: Duration = dt.timedelta(days=7)
    # Which scored posts are candidates (besides matching no library narrative): tense, or
    # leaning conspiratorial, or over these head scores (hate: its label threshold;
    # mobilisation: the call-to-gather rule's, as its label threshold also catches everyday
    # plans). The same head lines say which members count as flagged.
    min_tension: float = Field(default=0.15, ge=0, le=1)
    min_conspiracy: float = Field(default=0.3, ge=0, le=1)
    flag_hate: float = Field(default=0.42, ge=0, le=1)
    flag_mobilisation: float = Field(default=0.6, ge=0, le=1)
    # Smallest group of near posts that counts as a cluster at all (HDBSCAN min_cluster_size).
    min_cluster_size: int = Field(default=5, ge=2)
    # Above this many candidates in a day HDBSCAN runs on an even sample and the rest join the
    # nearest cluster (keeps a 100,000-post day under a minute).
    max_points: int = Field(default=15_000, ge=1_000)
    # The reporting line: a cluster is shown and alerted on only with at least this many posts,
    # this many distinct (pseudonymous) authors, and this share flagged by a head or tense.
    report_min_posts: int = Field(default=12, ge=2)
    report_min_authors: int = Field(default=8, ge=1)
    report_min_flagged: float = Field(default=0.3, ge=0, le=1)
    # A story continues an earlier cluster seen within track_for when their centroids are this
    # close and they share a distinctive term, or when they share this many distinctive terms.
    track_for: Duration = dt.timedelta(days=7)
    match_cosine: float = Field(default=0.7, gt=0, le=1)
    match_terms: int = Field(default=3, ge=1)

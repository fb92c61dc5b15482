"""Baselines: is this hour's (or day's) count unusual for this place?

Pure functions over plain numbers, shared by the tension index and the alert rules. Two views of
"unusual" are kept side by side because each fails differently:

* a Poisson tail probability treats posts as independent arrivals at the historical mean rate;
  it is right for quiet places with few posts, where a z-score is meaningless;
* a robust z-score (median and MAD) compares against the spread actually seen, so a place that
  is always bursty is not flagged for being bursty.

Small counts are never anomalous (``min_count``): two posts in a village where none is usual
has a tiny Poisson tail but is not a reason to wake anyone.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy.special import gammainc

# 1.4826 * MAD estimates the standard deviation of normally distributed data.
MAD_TO_SD = 1.4826
# sqrt(pi/2) * mean absolute deviation estimates it too; used when more than half the values tie.
MEAN_AD_TO_SD = 1.2533
WEEK = dt.timedelta(days=7)


def poisson_tail(observed: int, expected: float) -> float:
    """P[X >= observed] for X ~ Poisson(expected): how surprising a count this high would be.

    Uses the identity P[X >= k] = P(k, expected), the regularised lower incomplete gamma
    function, which is exact and stable for large counts.
    """
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    return float(gammainc(observed, expected))


def robust_z(value: float, history: Sequence[float], *, min_scale: float = 0.0) -> float:
    """(value - median) / robust spread, where spread is 1.4826 * MAD.

    If more than half the history ties (MAD = 0, common with counts of zero) the mean absolute
    deviation is used instead. ``min_scale`` floors the spread so a perfectly flat history does
    not turn one extra post into an infinite z; with no floor and no spread the result is 0 for
    the median itself and +/-inf otherwise. Empty history gives 0.
    """
    if not history:
        return 0.0
    centre = statistics.median(history)
    deviations = [abs(x - centre) for x in history]
    scale = MAD_TO_SD * statistics.median(deviations)
    if scale == 0:
        scale = MEAN_AD_TO_SD * statistics.fmean(deviations)
    scale = max(scale, min_scale)
    diff = value - centre
    if scale == 0:
        return 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return diff / scale


def _hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def same_hour_of_week(
    history: Mapping[dt.datetime, float],
    at: dt.datetime,
    weeks: int = 4,
    *,
    observed_from: dt.datetime | None = None,
) -> list[float]:
    """The values at the same hour of the week over the previous ``weeks`` weeks, oldest first.

    Activity has a strong weekly rhythm (Friday night is not Tuesday morning), so the fair
    comparison for a window is the same window in earlier weeks. ``history`` is keyed by window
    start (on the hour) and holds only windows that had posts; a missing hour inside the
    observed span, from ``observed_from`` (else the oldest key) up to ``at``, counts as 0,
    while one before monitoring began is left out rather than pretending it was quiet. Day
    windows work too: keys at midnight give the same weekday.
    """
    if observed_from is None:
        if not history:
            return []
        observed_from = min(history)
    first = _hour(observed_from)
    values = []
    for k in range(weeks, 0, -1):
        when = _hour(at) - k * WEEK
        if when in history:
            values.append(float(history[when]))
        elif when >= first:
            values.append(0.0)
    return values


def ewma(values: Sequence[float], alpha: float) -> float:
    """Exponentially weighted moving average, oldest value first; 0.0 for no values.

    A cheap trailing baseline that follows slow drift (a town getting busier over months) while
    weighting recent windows most; ``alpha`` near 1 forgets fast.
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"ewma alpha must be in (0, 1], got {alpha}")
    level = None
    for value in values:
        level = value if level is None else alpha * value + (1 - alpha) * level
    return 0.0 if level is None else float(level)


@dataclass(frozen=True)
class Anomaly:
    observed: float
    expected: float
    p_value: float  # Poisson tail P[X >= observed]; 1.0 when guarded
    z: float  # robust z against the history; 0.0 when guarded
    baseline_kind: str  # which history: "same_hour_of_week", "same_weekday", "ewma", ...
    guard: str | None = None  # why it was not evaluated: "below_min_count" | "no_history"

    @property
    def ratio(self) -> float:
        """observed / expected (expected is floored above 0, so this is finite)."""
        return self.observed / self.expected if self.expected > 0 else 0.0

    def exceeds(self, *, p_value: float = 0.01, z: float = 3.0) -> bool:
        """Unusual on both views: improbable as chance arrivals and far outside the usual spread."""
        return self.guard is None and self.p_value <= p_value and self.z >= z


def anomaly(observed: float, history: Sequence[float], *, kind: str, min_count: int) -> Anomaly:
    """Compare a count with its history.

    The guard rule: a count below ``min_count`` is never anomalous (p = 1, z = 0), however quiet
    the history, because in small places a handful of posts is noise, not tension. With no
    history at all nothing is anomalous either; we say so rather than guess.

    Otherwise expected = mean of the history, floored at 1 / (len(history) + 1) so a history of
    zeros still gives a finite rate (the chance of one post we simply had not seen yet), and the
    z-score's spread is floored at sqrt(max(median, 1)), the Poisson noise of the median, so a
    flat history of 2, 2, 2, 2 does not make a 3 look extreme.
    """
    values = [float(x) for x in history]
    if not values:
        return Anomaly(float(observed), 0.0, 1.0, 0.0, kind, "no_history")
    expected = max(statistics.fmean(values), 1.0 / (len(values) + 1))
    if observed < min_count:
        return Anomaly(float(observed), expected, 1.0, 0.0, kind, "below_min_count")
    floor = math.sqrt(max(statistics.median(values), 1.0))
    p_value = poisson_tail(int(math.ceil(observed)), expected)
    z = robust_z(float(observed), values, min_scale=floor)
    return Anomaly(float(observed), expected, p_value, z, kind)

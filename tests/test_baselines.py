"""Baselines: Poisson tails, robust z-scores, same-hour-of-week history, EWMA, anomaly guards."""

from __future__ import annotations

import math

import pytest

from conftest import utc
from monitor.baselines import anomaly, ewma, poisson_tail, robust_z, same_hour_of_week


@pytest.mark.parametrize(("observed", "expected", "tail"), [
    (0, 3.0, 1.0),
    (1, 1.0, 1 - math.exp(-1)),
    (3, 2.0, 1 - 5 * math.exp(-2)),  # 1 - e^-2 (1 + 2 + 2)
    (10, 2.0, 4.6498075e-05),
    (5, 0.0, 0.0),
])
def test_poisson_tail_known_values(observed, expected, tail):
    assert poisson_tail(observed, expected) == pytest.approx(tail, rel=1e-6)


def test_poisson_tail_is_stable_for_large_counts():
    from scipy.stats import poisson

    assert poisson_tail(1000, 1000.0) == pytest.approx(poisson.sf(999, 1000.0), rel=1e-9)
    assert poisson_tail(1000, 1000.0) == pytest.approx(0.5042, abs=1e-4)
    assert 0.0 <= poisson_tail(5000, 1000.0) < 1e-300


def test_robust_z_uses_median_and_mad():
    assert robust_z(6, [1, 2, 3, 4, 5]) == pytest.approx(3 / 1.4826)
    assert robust_z(3, [1, 2, 3, 4, 5]) == 0.0
    # One wild value in the history barely moves the baseline.
    assert robust_z(6, [1, 2, 3, 4, 500]) == pytest.approx(3 / 1.4826)


def test_robust_z_ties_empty_and_floor():
    assert robust_z(5, [0, 0, 0, 4]) == pytest.approx(5 / (1.2533 * 1.0))  # MAD 0: mean abs dev
    assert robust_z(5, []) == 0.0
    assert robust_z(3, [2, 2, 2]) == math.inf
    assert robust_z(2, [2, 2, 2]) == 0.0
    assert robust_z(3, [2, 2, 2], min_scale=2.0) == 0.5


def test_same_hour_of_week_fills_quiet_hours_inside_the_span():
    at = utc(2026, 11, 20, 18, 30)  # a Friday evening
    history = {
        utc(2026, 10, 23, 18): 9.0,  # 4 weeks back
        utc(2026, 11, 6, 18): 7.0,  # 2 weeks back
        utc(2026, 11, 20, 17): 100.0,  # same day, other hour: ignored
    }
    assert same_hour_of_week(history, at) == [9.0, 0.0, 7.0, 0.0]
    assert same_hour_of_week(history, at, weeks=2) == [7.0, 0.0]


def test_same_hour_of_week_leaves_out_hours_before_monitoring_began():
    at = utc(2026, 11, 20, 18)
    history = {utc(2026, 11, 6, 18): 7.0}
    assert same_hour_of_week(history, at) == [7.0, 0.0]
    assert same_hour_of_week(history, at, observed_from=utc(2026, 10, 1)) == [0.0, 0.0, 7.0, 0.0]
    assert same_hour_of_week({}, at) == []
    assert same_hour_of_week({}, at, observed_from=utc(2026, 11, 1)) == [0.0, 0.0]


def test_ewma():
    assert ewma([4, 4, 4], 0.3) == 4.0
    assert ewma([0, 10], 0.5) == 5.0
    assert ewma([0, 0, 10], 1.0) == 10.0
    assert ewma([], 0.3) == 0.0
    with pytest.raises(ValueError):
        ewma([1], 0.0)


def test_small_counts_are_never_anomalous():
    quiet = anomaly(2, [0, 0, 0, 0], kind="same_weekday", min_count=5)
    assert quiet.guard == "below_min_count" and quiet.p_value == 1.0 and quiet.z == 0.0
    assert not quiet.exceeds()


def test_a_tenfold_surge_is_anomalous():
    surge = anomaly(50, [5, 4, 6, 5], kind="same_weekday", min_count=5)
    assert surge.guard is None
    assert surge.expected == 5.0 and surge.ratio == 10.0
    assert surge.p_value < 1e-20 and surge.z > 10
    assert surge.exceeds()


def test_ordinary_variation_is_not_anomalous():
    assert not anomaly(7, [5, 4, 6, 5], kind="same_weekday", min_count=5).exceeds()
    # A perfectly flat history does not make one extra post extreme (Poisson noise floor).
    assert anomaly(3, [2, 2, 2, 2], kind="ewma", min_count=1).z <= 1.0


def test_no_history_is_said_not_guessed():
    result = anomaly(40, [], kind="same_weekday", min_count=5)
    assert result.guard == "no_history" and not result.exceeds()


def test_zero_history_still_gives_a_finite_expectation():
    result = anomaly(30, [0, 0, 0], kind="same_weekday", min_count=20)
    assert result.expected == pytest.approx(0.25)
    assert result.exceeds() and math.isfinite(result.z)

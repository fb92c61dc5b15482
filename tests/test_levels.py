"""The tension index, levels and trend, and analyst overrides shown beside the computed level."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import utc
from monitor.aggregate import aggregate
from monitor.cli import app
from monitor.errors import TensionError
from monitor.levels import clear_level, current_levels, set_level
from monitor.settings import AggregationSettings, load_settings
from monitor.store import Store
from monitor.store.schema import audit_log, level_overrides, tension_levels
from monitor.tension_index import LEVEL_COLOURS, compute_index, describe_drivers, level_for
from test_aggregate import Posts

AGG = AggregationSettings()
MONDAY = utc(2026, 11, 16)


def day_row(**counts) -> dict:
    return {"posts": 0, "scored": 0, "hate": 0, "offensive": 0, "conspiracy": 0, "narrative": 0,
            "mobilisation": 0, "tension_sum": 0.0} | counts


@pytest.mark.parametrize(("index", "level"), [
    (0, 1), (14.9, 1), (15, 2), (29.9, 2), (30, 3), (50, 4), (69.9, 4), (70, 5), (100, 5)])
def test_level_cut_points(index, level):
    assert level_for(index, AGG.level_cuts) == level


def test_level_colours():
    assert [LEVEL_COLOURS[n] for n in range(1, 6)] == ["green", "green", "amber", "red", "red"]


def test_quiet_day_is_zero():
    result = compute_index(day_row(), {}, MONDAY, MONDAY, AGG)
    assert (result.index, result.level) == (0.0, 1)


def test_two_hateful_posts_in_a_village_stay_green():
    row = day_row(posts=2, scored=2, hate=2, offensive=2, tension_sum=1.6)
    result = compute_index(row, {}, MONDAY, MONDAY, AGG)
    assert result.drivers["denominator"] == AGG.min_posts  # 2 / 20, not 2 / 2
    assert result.level <= 2


def test_hate_and_mobilisation_in_a_town_is_red():
    # 40 scored posts: 12 hateful and offensive (tension 0.8), 4 calls to gather, 24 at 0.2.
    row = day_row(posts=40, scored=40, hate=12, offensive=12, mobilisation=4,
                  tension_sum=12 * 0.8 + 28 * 0.2)
    result = compute_index(row, {}, MONDAY, MONDAY, AGG)
    points = {c["component"]: c["points"] for c in result.drivers["components"]}
    assert points["hate"] == pytest.approx(30)  # 30% share, saturates at 20%
    assert points["mobilisation"] == pytest.approx(20)  # 10% share, saturates at 10%
    assert points["offensive"] == pytest.approx(5 * 0.3 / 0.4)
    assert points["tension"] == pytest.approx(15 * (15.2 / 40) / 0.6)
    assert result.index == pytest.approx(sum(points.values()), abs=0.1)
    assert result.level == 4
    assert describe_drivers(result.drivers).startswith("hate 30% +30, mobilisation 10% +20")


def test_volume_against_the_same_weekday():
    history = {MONDAY - dt.timedelta(weeks=k): n for k, n in ((1, 30), (2, 28), (3, 33), (4, 29))}
    first = MONDAY - dt.timedelta(weeks=4)
    surge = compute_index(day_row(posts=300, scored=300), history, MONDAY, first, AGG)
    assert surge.drivers["volume"]["baseline"] == "same_weekday"
    assert surge.drivers["volume"]["expected"] == 30.0
    assert surge.drivers["components"][0]["component"] == "volume"
    assert surge.drivers["components"][0]["intensity"] == 1.0
    usual = compute_index(day_row(posts=31, scored=31), history, MONDAY, first, AGG)
    assert usual.index < 5
    small = compute_index(day_row(posts=12, scored=12), {}, MONDAY, first, AGG)
    assert small.drivers["volume"]["guard"] == "below_min_count"


def test_weights_and_saturation_are_configurable():
    only_hate = AggregationSettings(weights={"hate": 1, "narrative": 0, "mobilisation": 0,
                                             "offensive": 0, "tension": 0, "volume": 0})
    result = compute_index(day_row(posts=40, scored=40, hate=4), {}, MONDAY, MONDAY, only_hate)
    assert result.index == pytest.approx(100 * 0.1 / 0.2)


# -- through the store -----------------------------------------------------------------------


@pytest.fixture
def service(store, config_path):
    return SimpleNamespace(store=store, settings=load_settings(config_path))


def _levels(store) -> dict:
    with store.transaction() as conn:
        return {(r.locality_id, r.day): r for r in conn.execute(sa.select(tension_levels))}


def test_trend_is_the_change_against_the_same_day_last_week(service, store):
    feed = Posts(store)
    for i in range(25):
        feed.add(MONDAY + dt.timedelta(minutes=20 * i), tension=0.1,
                 scored_at=MONDAY + dt.timedelta(hours=12))
    aggregate(service, MONDAY + dt.timedelta(hours=13))
    first = _levels(store)[("workington", MONDAY)]
    assert first.trend == 0.0  # nothing before monitoring began to compare with
    next_monday = MONDAY + dt.timedelta(weeks=1)
    for i in range(25):
        feed.add(next_monday + dt.timedelta(minutes=20 * i), labels=["hate"] if i < 8 else (),
                 tension=0.8 if i < 8 else 0.1, scored_at=next_monday + dt.timedelta(hours=12))
    aggregate(service, next_monday + dt.timedelta(hours=13))
    later = _levels(store)[("workington", next_monday)]
    assert later.level >= 3
    assert later.trend == pytest.approx(later.index - first.index, abs=0.11)
    assert later.trend > 20


def test_override_is_audited_and_shown_beside_the_computed_level(service, store):
    feed = Posts(store)
    for i in range(20):
        feed.add(MONDAY + dt.timedelta(minutes=30 * i))
    aggregate(service, MONDAY + dt.timedelta(hours=12))
    now = MONDAY + dt.timedelta(hours=14)
    set_level(store, "workington", 4, "Call to gather at Test Hall on Saturday", "A. Analyst", now)

    views = current_levels(store, service.settings, MONDAY.date(), now=now + dt.timedelta(hours=1))
    view = views["workington"]
    assert (view.computed_level, view.override_level, view.shown_level) == (1, 4, 4)
    assert view.override_reason == "Call to gather at Test Hall on Saturday"
    assert view.set_by == "A. Analyst"
    assert views["maryport"].shown_level == 1 and views["maryport"].override_level is None
    assert views["testshire"].name == "Testshire"

    clear_level(store, "workington", "Event called off", "B. Analyst", now + dt.timedelta(hours=2))
    after = current_levels(store, service.settings, MONDAY.date(), now=now + dt.timedelta(hours=3))
    assert after["workington"].override_level is None and after["workington"].shown_level == 1
    # Looking back at the moment it was in force still shows it.
    before = current_levels(store, service.settings, MONDAY.date(), now=now + dt.timedelta(hours=1))
    assert before["workington"].override_level == 4

    with store.transaction() as conn:
        audit = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings().all()
    assert [(a["action"], a["actor"], a["object_id"]) for a in audit] == [
        ("level.set", "A. Analyst", "workington"), ("level.clear", "B. Analyst", "workington")]
    assert audit[0]["detail"]["reason"] == "Call to gather at Test Hall on Saturday"
    assert audit[1]["detail"]["reason"] == "Event called off"


def test_a_new_override_replaces_the_one_in_force(service, store):
    now = MONDAY + dt.timedelta(hours=9)
    first = set_level(store, "workington", 3, "rumours", "A", now)
    set_level(store, "workington", 5, "disorder reported", "A", now + dt.timedelta(hours=1))
    view = current_levels(store, service.settings, MONDAY.date(), now=now + dt.timedelta(hours=2))
    assert view["workington"].override_level == 5
    with store.transaction() as conn:
        old = conn.execute(sa.select(level_overrides).where(level_overrides.c.id == first)).one()
    assert old.cleared_at == now + dt.timedelta(hours=1)


def test_override_expires(service, store):
    now = MONDAY + dt.timedelta(hours=9)
    set_level(store, "maryport", 3, "march planned", "A", now, valid_until=now + dt.timedelta(hours=2))
    assert current_levels(store, service.settings, MONDAY.date(),
                          now=now + dt.timedelta(hours=1))["maryport"].override_level == 3
    assert current_levels(store, service.settings, MONDAY.date(),
                          now=now + dt.timedelta(hours=3))["maryport"].override_level is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"reason": "  "}, "a reason is required"),
    ({"level": 6}, "level must be 1 to 5"),
    ({"actor": ""}, "say who"),
    ({"locality_id": "nowhere"}, "unknown locality 'nowhere'"),
    ({"valid_until": MONDAY}, "is not in the future"),
])
def test_set_level_refuses_bad_input(store, kwargs, message):
    args = {"locality_id": "workington", "level": 3, "reason": "why", "actor": "A",
            "now": MONDAY + dt.timedelta(hours=1), "localities": {"workington", "maryport"}} | kwargs
    with pytest.raises(TensionError, match=message):
        set_level(store, **args)
    with store.transaction() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(audit_log)) == 0


def test_clearing_nothing_is_an_error(store):
    with pytest.raises(TensionError, match="no analyst level is in force"):
        clear_level(store, "workington", "why", "A", MONDAY)


# -- command line ----------------------------------------------------------------------------


def test_cli_set_show_clear(config_path):
    runner = CliRunner()
    base = ["--config", str(config_path), "levels"]
    result = runner.invoke(app, [*base, "set", "workington", "4", "--reason", "Call to gather",
                                 "--by", "A. Analyst", "--until", "2d"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, base, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Workington" in shown.output and "4 red" in shown.output and "Call to gather" in shown.output
    assert "1 green" in shown.output  # the computed level is still there
    cleared = runner.invoke(app, [*base, "clear", "workington", "--reason", "over", "--by", "A"])
    assert cleared.exit_code == 0, cleared.output
    settings = load_settings(config_path)
    store = Store.open(settings.database_url)
    with store.transaction() as conn:
        actions = list(conn.scalars(sa.select(audit_log.c.action).order_by(audit_log.c.id)))
    store.close()
    assert actions == ["level.set", "level.clear"]


def test_cli_unknown_locality_is_one_line(config_path):
    result = CliRunner().invoke(app, ["--config", str(config_path), "levels", "set", "atlantis", "3",
                                      "--reason", "x", "--by", "y"])
    assert result.exit_code == 2
    assert "unknown locality 'atlantis'" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_cli_bad_day_is_one_line(config_path):
    result = CliRunner().invoke(app, ["--config", str(config_path), "levels", "--day", "19/11/2026"])
    assert result.exit_code == 2 and "is not a date" in result.output

"""Dispatch: grouping, timing, silences, inhibition, acknowledgement and routing, driven by `now`.

Alert rows are written straight into the store (no rule evaluation), and every test moves time
forward by passing `now`; nothing sleeps. Receivers point at a closed loopback port: dispatch
only queues messages, it never sends.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from alerts import dispatch as dispatch_module
from alerts.ack import NotAcknowledgeable, UnknownAlert, acknowledge
from alerts.dispatch import LOCK_ID, run_dispatch
from alerts.messages import MessageContext
from alerts.routing import (
    AlertingConfig,
    load_alerting,
    match_routes,
    receiver_targets,
    resolve,
    startup_warnings,
)
from alerts.silences import SilenceError, add_silence, expire_silence, list_silences
from conftest import utc
from monitor import cli
from monitor.cli import app
from monitor.errors import ConfigError, StorageError
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store.schema import alerts, audit_log, notification_groups, outbox

REPO = Path(__file__).resolve().parent.parent
T0 = utc(2026, 11, 21, 18, 0)
S, M, H = dt.timedelta(seconds=1), dt.timedelta(minutes=1), dt.timedelta(hours=1)

BASIC = """
receivers:
  - {name: officers, urls: ["json://127.0.0.1:9/officers"]}
  - {name: quiet, urls: ["json://127.0.0.1:9/quiet"], send_resolved: false}
route:
  receiver: officers
  group_by: [alertname, locality]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 24h
inhibit_rules:
  - source_matchers: ['locality="testshire"']
    target_matchers: ['locality!="testshire"']
    equal: [category]
"""
CONTEXT = MessageContext(
    dashboard_url="http://dash.example",
    places={"testshire": "Testshire", "workington": "Workington", "maryport": "Maryport"},
    sites={"test-hall": "Test Hall"},
    narratives={"test-myth": "A test myth"},
)


def config(text: str = BASIC) -> AlertingConfig:
    return AlertingConfig.model_validate(yaml.safe_load(text))


def run(store, now, cfg: AlertingConfig | None = None, env: dict | None = None):
    cfg = cfg or config()
    return run_dispatch(store, cfg, now, context=CONTEXT, targets=receiver_targets(cfg, env or {}))


def fire(store, fp, now, *, locality="workington", alertname="hate-share-high", category="hate",
         severity="high", annotations=None, **labels):
    values = dict(
        rule_id=alertname, state="firing", value=0.3, active_since=now - 30 * M, fired_at=now,
        resolved_at=None, evaluated_at=now,
        labels={"alertname": alertname, "locality": locality, "category": category, "severity": severity,
                **labels},
        annotations=annotations or {"summary": f"{alertname} in {locality}",
                                    "description": "14 posts against a usual 3"},
    )
    with store.transaction() as conn:
        if conn.scalar(sa.select(alerts.c.fingerprint).where(alerts.c.fingerprint == fp)):
            values.pop("labels")
            conn.execute(sa.update(alerts).where(alerts.c.fingerprint == fp).values(**values))
        else:
            conn.execute(sa.insert(alerts).values(fingerprint=fp, **values))


def resolve_alert(store, fp, now):
    with store.transaction() as conn:
        conn.execute(sa.update(alerts).where(alerts.c.fingerprint == fp)
                     .values(state="resolved", resolved_at=now, evaluated_at=now))


def messages(store, receiver: str | None = None) -> list[dict]:
    query = sa.select(outbox).order_by(outbox.c.id)
    if receiver:
        query = query.where(outbox.c.receiver == receiver)
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def alerted(message) -> dict[str, str]:
    return {a["fingerprint"]: a["state"] for a in message["payload"]["alerts"]}


def groups(store) -> list[dict]:
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute(sa.select(notification_groups)).mappings()]


def audit(store) -> list[str]:
    with store.transaction() as conn:
        return list(conn.scalars(sa.select(audit_log.c.action).order_by(audit_log.c.id)))


# -- timing ----------------------------------------------------------------------------------


def test_group_wait_batches_alerts_that_start_together(store):
    fire(store, "a1", T0)
    assert run(store, T0).queued == 0 and len(groups(store)) == 1
    fire(store, "a2", T0 + 10 * S, site="test-hall")
    assert run(store, T0 + 10 * S).queued == 0
    assert run(store, T0 + 29 * S).queued == 0
    assert run(store, T0 + 30 * S).queued == 1
    [message] = messages(store)
    assert alerted(message) == {"a1": "firing", "a2": "firing"}
    key = message["idempotency_key"]
    assert message["payload"]["idempotency_key"] == key and f"Ref: {key}" in message["body"]
    assert message["receiver"] == "officers"
    [group] = groups(store)
    assert group["last_sent_at"] == message["created_at"] == T0 + 30 * S


def test_group_interval_batches_later_changes(store):
    fire(store, "a1", T0)
    run(store, T0), run(store, T0 + 30 * S)
    fire(store, "a3", T0 + M, narrative="test-myth")
    assert run(store, T0 + M).queued == 0
    fire(store, "a4", T0 + 2 * M, site="test-hall")
    assert run(store, T0 + 5 * M + 29 * S).queued == 0
    assert run(store, T0 + 5 * M + 30 * S).queued == 1
    assert set(alerted(messages(store)[-1])) == {"a1", "a3", "a4"}


def test_unchanged_group_is_sent_again_only_after_repeat_interval(store):
    fire(store, "a1", T0)
    run(store, T0), run(store, T0 + 30 * S)
    sent = T0 + 30 * S
    for later in (sent + 5 * M, sent + H, sent + 23 * H, sent + 24 * H - S):
        assert run(store, later).queued == 0
    assert run(store, sent + 24 * H).queued == 1
    reminder = messages(store)[-1]
    assert reminder["body"].startswith("Reminder: still firing")
    assert run(store, sent + 24 * H + 10 * M).queued == 0
    assert run(store, sent + 48 * H).queued == 1
    assert len({m["idempotency_key"] for m in messages(store)}) == 3


def test_resolution_is_announced_once_then_the_group_ends(store):
    fire(store, "a1", T0)
    run(store, T0), run(store, T0 + 30 * S)
    resolve_alert(store, "a1", T0 + 2 * M)
    assert run(store, T0 + 2 * M).queued == 0  # group_interval since the first message
    assert run(store, T0 + 5 * M + 30 * S).queued == 1
    message = messages(store)[-1]
    assert alerted(message) == {"a1": "resolved"}
    assert message["title"].startswith("Resolved: ") and "Resolved at Sat 21 Nov 2026, 18:02 GMT" in message["body"]
    assert groups(store) == []
    assert run(store, T0 + 2 * H).queued == 0 and run(store, T0 + 48 * H).queued == 0


def test_resolution_is_announced_even_if_a_new_episode_is_already_pending(store):
    fire(store, "a1", T0)
    run(store, T0), run(store, T0 + 30 * S)
    resolve_alert(store, "a1", T0 + M)
    with store.transaction() as conn:  # the condition is true again, waiting out its `for`
        conn.execute(sa.update(alerts).values(state="pending", active_since=T0 + 2 * M))
    assert run(store, T0 + 5 * M + 30 * S).queued == 1
    assert alerted(messages(store)[-1]) == {"a1": "resolved"}
    fire(store, "a1", T0 + 40 * M)
    run(store, T0 + 40 * M)
    assert run(store, T0 + 40 * M + 30 * S).queued == 1
    assert alerted(messages(store)[-1]) == {"a1": "firing"}


def test_receiver_without_send_resolved_hears_nothing_on_resolve(store):
    cfg = config(BASIC.replace("receiver: officers\n  group_by", "receiver: quiet\n  group_by"))
    fire(store, "a1", T0)
    run(store, T0, cfg), run(store, T0 + 30 * S, cfg)
    resolve_alert(store, "a1", T0 + M)
    assert run(store, T0 + 10 * M, cfg).queued == 0
    assert len(messages(store)) == 1 and groups(store) == []


def test_alert_resolved_during_group_wait_is_never_announced(store):
    fire(store, "a1", T0)
    run(store, T0)
    resolve_alert(store, "a1", T0 + 10 * S)
    assert run(store, T0 + 30 * S).queued == 0 and run(store, T0 + H).queued == 0
    assert messages(store) == [] and groups(store) == []


def test_other_localities_are_separate_groups(store):
    fire(store, "w", T0)
    fire(store, "m", T0, locality="maryport")
    run(store, T0)
    assert run(store, T0 + 30 * S).queued == 2
    assert sorted(m["group_key"] for m in messages(store)) == [
        'root:{alertname="hate-share-high",locality="maryport"}',
        'root:{alertname="hate-share-high",locality="workington"}',
    ]


def test_dispatch_state_and_outbox_commit_together(store, monkeypatch):
    fire(store, "a1", T0)
    run(store, T0)

    def broken_enqueue(*args, **kwargs):
        raise StorageError("database error: disk full")

    monkeypatch.setattr(dispatch_module, "enqueue", broken_enqueue)
    with pytest.raises(StorageError):
        run(store, T0 + 30 * S)
    assert groups(store)[0]["last_sent_at"] is None  # rolled back with the failed message
    monkeypatch.undo()
    assert run(store, T0 + 31 * S).queued == 1


def test_receiver_without_url_is_skipped(store):
    cfg = config(BASIC.replace('urls: ["json://127.0.0.1:9/officers"]', "urls_from_env: TENSION_RECEIVER_OFFICERS"))
    fire(store, "a1", T0)
    run(store, T0, cfg), run(store, T0 + 30 * S, cfg)
    assert messages(store) == [] and groups(store) == []
    assert startup_warnings(cfg, {}) == [
        "alerting: receiver 'officers' has no URL configured and is skipped (set TENSION_RECEIVER_OFFICERS)"
    ]
    env = {"TENSION_RECEIVER_OFFICERS": SecretStr("json://127.0.0.1:9/a json://127.0.0.1:9/b")}
    assert receiver_targets(cfg, env)["officers"].urls == ("json://127.0.0.1:9/a", "json://127.0.0.1:9/b")
    run(store, T0 + M, cfg, env)
    assert run(store, T0 + M + 30 * S, cfg, env).queued == 1


@pytest.mark.postgres
def test_second_dispatcher_backs_off_while_one_runs(store):
    if store.dialect != "postgresql":
        pytest.skip("the dispatch lock is a PostgreSQL advisory lock; SQLite has one writer")
    fire(store, "a1", T0)
    with store.engine.begin() as other:
        other.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_ID)))
        assert run(store, T0).busy
    assert not run(store, T0).busy and len(groups(store)) == 1


# -- silences --------------------------------------------------------------------------------


def test_silence_mutes_matching_alerts_until_it_ends(store):
    add_silence(store, ["locality=workington"], reason="known event, police aware", created_by="Sam Jones",
                duration=H, now=T0 - M)
    fire(store, "w", T0)
    fire(store, "m", T0, locality="maryport")
    run(store, T0), run(store, T0 + 30 * S)
    assert [set(alerted(m)) for m in messages(store)] == [{"m"}]
    assert run(store, T0 + 58 * M).silenced == 1
    run(store, T0 + 59 * M)  # the silence has ended: a new group starts waiting
    assert run(store, T0 + 59 * M + 30 * S).queued == 1
    assert set(alerted(messages(store)[-1])) == {"w"}


def test_expiring_a_silence_early_is_audited_and_lets_alerts_through(store):
    silence = add_silence(store, ['severity=~"high|medium"', "category=hate"], reason="planned march",
                          created_by="Sam Jones", duration=4 * H, now=T0)
    fire(store, "w", T0)
    run(store, T0), run(store, T0 + 30 * S)
    assert messages(store) == []
    expire_silence(store, silence.id[:8], by="Alex Lee", now=T0 + M)
    assert [s.id for s in list_silences(store, T0 + 2 * M)] == []
    assert list_silences(store, T0 + 2 * M, include_expired=True)[0].state(T0 + 2 * M) == "expired"
    run(store, T0 + 2 * M)
    assert run(store, T0 + 2 * M + 30 * S).queued == 1
    assert audit(store) == ["silence.create", "silence.expire"]
    with pytest.raises(SilenceError, match="already expired"):
        expire_silence(store, silence.id, by="Alex Lee", now=T0 + 3 * M)
    with pytest.raises(SilenceError, match="no silence with id"):
        expire_silence(store, "not-a-silence", by="Alex Lee", now=T0)


def test_silence_needs_reason_author_expiry_and_a_specific_matcher(store):
    good = {"reason": "r", "created_by": "Sam", "duration": H, "now": T0}
    for matchers, changes, message in (
        (["locality=workington"], {"reason": "  "}, "needs a reason"),
        (["locality=workington"], {"created_by": ""}, "who is creating"),
        (["locality=workington"], {"duration": dt.timedelta(0)}, "at most 30 days"),
        (["locality=workington"], {"duration": dt.timedelta(days=31)}, "at most 30 days"),
        ([], {}, "at least one matcher"),
        (['locality=~".*"'], {}, "would silence every alert"),
        (["locality"], {}, "bad matcher"),
        (['locality=~"("'], {}, "bad matcher"),
    ):
        with pytest.raises(SilenceError, match=message):
            add_silence(store, matchers, **(good | changes))
    assert list_silences(store, T0, include_expired=True) == [] and audit(store) == []


def test_alert_announced_before_a_silence_is_not_announced_again_after_it(store):
    fire(store, "w", T0)
    run(store, T0), run(store, T0 + 30 * S)
    silence = add_silence(store, ["locality=workington"], reason="r", created_by="Sam", duration=H, now=T0 + M)
    run(store, T0 + 10 * M)
    expire_silence(store, silence.id, by="Sam", now=T0 + 20 * M)
    assert run(store, T0 + 21 * M).queued == 0 and run(store, T0 + 30 * M).queued == 0
    assert len(messages(store)) == 1


# -- inhibition ------------------------------------------------------------------------------


def test_area_alert_inhibits_same_category_locality_alerts(store):
    fire(store, "area", T0, locality="testshire")
    fire(store, "w-hate", T0)
    fire(store, "m-volume", T0, locality="maryport", alertname="volume-anomaly", category="volume")
    run(store, T0)
    report = run(store, T0 + 30 * S)
    assert report.queued == 2 and report.inhibited == 1
    assert sorted(fp for m in messages(store) for fp in alerted(m)) == ["area", "m-volume"]
    resolve_alert(store, "area", T0 + 10 * M)
    run(store, T0 + 10 * M)  # area resolution goes out; the locality alert starts its own group
    assert run(store, T0 + 10 * M + 30 * S).queued == 1
    assert [alerted(m) for m in messages(store)[2:]] == [{"area": "resolved"}, {"w-hate": "firing"}]


# -- acknowledgement -------------------------------------------------------------------------


def test_ack_mutes_repeats_and_rearms_on_resolve(store):
    fire(store, "a1" * 16, T0)
    run(store, T0), run(store, T0 + 30 * S)
    ack = acknowledge(store, "a1a1a1a1", by="Sam Jones", comment="calling the neighbourhood team", now=T0 + M)
    assert ack.fingerprint == "a1" * 16
    assert run(store, T0 + 24 * H + 30 * S).queued == 0
    assert run(store, T0 + 72 * H).queued == 0
    resolve_alert(store, ack.fingerprint, T0 + 73 * H)
    assert run(store, T0 + 73 * H).queued == 1  # resolution still goes out
    with store.transaction() as conn:
        row = conn.execute(sa.select(alerts)).mappings().one()
    assert row["acknowledged_by"] is None and row["acknowledged_at"] is None
    assert audit(store) == ["alert.acknowledge", "alert.ack_cleared"]
    fire(store, ack.fingerprint, T0 + 80 * H)  # next episode notifies, and repeats
    run(store, T0 + 80 * H)
    assert run(store, T0 + 80 * H + 30 * S).queued == 1
    assert run(store, T0 + 104 * H + 30 * S).queued == 1


def test_ack_from_an_earlier_episode_does_not_mute(store):
    fire(store, "a1", T0)
    run(store, T0), run(store, T0 + 30 * S)
    with store.transaction() as conn:  # acked in an earlier episode, never cleared
        conn.execute(sa.update(alerts).values(acknowledged_by="Sam", acknowledged_at=T0 - H))
    assert run(store, T0 + 24 * H + 30 * S).queued == 1


def test_message_shows_who_acknowledged_and_repeats_for_the_rest(store):
    fire(store, "a1", T0)
    fire(store, "a2", T0, site="test-hall")
    run(store, T0), run(store, T0 + 30 * S)
    acknowledge(store, "a1", by="Sam Jones", comment="on it", now=T0 + M)
    assert run(store, T0 + 24 * H + 30 * S).queued == 1
    body = messages(store)[-1]["body"]
    assert "Acknowledged by Sam Jones at Sat 21 Nov 2026, 18:01 GMT: on it" in body
    assert body.startswith("Reminder: still firing, not all acknowledged")


def test_ack_errors_are_one_line(store):
    fire(store, "a1", T0)
    fire(store, "r1", T0, locality="maryport")
    resolve_alert(store, "r1", T0 + M)
    with pytest.raises(UnknownAlert, match="no alert with fingerprint 'nope'"):
        acknowledge(store, "nope", by="Sam", comment=None, now=T0)
    with pytest.raises(NotAcknowledgeable, match="only a firing alert"):
        acknowledge(store, "r1", by="Sam", comment=None, now=T0 + 2 * M)
    with pytest.raises(NotAcknowledgeable, match="--by"):
        acknowledge(store, "a1", by=" ", comment=None, now=T0)


# -- routing ---------------------------------------------------------------------------------

CUMBERLAND_ENV = {
    name: SecretStr(f"json://127.0.0.1:9/{name.lower()}")
    for name in ("TENSION_RECEIVER_COHESION_OFFICERS", "TENSION_RECEIVER_PARTNERSHIP_TEAMS",
                 "TENSION_RECEIVER_DUTY_WEBHOOK")
}


def test_shipped_routing_tree_with_continue_and_child_routes(store):
    cfg = load_alerting(REPO / "config" / "alerting.yaml")
    assert len(startup_warnings(cfg, {})) == 3 and startup_warnings(cfg, CUMBERLAND_ENV) == []
    fire(store, "hate", T0, locality="cumberland-town")
    fire(store, "myth", T0, alertname="narrative-spreading", category="narrative", severity="medium",
         narrative="test-myth")
    fire(store, "feed", T0, alertname="source-unhealthy", category="source", severity="low", source="bbc")
    assert run(store, T0, cfg, CUMBERLAND_ENV).queued == 1  # duty: group_wait 0s
    assert [m["receiver"] for m in messages(store)] == ["duty-webhook"]
    run(store, T0 + 30 * S, cfg, CUMBERLAND_ENV)
    run(store, T0 + 5 * M, cfg, CUMBERLAND_ENV)
    routed = sorted((m["receiver"], fp) for m in messages(store) for fp in alerted(m))
    assert routed == [
        ("cohesion-officers", "feed"), ("cohesion-officers", "hate"), ("cohesion-officers", "myth"),
        ("duty-webhook", "hate"), ("partnership-teams", "myth"),
    ]
    keys = {m["group_key"] for m in messages(store)}
    assert 'source-health:{category="source"}' in keys and 'partnership:{category="narrative"}' in keys


def test_children_inherit_and_first_match_wins_without_continue():
    tree = resolve(config("""
receivers: [{name: a}, {name: b}, {name: c}]
route:
  receiver: a
  group_by: [locality]
  routes:
    - receiver: b
      matchers: [category=hate]
      group_wait: 10s
      routes:
        - {receiver: c, matchers: ['severity="high"'], group_by: ["..."]}
    - {receiver: c, matchers: [category=hate]}
""").route)
    [high] = match_routes(tree, {"category": "hate", "severity": "high"})
    assert (high.id, high.receiver, high.group_wait, high.group_by) == ("root.0.0", "c", 10 * S, ("...",))
    [low] = match_routes(tree, {"category": "hate", "severity": "low"})
    assert (low.id, low.receiver, low.group_by, low.repeat_interval) == ("root.0", "b", ("locality",), 24 * H)
    [other] = match_routes(tree, {"category": "volume"})
    assert (other.id, other.receiver, other.group_wait) == ("root", "a", 30 * S)


# -- message text ----------------------------------------------------------------------------


def test_message_says_what_where_since_numbers_and_action_without_handles(store):
    fire(store, "a1", T0, site="test-hall", narrative="test-myth", annotations={
        "summary": "Hateful posts about the place well above the usual level",
        "description": "14 hateful posts in the last hour against a usual 3 (4-week baseline); top account @angry_bloke",
        "dashboard": "http://dash.example/alerts/a1",
        "window": "Sat 21 Nov 17:00 to Sat 21 Nov 18:00 Europe/London",
        "narratives": "Another myth (12)",
    })
    run(store, T0), run(store, T0 + 30 * S)
    [message] = messages(store)
    assert message["title"] == "HIGH: Hateful posts about the place well above the usual level — Workington"
    body = message["body"]
    for expected in ("Where: Workington, near Test Hall", "Since: Sat 21 Nov 2026, 18:00 GMT",
                     "Numbers: 14 hateful posts in the last hour against a usual 3 (4-week baseline)",
                     "Period: Sat 21 Nov 17:00 to Sat 21 Nov 18:00 Europe/London",
                     "Narratives: A test myth; Another myth (12)", "Action: Possible offence — refer to police.",
                     "Details: http://dash.example/alerts/a1", f"Ref: {message['idempotency_key']}"):
        assert expected in body
    assert "@angry_bloke" not in body and "angry_bloke" not in str(message["payload"])


def test_summer_times_are_british_summer_time(store):
    fire(store, "a1", utc(2026, 7, 1, 17, 0))
    run(store, utc(2026, 7, 1, 17, 0)), run(store, utc(2026, 7, 1, 17, 1))
    assert "Since: Wed 01 Jul 2026, 18:00 BST" in messages(store)[0]["body"]


# -- configuration ---------------------------------------------------------------------------


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(path)
    return str(excinfo.value)


def test_alerting_config_errors_name_file_and_field(config_path):
    alerting = config_path.parent / "alerting.yaml"
    alerting.write_text("receivers: [{name: officers, urls: ['json://127.0.0.1:9/x']}]\n"
                        "route: {receiver: officers, routes: [{receiver: nobody, matchers: [category=hate]}]}\n")
    assert (f"{alerting}: route.routes[0].receiver: unknown receiver 'nobody' "
            "(hint: use a name from receivers: officers)") in error_of(config_path)
    alerting.write_text("receivers: [{name: o, urls_from_env: OFFICERS}]\nroute: {receiver: o, group_wiat: 1m}\n")
    message = error_of(config_path)
    assert "receivers[0]: Value error, urls_from_env 'OFFICERS' must be" in message
    assert "route.group_wiat: unknown key" in message
    alerting.write_text("receivers: [{name: o}]\nroute: {receiver: o, routes: [{matchers: ['sev~high']}]}\n")
    assert "route.routes[0].matchers[0]" in error_of(config_path)


def test_receiver_urls_come_from_the_environment_and_stay_secret(config_path, monkeypatch):
    (config_path.parent / "alerting.yaml").write_text(
        "receivers: [{name: officers, urls_from_env: TENSION_RECEIVER_OFFICERS}]\nroute: {receiver: officers}\n")
    monkeypatch.setenv("TENSION_RECEIVER_OFFICERS", "json://127.0.0.1:9/hook-secret-token")
    settings = load_settings(config_path)
    targets = receiver_targets(settings.alerting, settings.environment.receiver_urls)
    assert targets["officers"].urls == ("json://127.0.0.1:9/hook-secret-token",)
    assert "hook-secret-token" not in repr(settings)
    monkeypatch.setenv("TENSION_RECEIVER_OFFICERS", "nonsense://secret-token-in-a-typo")
    message = error_of(config_path)
    assert "receivers[0].urls_from_env: apprise does not understand a URL starting 'nonsense://'" in message
    assert "secret-token" not in message


def test_without_an_alerting_file_alerts_are_recorded_but_nobody_is_told(config_path):
    settings = load_settings(config_path)
    assert settings.alerting.route is None
    assert startup_warnings(settings.alerting, {})[0].startswith("alerting: no route configured")


def test_shipped_alerting_config_loads():
    settings = load_settings(REPO / "config" / "tension.yaml")
    assert [r.name for r in settings.alerting.receivers] == ["cohesion-officers", "partnership-teams",
                                                             "duty-webhook"]
    assert settings.alerting.route.repeat_interval == 24 * H


# -- command line ----------------------------------------------------------------------------

runner = CliRunner()
cli.out.width = cli.err.width = 240


def test_cli_silences_ack_and_list(config_path):
    store = Store.open(load_settings(config_path).database_url)
    now = dt.datetime.now(dt.timezone.utc)
    fire(store, "f" * 64, now - H)
    fire(store, "e" * 64, now - H, locality="maryport")
    store.close()
    base = ["--config", str(config_path)]

    added = runner.invoke(app, [*base, "silences", "add", "--match", "locality=maryport", "--reason",
                                "known road closure", "--by", "Sam Jones", "--for", "4h"])
    assert added.exit_code == 0, added.output
    silence_id = added.output.split()[1]
    listed = runner.invoke(app, [*base, "silences", "list"])
    assert silence_id[:8] in listed.output and "known road closure" in listed.output
    shown = runner.invoke(app, [*base, "alerts", "list"])
    assert f"silenced {silence_id[:8]}" in shown.output and "Maryport" in shown.output

    acked = runner.invoke(app, [*base, "alerts", "ack", "ffffffff", "--by", "Sam Jones", "--comment", "on it"])
    assert acked.exit_code == 0 and "acknowledged ffffffffffff by Sam Jones" in acked.output
    expired = runner.invoke(app, [*base, "silences", "expire", silence_id, "--by", "Sam Jones"])
    assert expired.exit_code == 0 and "expired" in expired.output

    for args, message in (
        (["alerts", "ack", "0123456789", "--by", "Sam"], "no alert with fingerprint '0123456789'"),
        (["silences", "expire", "deadbeef", "--by", "Sam"], "no silence with id 'deadbeef'"),
        (["silences", "add", "--match", "locality=x", "--reason", "", "--by", "Sam", "--for", "1h"],
         "needs a reason"),
        (["silences", "add", "--match", "locality=x", "--reason", "r", "--by", "Sam", "--for", "soon"],
         "--for: 'soon' is not a duration"),
        (["silences", "add", "--match", "locality=x", "--reason", "r", "--by", "Sam", "--for",
          "99999999999999999999d"], "--for: '99999999999999999999d' is far too long for a duration"),
    ):
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_alerts_list_json_is_machine_readable(tmp_path):
    import json as json_module

    from conftest import write_config
    from monitor.cli import app
    from monitor.settings import load_settings
    from monitor.store import Store

    config_path = write_config(tmp_path / "config")
    store = Store.open(load_settings(config_path).database_url)
    fire(store, "f" * 64, T0)
    store.close()
    result = CliRunner().invoke(app, ["--config", str(config_path), "alerts", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json_module.loads(result.stdout)
    assert [a["labels"]["alertname"] for a in listed] == ["hate-share-high"]
    assert listed[0]["state"] == "firing" and listed[0]["since"].startswith("2026")
    bad = CliRunner().invoke(app, ["--config", str(config_path), "alerts", "list", "--format", "xml"])
    assert bad.exit_code == 2 and "use table or json" in bad.output

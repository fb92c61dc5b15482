"""Delivery: real SMTP and HTTP servers on loopback, retries with backoff, dead letters, crash safety.

Messages are queued by the real dispatch stage and sent by apprise to an aiosmtpd server or a
pytest-httpserver webhook on 127.0.0.1. Time moves by passing `now`; nothing sleeps. Teams and
Slack cannot be reached offline: we check apprise accepts their URL forms and that a failed send
becomes a recorded retry, never an exception.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import logging
import random
import socket
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import yaml
from aiosmtpd.controller import Controller
from typer.testing import CliRunner
from werkzeug import Response

from alerts.dispatch import dispatch
from alerts.notify import deliver, deliver_due, url_tag
from alerts.outbox import backoff, claim, claim_due
from alerts.routing import AlertingConfig, invalid_urls, receiver_targets
from monitor import cli
from monitor.cli import app
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store.schema import outbox
from test_dispatch import H, M, S, T0, fire, messages, run

runner = CliRunner()
cli.out.width = cli.err.width = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_url(path: str = "hook") -> str:
    return f"json://127.0.0.1:{free_port()}/{path}"


def config(urls: list[str], **delivery) -> AlertingConfig:
    return AlertingConfig.model_validate({
        "delivery": {"backoff_base": "30s", "backoff_max": "1h", **delivery},
        "receivers": [{"name": "officers", "urls": urls}],
        "route": {"receiver": "officers", "group_by": ["locality"], "group_wait": "30s"},
    })


def queue_one(store, cfg: AlertingConfig, fp: str = "a1", locality: str = "workington") -> dict:
    fire(store, fp, T0, locality=locality)
    run(store, T0, cfg), run(store, T0 + 30 * S, cfg)
    return messages(store)[-1]


def send(store, cfg: AlertingConfig, now: dt.datetime, seed: int = 7):
    return deliver_due(store, receiver_targets(cfg, {}), cfg.delivery, now, rng=random.Random(seed))


def row(store, message_id: int) -> dict:
    with store.transaction() as conn:
        return dict(conn.execute(sa.select(outbox).where(outbox.c.id == message_id)).mappings().one())


class Mailbox:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, mailbox
    controller.stop()


def webhook_url(httpserver, path: str = "/hook") -> str:
    return f"json://{httpserver.host}:{httpserver.port}{path}"


# -- real delivery ---------------------------------------------------------------------------


def test_email_reaches_an_smtp_server_on_loopback(store, smtp):
    port, mailbox = smtp
    cfg = config([f"mailto://127.0.0.1:{port}?from=tension@example.com&to=cohesion@example.org"])
    queued = queue_one(store, cfg)
    report = send(store, cfg, T0 + 31 * S)
    assert (report.sent, report.retrying, report.errors) == (1, 0, [])
    [envelope] = mailbox.received
    assert envelope.mail_from == "tension@example.com" and envelope.rcpt_tos == ["cohesion@example.org"]
    mail = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert mail["Subject"] == queued["title"] == "HIGH: hate-share-high in workington — Workington"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Where: Workington" in text and f"Ref: {queued['idempotency_key']}" in text
    assert row(store, queued["id"])["status"] == "sent"
    assert send(store, cfg, T0 + H).sent == 0 and len(mailbox.received) == 1


def test_json_webhook_gets_title_message_and_reference(store, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    cfg = config([webhook_url(httpserver)])
    queued = queue_one(store, cfg)
    assert send(store, cfg, T0 + M).sent == 1
    [(request, _)] = httpserver.log
    posted = json.loads(request.get_data())
    assert posted["title"] == queued["title"]
    assert queued["idempotency_key"] in posted["message"] and "Workington" in posted["message"]
    assert row(store, queued["id"])["sent_at"] == T0 + M


def test_webhook_500_is_retried_later_with_backoff(store, httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    cfg = config([webhook_url(httpserver)])
    queued = queue_one(store, cfg)
    first = send(store, cfg, T0 + M)
    assert (first.sent, first.retrying) == (0, 1)
    failed = row(store, queued["id"])
    assert failed["status"] == "pending" and failed["attempts"] == 1 and failed["last_error"]
    assert T0 + M + 15 * S <= failed["next_attempt_at"] <= T0 + M + 30 * S
    assert send(store, cfg, T0 + M + 14 * S).sent == 0  # not due yet
    assert send(store, cfg, failed["next_attempt_at"]).sent == 1
    done = row(store, queued["id"])
    assert done["status"] == "sent" and done["attempts"] == 2 and done["last_error"] is None
    assert len(httpserver.log) == 2


def test_partial_failure_retries_only_the_urls_still_owed(store, httpserver):
    calls = []

    def flaky_handler(request):
        calls.append(request.path)
        return Response("down" if len(calls) == 1 else "ok", status=503 if len(calls) == 1 else 200)

    httpserver.expect_request("/ok").respond_with_data("ok")
    httpserver.expect_request("/flaky").respond_with_handler(flaky_handler)
    ok, flaky = webhook_url(httpserver, "/ok"), webhook_url(httpserver, "/flaky")
    cfg = config([ok, flaky])
    queued = queue_one(store, cfg)
    assert send(store, cfg, T0 + M).retrying == 1
    assert row(store, queued["id"])["payload"]["delivered"] == [url_tag(ok)]
    assert send(store, cfg, T0 + 2 * M).sent == 1
    paths = [request.path for request, _ in httpserver.log]
    assert sorted(paths) == ["/flaky", "/flaky", "/ok"]


# -- retries, backoff, dead letters ----------------------------------------------------------


def test_backoff_doubles_with_jitter_and_is_capped_at_an_hour():
    rng = random.Random(1)
    base, cap = dt.timedelta(seconds=30), dt.timedelta(hours=1)
    for attempts, ceiling in ((1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)):
        waits = [backoff(attempts, base=base, cap=cap, rng=rng).total_seconds() for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits) and len(set(waits)) > 1


def test_message_goes_dead_after_max_attempts_with_one_error_line(store, caplog):
    cfg = config([closed_url()], max_attempts=3)
    queued = queue_one(store, cfg)
    now = T0 + M
    with caplog.at_level(logging.WARNING, logger="tension.alerts"):
        for _ in range(3):
            send(store, cfg, now)
            now = max(now, row(store, queued["id"])["next_attempt_at"])
    dead = row(store, queued["id"])
    assert dead["status"] == "dead" and dead["attempts"] == 3 and "JSON" in dead["last_error"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].getMessage() == "notification dead"
    assert send(store, cfg, now + 2 * H).sent == 0 and row(store, queued["id"])["attempts"] == 3


def test_receiver_gone_from_config_is_a_retry_not_a_crash(store):
    queued = queue_one(store, config([closed_url()]))
    other = AlertingConfig.model_validate({"receivers": [{"name": "someone-else", "urls": [closed_url()]}],
                                           "route": {"receiver": "someone-else"}})
    report = send(store, other, T0 + M)
    assert report.retrying == 1
    assert row(store, queued["id"])["last_error"] == "receiver 'officers' has no URL configured"


def test_teams_and_slack_url_forms_are_accepted_and_failures_become_retries(store):
    power_automate = ("https://prod-00.uksouth.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke"
                      "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s1gnature")
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#cohesion"
    assert invalid_urls((power_automate, slack, "workflows://127.0.0.1:443/abc123/s1gnature")) == []
    assert invalid_urls(("msteams://legacy/connector/url", "teams:/nope")) == ["msteams://", "teams:/nope://"]
    cfg = config([f"workflows://127.0.0.1:{free_port()}/abc123/s1gnature"])
    queued = queue_one(store, cfg)
    assert send(store, cfg, T0 + M).retrying == 1
    failed = row(store, queued["id"])
    assert failed["status"] == "pending" and "Workflows" in failed["last_error"]
    assert "s1gnature" not in failed["last_error"]


# -- crash safety and concurrency ------------------------------------------------------------


def test_crash_between_dispatch_and_delivery_loses_nothing_and_sends_once(tmp_path, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    url = f"sqlite:///{tmp_path / 'tension.db'}"
    cfg = config([webhook_url(httpserver)])
    first = Store.open(url)
    queue_one(first, cfg)
    first.close()  # the process dies here: dispatch committed, delivery never ran

    second = Store.open(url)
    assert send(second, cfg, T0 + 5 * M).sent == 1
    assert send(second, cfg, T0 + 10 * M).sent == 0
    assert len(httpserver.log) == 1
    # A sender that claims a message and dies mid-send: nobody else takes it during the lease,
    # then it is sent once.
    queue_one(second, cfg, fp="b1", locality="maryport")
    [claimed] = claim_due(second, T0 + 6 * M, limit=10, lease=cfg.delivery.claim_lease)
    assert send(second, cfg, T0 + 7 * M).sent == 0
    assert send(second, cfg, T0 + 11 * M).sent == 1
    assert send(second, cfg, T0 + 20 * M).sent == 0
    assert len(httpserver.log) == 2 and row(second, claimed.id)["attempts"] == 2
    second.close()


@pytest.mark.postgres
def test_two_claimers_get_disjoint_rows_on_postgresql(store):
    if store.dialect != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers")
    cfg = config([closed_url()])
    for i in range(10):
        fire(store, f"a{i}", T0, locality=f"place-{i}")
    run(store, T0, cfg), run(store, T0 + 30 * S, cfg)
    now = T0 + M
    with store.engine.begin() as first:
        mine = claim(first, now, limit=4, lease=5 * M)  # rows stay locked until this commits
        theirs = claim_due(store, now, limit=10, lease=5 * M)
    assert len(mine) == 4 and len(theirs) == 6
    assert not {m.id for m in mine} & {m.id for m in theirs}
    assert claim_due(store, now, limit=10, lease=5 * M) == []


# -- the stages and the command, wired through settings -------------------------------------


def test_stages_read_receiver_urls_from_the_environment(config_path, monkeypatch, httpserver):
    httpserver.expect_request("/duty").respond_with_response(Response("ok"))
    (config_path.parent / "alerting.yaml").write_text(yaml.safe_dump({
        "receivers": [{"name": "duty", "urls_from_env": "TENSION_RECEIVER_DUTY"}],
        "route": {"receiver": "duty", "group_by": ["locality"], "group_wait": "0s"},
    }))
    monkeypatch.setenv("TENSION_RECEIVER_DUTY", webhook_url(httpserver, "/duty"))
    settings = load_settings(config_path)
    store = Store.open(settings.database_url)
    try:
        service = SimpleNamespace(settings=settings, store=store, rng=random.Random(3))
        now = dt.datetime.now(dt.timezone.utc) - M  # in the past, so the command finds it due
        fire(store, "a1", now)
        assert dispatch(service, now).queued == 1
        assert deliver(service, now).sent == 1
        fire(store, "a2", now, locality="maryport")
        dispatch(service, now + S)
    finally:
        store.close()
    result = runner.invoke(app, ["--config", str(config_path), "alerts", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1, will retry 0, dead 0; outbox: 0 pending, 0 dead" in result.output
    assert [request.path for request, _ in httpserver.log] == ["/duty", "/duty"]
    assert "Maryport" in json.loads(httpserver.log[1][0].get_data())["message"]


def test_deliver_command_warns_about_skipped_receivers(config_path):
    (config_path.parent / "alerting.yaml").write_text(
        "receivers: [{name: duty, urls_from_env: TENSION_RECEIVER_DUTY}]\nroute: {receiver: duty}\n")
    result = runner.invoke(app, ["--config", str(config_path), "alerts", "deliver"], env={"TENSION_RECEIVER_DUTY": ""})
    assert result.exit_code == 0
    assert "receiver 'duty' has no URL configured and is skipped (set TENSION_RECEIVER_DUTY)" in result.output
    assert "sent 0" in result.output


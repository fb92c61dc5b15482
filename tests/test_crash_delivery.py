"""kill -9 between the decision to notify and the send: after a restart, exactly one delivery.

Dispatch writes the outbox row in the same transaction as the group state that says the message
was sent; delivery runs later. A process killed in between must leave one pending row that the
next process sends once (and only once, however often delivery runs afterwards).

Real processes (``python -m monitor``), a real SQLite file, a real apprise ``json://`` POST to a
pytest-httpserver webhook on loopback. Waiting is bounded polling of the database only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from conftest import write_config
from monitor.store import Store
from monitor.store.schema import alerts, notification_groups, outbox
from test_dispatch import fire

REPO = Path(__file__).resolve().parents[1]

# keep_firing_for keeps the hand-inserted alert firing when a real alerts stage evaluates it
# (no posts: the condition is false, and without keep_firing_for the alert would resolve).
RULES = """\
rules:
  - {id: hate-share-high, kind: threshold, summary: hate, metric: hate_share, above: 0.2,
     localities: [workington], for: 30m, keep_firing_for: 1h}
"""

DISPATCH_THEN_KILL = """\
import os, signal, sys
from pathlib import Path
from monitor.pipeline import STAGES, run_stage
from monitor.scheduler import utcnow
from monitor.service import Service
from monitor.settings import load_settings

service = Service.open(load_settings(Path(sys.argv[1])))
stages = {stage.name: stage for stage in STAGES}
assert run_stage(service, stages["dispatch"], utcnow()), "dispatch failed"
sys.stdout.write("dispatched\\n"); sys.stdout.flush()
os.kill(os.getpid(), signal.SIGKILL)  # after the outbox commit, before the deliver stage
sys.stdout.write("still alive\\n")
"""


def alerting_yaml(*, group_wait: str = "0s", dispatch_every: str = "15s", deliver_every: str = "15s") -> str:
    return (
        f"dispatch_every: {dispatch_every}\n"
        f"delivery: {{every: {deliver_every}}}\n"
        "receivers:\n"
        "  - {name: duty-webhook, urls_from_env: TENSION_RECEIVER_CRASH_HOOK, body_format: text}\n"
        f"route: {{receiver: duty-webhook, group_by: [alertname, locality], group_wait: {group_wait}}}\n"
    )


def setup(tmp_path: Path, httpserver, **alerting) -> tuple[Path, Path, dict]:
    root = tmp_path / "config"
    config = write_config(root, sources="sources: []\n")  # no sources: nothing to score, no models
    (root / "rules.yaml").write_text(RULES)
    (root / "alerting.yaml").write_text(alerting_yaml(**alerting))
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    env["TENSION_RECEIVER_CRASH_HOOK"] = f"json://{httpserver.host}:{httpserver.port}/hook"
    db = root / "var" / "tension.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{db}")
    try:
        now = dt.datetime.now(dt.timezone.utc)
        fire(store, "crash-a1", now)
        with store.transaction() as conn:
            conn.execute(sa.update(alerts).where(alerts.c.fingerprint == "crash-a1").values(last_true_at=now))
    finally:
        store.close()
    return config, db, env


def outbox_rows(db: Path) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(outbox).order_by(outbox.c.id)).mappings()]
    finally:
        engine.dispose()


def tension(config: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)


def posts(httpserver) -> list[dict]:
    return [json.loads(request.get_data(as_text=True)) for request, _ in httpserver.log]


def assert_delivered_once_after_restart(config: Path, db: Path, env: dict, httpserver) -> None:
    [queued] = outbox_rows(db)
    ref = queued["idempotency_key"]
    for _ in range(2):  # a second delivery run must not send again
        result = tension(config, env, "alerts", "deliver")
        assert result.returncode == 0, result.stderr
    [body] = posts(httpserver)
    assert f"Ref: {ref}" in body["message"]
    assert body["title"] == queued["title"]
    [row] = outbox_rows(db)
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"] is not None


def test_kill_9_after_dispatch_before_deliver_then_exactly_one_delivery(tmp_path, httpserver):
    config, db, env = setup(tmp_path, httpserver)
    proc = subprocess.run([sys.executable, "-c", DISPATCH_THEN_KILL, str(config)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout == "dispatched\n"
    [row] = outbox_rows(db)
    assert row["status"] == "pending" and row["attempts"] == 0 and row["receiver"] == "duty-webhook"
    assert httpserver.log == []  # nothing was sent before the kill
    assert_delivered_once_after_restart(config, db, env, httpserver)


def test_kill_9_of_a_running_service_with_a_queued_message_then_exactly_one_delivery(tmp_path, httpserver):
    """The real scheduler (``tension run``) killed while a message waits in the outbox.

    Deterministic: delivery runs at start-up (outbox still empty, the group is waiting
    ``group_wait``) and then not for an hour; dispatch queues the message after group_wait, and
    the process is killed as soon as the row is committed. The restart is a second
    ``tension run`` with delivery every second, then ``tension alerts deliver`` as a re-run.
    """
    config, db, env = setup(tmp_path, httpserver, group_wait="4s", dispatch_every="1s", deliver_every="1h")
    command = [sys.executable, "-m", "monitor", "--config", str(config), "run"]
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        engine = sa.create_engine(f"sqlite:///{db}")
        deadline = time.monotonic() + 90  # liveness, not speed: start-up loads the models (~20 s on a slow host)
        queued = []
        while time.monotonic() < deadline and proc.poll() is None and not queued:
            with engine.connect() as conn:
                queued = conn.execute(sa.select(outbox.c.id)).all()
            time.sleep(0.05)
        assert queued, "the running service did not queue the message"
        assert proc.poll() is None, "the service exited on its own"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        with engine.connect() as conn:
            [group] = conn.execute(sa.select(notification_groups)).mappings().all()
        engine.dispose()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert group["last_sent_at"] is not None  # the group state says "sent" ...
    [row] = outbox_rows(db)
    assert row["status"] == "pending" and row["attempts"] == 0  # ... and the message is queued
    assert httpserver.log == []

    # Restart the service with delivery due every second; it must send the message once.
    (config.parent / "alerting.yaml").write_text(alerting_yaml(group_wait="4s", dispatch_every="1s",
                                                               deliver_every="1s"))
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and outbox_rows(db)[0]["status"] != "sent":
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=90)
    assert proc.returncode == 0
    assert_delivered_once_after_restart(config, db, env, httpserver)

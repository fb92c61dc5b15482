"""The demo week end to end: `tension run --once` on the bundled config, real models, real
SMTP (aiosmtpd) and a real webhook receiver on loopback.

The replay stores the fictional week in one go (speed 0, shifted to end now), so the alert stage
is a week behind and catches up hour by hour (alerts.catch_up): the Thursday-night surge fires the
anomaly rules, the housing rumour fires narrative_spread, and the calls to gather at the Riverside
Hotel fire the mobilisation rule. Every notification then goes out through apprise.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
import yaml

from monitor.store.schema import posts

from test_delivery import smtp  # noqa: F401 - the aiosmtpd fixture

REPO = Path(__file__).resolve().parent.parent


def tension(config: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)


def demo_config(tmp_path: Path) -> Path:
    """The bundled config with the live news feed left out (no internet on test machines)."""
    root = tmp_path / "config"
    shutil.copytree(REPO / "config", root)
    sources = yaml.safe_load((root / "sources.yaml").read_text())
    sources["sources"] = [s for s in sources["sources"] if s["kind"] == "replay"]
    (root / "sources.yaml").write_text(yaml.safe_dump(sources))
    return root / "tension.yaml"


def test_demo_week_fires_three_kinds_and_reaches_email_and_webhook(tmp_path, smtp, httpserver):  # noqa: F811
    port, mailbox = smtp
    httpserver.expect_request("/duty", method="POST").respond_with_data("ok")
    httpserver.expect_request("/teams", method="POST").respond_with_data("ok")
    config = demo_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    env |= {
        "TENSION_DATA_DIR": str(tmp_path / "var"),
        "TENSION_RECEIVER_COHESION_OFFICERS":
            f"mailto://127.0.0.1:{port}?from=tension@example.com&to=cohesion@example.org",
        "TENSION_RECEIVER_DUTY_WEBHOOK": f"json://{httpserver.host}:{httpserver.port}/duty",
        "TENSION_RECEIVER_PARTNERSHIP_TEAMS": f"json://{httpserver.host}:{httpserver.port}/teams",
    }
    run = tension(config, env, "run", "--once")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "alerts caught up" in run.stderr and "Traceback" not in run.stderr

    listed = tension(config, env, "alerts", "list", "--state", "all", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    alerts = json.loads(listed.stdout)
    fired = {a["kind"] for a in alerts if a["fired_at"]}
    assert {"anomaly", "narrative_spread", "mobilisation"} <= fired
    riverside = [a for a in alerts if a["labels"].get("site") == "riverside-hotel-workington"]
    assert riverside and riverside[0]["kind"] == "mobilisation" and riverside[0]["fired_at"]

    for _ in range(10):  # the run sends one batch; drain the rest as the delivery worker would
        sent = tension(config, env, "alerts", "deliver")
        assert sent.returncode == 0, sent.stdout + sent.stderr
        if "outbox: 0 pending" in sent.stdout:
            break
    mails = [email.message_from_bytes(e.original_content, policy=email.policy.default)
             for e in mailbox.received]
    subjects = [m["Subject"] for m in mails]
    assert any("Far more posts about the place than usual" in s for s in subjects)  # anomaly
    assert any("false narrative is spreading" in s for s in subjects)
    assert any("call to gather" in s and "Workington" in s for s in subjects)
    hooks = [json.loads(request.get_data()) for request, _ in httpserver.log]
    duty = [h for h, (request, _) in zip(hooks, httpserver.log) if request.path == "/duty"]
    assert any("Riverside Hotel" in h["message"] for h in duty)  # high severity to the duty system

    # no handle or pseudonym from the input reaches any message
    authors = {json.loads(line).get("author") for line in
               (REPO / "config" / "demo" / "scenario.jsonl").read_text().splitlines() if line.strip()}
    authors.discard(None)
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in mails]
    bodies += [h["title"] + h["message"] for h in hooks]
    assert authors and not any(a in body for a in authors for body in bodies)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'var' / 'tension.db'}")
    with engine.connect() as conn:
        pseudonyms = set(conn.scalars(sa.select(posts.c.author_pseudonym).distinct())) - {None}
    engine.dispose()
    assert pseudonyms and not any(p in body for p in pseudonyms for body in bodies)

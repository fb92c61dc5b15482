"""The `tension` command as a user runs it: one-line errors, help, and crash-safe ingest."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import sample_records, write_config
from monitor import cli
from monitor.cli import app

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()
cli.out.width = cli.err.width = 240  # wide enough that tables are not ellipsised


def tension(*args, env=None):
    return runner.invoke(app, list(args), env=env)


def test_help_lists_every_command():
    result = tension("--help")
    assert result.exit_code == 0
    for command in ("run", "collect", "config", "sources", "db"):
        assert command in result.output


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    commands = []
    for group in app.registered_groups:
        for command in group.typer_instance.registered_commands:
            commands.append(f"tension {group.name} {command.name or command.callback.__name__}")
    for command in app.registered_commands:
        commands.append(f"tension {command.name or command.callback.__name__.replace('_', '-')}")
    missing = [c for c in commands if c not in readme]
    assert not missing, f"undocumented in README.md: {missing}"


def test_config_check_ok_and_failed(config_path):
    ok = tension("--config", str(config_path), "config", "check")
    assert ok.exit_code == 0 and "OK" in ok.output and "2 localities" in ok.output
    (config_path.parent / "rules.yaml").write_text("rules: [{id: r, kind: nope, summary: s}]\n")
    failed = tension("--config", str(config_path), "config", "check")
    assert failed.exit_code == 1
    assert "FAILED" in failed.output and "rules.yaml: rules[0]" in failed.output
    assert "Traceback" not in failed.output


def test_run_refuses_invalid_config_with_one_line(config_path):
    (config_path.parent / "sources.yaml").write_text("sources: [{id: a, kind: rss, url: 3}]\n")
    result = tension("--config", str(config_path), "run", "--once")
    assert result.exit_code == 2
    assert "error:" in result.output and "sources[0].rss.url" in result.output
    assert "Traceback" not in result.output


def test_missing_main_config_is_one_line(tmp_path):
    result = tension("--config", str(tmp_path / "nope.yaml"), "run")
    assert result.exit_code == 2
    assert "nope.yaml: file not found" in result.output


def test_run_once_collect_and_sources_list(config_path):
    result = tension("--config", str(config_path), "run", "--once")
    assert result.exit_code == 0, result.output
    assert "5 posts in store" in result.output
    listed = tension("--config", str(config_path), "sources", "list")
    assert listed.exit_code == 0
    assert "replay-test" in listed.output and "ok" in listed.output
    collected = tension("--config", str(config_path), "collect", "--source", "replay-test")
    assert collected.exit_code == 0 and "replay-test" in collected.output
    unknown = tension("--config", str(config_path), "collect", "--source", "nope")
    assert unknown.exit_code == 2 and "unknown or disabled source 'nope'" in unknown.output


def test_unreachable_feed_is_reported_not_raised(tmp_path):
    config = write_config(
        tmp_path / "config",
        sources="sources:\n  - {id: dead, kind: rss, url: 'http://127.0.0.1:9/feed.xml'}\n",
        main_extra="",
    )
    result = tension("--config", str(config), "collect")
    assert result.exit_code == 1
    assert "dead" in result.output and "Traceback" not in result.output
    listed = tension("--config", str(config), "sources", "list")
    assert "failing" in listed.output


def test_db_upgrade_reports_revision(config_path):
    result = tension("--config", str(config_path), "db", "upgrade")
    assert result.exit_code == 0 and re.search(r"revision \w+ \(newest \w+\)", result.output)


def test_kill_9_during_ingest_then_rerun_keeps_every_post_once(tmp_path):
    root = tmp_path / "config"
    config = write_config(root)
    total = 60_000
    with (root / "posts.jsonl").open("w") as handle:
        for record in sample_records(total, prefix="k"):
            handle.write(json.dumps(record) + "\n")
    (root / "sources.yaml").write_text(
        "sources:\n  - {id: replay-test, kind: replay, path: posts.jsonl, batch_size: 500}\n"
    )
    db = root / "var" / "tension.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    command = [sys.executable, "-m", "monitor", "--config", str(config), "collect"]
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    engine = sa.create_engine(f"sqlite:///{db}")
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with engine.connect() as conn:
                stored = conn.exec_driver_sql("SELECT count(*) FROM posts").scalar()
        except sa.exc.OperationalError:
            stored = 0
        if stored >= 5_000:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with engine.connect() as conn:
        partial = conn.exec_driver_sql("SELECT count(*) FROM posts").scalar()
    assert 0 < partial < total
    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    with engine.connect() as conn:
        count, distinct = conn.exec_driver_sql(
            "SELECT count(*), count(DISTINCT external_id) FROM posts"
        ).one()
    engine.dispose()
    assert count == distinct == total

"""`tension run` as a long-running process: jobs run, and SIGTERM/SIGINT stop it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import sample_records, write_config

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_ingests_then_stops_cleanly_on_signal(tmp_path, sig):
    root = tmp_path / "config"
    config = write_config(root)
    with (root / "posts.jsonl").open("w") as handle:
        for record in sample_records(300):
            handle.write(json.dumps(record) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    engine = sa.create_engine(f"sqlite:///{root / 'var' / 'tension.db'}")
    count = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and count < 300:
            time.sleep(0.2)
            try:
                with engine.connect() as conn:
                    count = conn.exec_driver_sql("SELECT count(*) FROM posts").scalar()
            except sa.exc.OperationalError:
                pass
        assert count == 300
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
    assert proc.returncode == 0, stderr
    assert "event=collected source=replay-test kind=replay new=300" in stderr
    assert "event=stopping" in stderr and f"signal={sig.name}" in stderr
    assert "event=\"scheduler stopped\"" in stderr
    assert "Traceback" not in stderr

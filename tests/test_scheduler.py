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
    deadline = time.monotonic() + 120  # liveness, not speed: a slow 2-core host loads the models in ~20 s
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
        stdout, stderr = proc.communicate(timeout=120)  # a scoring batch in progress finishes first
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
    assert proc.returncode == 0, stderr
    assert "event=collected source=replay-test kind=replay new=300" in stderr
    assert "event=stopping" in stderr and f"signal={sig.name}" in stderr
    assert "event=\"scheduler stopped\"" in stderr
    assert "Traceback" not in stderr


def test_a_hanging_source_never_delays_the_others(tmp_path):
    """Five feeds on a server that answers only after 10 s, and a replay: the replay's posts
    are stored while every feed poll is still waiting, with max_workers set to 2."""
    import http.server
    import threading

    class Stall(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            time.sleep(10)
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stall)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    feeds = "".join(f"  - {{id: stalled-{i}, kind: rss, url: 'http://127.0.0.1:{port}/feed{i}'}}\n"
                    for i in range(5))
    root = tmp_path / "config"
    config = write_config(root, sources="sources:\n" + feeds +
                          "  - {id: replay-test, kind: replay, path: posts.jsonl, every: 1m}\n",
                          main_extra="scheduler: {max_workers: 2}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "run"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = sa.create_engine(f"sqlite:///{root / 'var' / 'tension.db'}")
    stored_after = None
    try:
        while time.monotonic() - started < 9 and stored_after is None:
            time.sleep(0.2)
            try:
                with engine.connect() as conn:
                    if conn.execute(sa.text("SELECT count(*) FROM posts")).scalar() == 5:
                        stored_after = time.monotonic() - started
            except sa.exc.OperationalError:
                pass  # the database is not created yet
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        engine.dispose()
        server.shutdown()
    assert stored_after is not None, "the replay's posts waited for the stalled feeds"

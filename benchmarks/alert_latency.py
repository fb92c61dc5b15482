"""Alert latency: from a call to gather being ingested to its notification reaching a webhook.

    python -m benchmarks.alert_latency [--runs 20] [--spacing 17] [--every 15s] [--timeout 300]

The real service (``python -m monitor run``, the APScheduler loop) runs in a subprocess with the
repository's own config files (localities, narratives, rules, ``alerting.yaml``) and the DEFAULT
stage intervals: nothing about scoring, aggregation, alert evaluation, dispatch or delivery is
changed. The only source is a replay file in a temporary directory, polled ``--every`` (default
15s, what a deployment would set for a near-real-time source) with 5s jitter; the benchmark
appends posts to it. The ``duty-webhook`` receiver (``TENSION_RECEIVER_DUTY_WEBHOOK``) points at
an HTTP server on 127.0.0.1 in this process; the other receivers have no URL and are skipped.

Each run appends one post calling people to gather in a different locality (the first names
the Riverside Hotel in Workington, a sensitive site), so each makes a new alert group and the
route's default ``group_wait`` applies. Runs are started ``--spacing`` seconds apart (17s by
default: not a divisor of any stage interval, so the posts land at different phases of the
stage timers) and overlap; they are independent because each is its own alert and group.

Ingest time: when the post's row appears in the database (polled every 0.1s). Notification
time: when the webhook handler receives the POST naming that locality. The collect interval is
therefore NOT in the figure (add up to ``every`` + jitter for time from publication).

Before the runs one harmless warm-up post is ingested and scored so the one-off model load
(a few seconds) is not counted in the first run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config"
TARGET = 60.0

# (locality name, text). The first names the sensitive site; the rest name a monitored place.
CALLS = [("Workington", "Everyone outside the Riverside Hotel in Workington Saturday 2pm, bring your mates "
                        "and mask up")]
TEMPLATE = "Everyone outside the town hall in {name} Saturday 2pm, bring your mates and mask up"


class Hook:
    def __init__(self):
        self.received: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                at = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"raw": body.decode(errors="replace")}
                with hook.lock:
                    hook.received.append((at, payload))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def first_naming(self, name: str) -> float | None:
        with self.lock:
            for at, payload in self.received:
                if name in payload.get("title", ""):
                    return at
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def record(post_id: str, text: str) -> str:
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return json.dumps({"id": post_id, "published_at": now, "platform": "facebook",
                       "author": "@benchmark_user", "text": text, "lang": "en", "fictional": True})


def localities() -> list[tuple[str, str]]:
    data = yaml.safe_load((CONFIG / "localities" / "cumberland.yaml").read_text())
    return [(p["id"], p["name"]) for p in data["localities"]]


def intervals(config: Path) -> dict[str, str]:
    from alerts.routing import resolve
    from monitor.pipeline import STAGES
    from monitor.settings import load_settings

    settings = load_settings(config)
    fake = SimpleNamespace(settings=settings)  # the STAGES lambdas only read settings
    out = {f"stage {s.name}": str(s.every(fake)) for s in STAGES if s.name != "collect"}
    source = settings.sources.sources[0]
    out["source poll (replay, set here)"] = f"{source.every} + jitter up to {source.jitter}"
    tree = resolve(settings.alerting.route)
    for route in tree.walk():
        out[f"route {route.id} ({route.receiver}) group_wait"] = str(route.group_wait)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=17.0, help="seconds between appended posts")
    parser.add_argument("--every", default="15s", help="replay source poll interval")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up on a run after this")
    args = parser.parse_args(argv)

    places = localities()
    others = [(lid, name) for lid, name in places if lid != "workington"]
    calls = (CALLS + [(name, TEMPLATE.format(name=name)) for _, name in others])[:args.runs]
    if len(calls) < args.runs:
        print(f"only {len(calls)} distinct localities: running {len(calls)}")

    hook = Hook()
    tmp = Path(tempfile.mkdtemp(prefix="tension-latency-"))
    replay = tmp / "live.jsonl"
    replay.write_text(record("warmup-0", "Lovely sunny morning on the promenade, coffee was great") + "\n")
    (tmp / "sources.yaml").write_text(
        "sources:\n"
        f"  - {{id: live, kind: replay, path: {replay}, every: {args.every}, jitter: 5s, platform: facebook}}\n")
    main_file = tmp / "tension.yaml"
    main_file.write_text(yaml.safe_dump({
        "data_dir": str(tmp / "var"),
        "files": {"localities": str(CONFIG / "localities" / "cumberland.yaml"),
                  "sources": str(tmp / "sources.yaml"),
                  "narratives": str(CONFIG / "narratives.yaml"),
                  "rules": str(CONFIG / "rules.yaml"),
                  "alerting": str(CONFIG / "alerting.yaml")},
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENSION_")}
    env["TENSION_RECEIVER_DUTY_WEBHOOK"] = f"json://127.0.0.1:{hook.port}/hook"
    env["TENSION_LOG_LEVEL"] = "WARNING"

    print("schedule (defaults from config; only the replay source is set by this benchmark):")
    for key, value in intervals(main_file).items():
        print(f"  {key}: {value}")

    db = tmp / "var" / "tension.db"
    log = (tmp / "service.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(main_file), "run"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    engine = None
    try:
        deadline = time.monotonic() + 600
        while not db.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        engine = sa.create_engine(f"sqlite:///{db}")

        def scalar(sql: str, **params):
            try:
                with engine.connect() as conn:
                    return conn.execute(sa.text(sql), params).scalar()
            except sa.exc.OperationalError:
                return None

        t0 = time.monotonic()
        while not scalar("SELECT count(*) FROM post_scores") and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"service exited ({proc.returncode}); see {tmp / 'service.log'}")
            time.sleep(0.2)
        print(f"warm-up post ingested and scored {time.monotonic() - t0:.0f}s after start (incl. model load)")

        ingested: dict[str, float] = {}
        notified: dict[str, float] = {}
        appended: dict[str, float] = {}
        ids = {name: f"call-{i}-{int(time.time())}" for i, (name, _) in enumerate(calls)}
        next_at = time.monotonic()
        pending = list(calls)
        while True:
            now_mono = time.monotonic()
            if pending and now_mono >= next_at:
                name, text = pending.pop(0)
                with replay.open("a") as handle:
                    handle.write(record(ids[name], text) + "\n")
                appended[name] = time.time()
                next_at = now_mono + args.spacing
            for name in appended:
                if name not in ingested and scalar("SELECT 1 FROM posts WHERE external_id = :x",
                                                   x=ids[name]):
                    ingested[name] = time.time()
                if name not in notified:
                    at = hook.first_naming(name)
                    if at is not None:
                        notified[name] = at
            open_runs = [n for n in appended if n not in notified
                         and time.time() - appended[n] < args.timeout]
            if not pending and not open_runs:
                break
            if proc.poll() is not None:
                raise SystemExit(f"service exited ({proc.returncode}); see {tmp / 'service.log'}")
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        hook.close()
        if engine is not None:
            engine.dispose()

    print(f"\n{'locality':<18} {'ingest→notify':>14} {'append→ingest':>14}")
    latencies = []
    for name, _ in calls:
        ing, note = ingested.get(name), notified.get(name)
        lat = note - ing if ing and note else None
        if lat is not None:
            latencies.append(lat)
        a2i = f"{ing - appended[name]:.1f}s" if ing else "never"
        print(f"{name:<18} {(f'{lat:.1f}s' if lat is not None else 'NO ALERT'):>14} {a2i:>14}")
    missed = len(calls) - len(latencies)
    if latencies:
        print(f"\nruns {len(calls)}, notified {len(latencies)}, missed {missed} (timeout {args.timeout:.0f}s)")
        print(f"ingest→notification: min {min(latencies):.1f}s  median {statistics.median(latencies):.1f}s  "
              f"p90 {pct(latencies, 0.9):.1f}s  max {max(latencies):.1f}s")
        ok = missed == 0 and max(latencies) <= TARGET
        print(f"all <= {TARGET:.0f}s: {'yes' if ok else 'NO'}  "
              f"({sum(v <= TARGET for v in latencies)} of {len(calls)} within)")
    else:
        print("no notification arrived")
    print(f"service log: {tmp / 'service.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

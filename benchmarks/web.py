"""The dashboard over a store of 1,000,000 posts: GET / and GET /localities/workington.

    python -m benchmarks.web [--posts 1000000] [--days 180] [--requests 200] [--db PATH] [--keep]

The store is filled as ``benchmarks.aggregate`` does (synthetic posts, scores, places and
narrative matches bulk-inserted into SQLite, then a full aggregation); the last week's posts
get text so the locality page's flagged posts are real rows, and a few alerts fire. The app
then runs in a real uvicorn server on loopback, and an analyst (the heaviest view: flagged
posts with feedback forms, and an audit row written per view) is logged in through httpx.
Each page is requested ``--requests`` times after a warm-up; prints p50, p95 and max in ms
(the target is p95 <= 200 ms).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.aggregate import _stamp, generate  # noqa: E402
from monitor.aggregate import aggregate  # noqa: E402
from monitor.settings import load_settings  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.schema import alerts  # noqa: E402
from monitor.web import create_app  # noqa: E402
from monitor.web.auth import add_user  # noqa: E402
from monitor.web.server import DashboardServer  # noqa: E402

UTC = dt.timezone.utc
PAGES = ("/", "/localities/workington")
PASSWORD = secrets.token_urlsafe(16)  # generated per run
WARM_UP = 5


def fill(path: Path, store: Store, settings, posts: int, days: int, now: dt.datetime) -> None:
    localities = [loc.id for loc in settings.localities.localities]
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1) - dt.timedelta(days=days)
    end = start + dt.timedelta(days=days)
    generate(path, 1, posts, start, days, end, localities, random.Random(47))
    db = sqlite3.connect(path)
    db.execute("UPDATE posts SET text = 'Synthetic post ' || id || ' about @someone in Workington "
               "https://example.org/' || id WHERE published_at >= ?", (_stamp(now - dt.timedelta(days=8)),))
    db.commit()
    db.close()
    aggregate(SimpleNamespace(store=store, settings=settings), end + dt.timedelta(minutes=30), full=True)
    with store.transaction() as conn:
        conn.execute(sa.insert(alerts), [{
            "fingerprint": f"{i:064x}", "rule_id": "bench", "state": "firing", "value": 1.0,
            "labels": {"alertname": "bench", "locality": localities[i], "severity": "high"},
            "annotations": {"summary": f"Synthetic alert {i}"}, "active_since": now - dt.timedelta(hours=i + 1),
            "fired_at": now - dt.timedelta(hours=i), "evaluated_at": now} for i in range(8)])


def timed(client: httpx.Client, page: str, count: int) -> list[float]:
    for _ in range(WARM_UP):
        client.get(page).raise_for_status()
    took = []
    for _ in range(count):
        began = time.perf_counter()
        response = client.get(page)
        took.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return took


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db", type=Path, help="SQLite file (default: a temporary one); reused if it exists")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="tension-bench-web-"))
    settings = load_settings(ROOT / "config" / "tension.yaml")
    settings = dataclasses.replace(settings, environment=settings.environment.model_copy(
        update={"data_dir": folder}))  # the session key and reports key go there, not into ./var
    path = args.db or folder / "bench.db"
    fresh = not path.exists()
    store = Store.open(f"sqlite:///{path}")
    now = dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    if fresh:
        began = time.perf_counter()
        fill(path, store, settings, args.posts, args.days, now)
        add_user(store, "analyst", PASSWORD, "analyst", by="benchmark", now=now)
        print(f"filled the store with {args.posts:,} posts and their aggregates in "
              f"{time.perf_counter() - began:.1f} s")

    server = DashboardServer(create_app(settings, store=store, clock=lambda: now), "127.0.0.1", 0)
    url = server.start()
    try:
        with httpx.Client(base_url=url, headers={"Accept": "text/html"}, timeout=30) as client:
            login = client.post("/login", data={"username": "analyst", "password": PASSWORD})
            if login.status_code != 303:
                raise SystemExit(f"login failed: HTTP {login.status_code}")
            for page in PAGES:
                took = sorted(timed(client, page, args.requests))
                p95 = took[max(0, round(0.95 * len(took)) - 1)]
                print(f"GET {page:<24} {len(took)} requests: p50 {statistics.median(took):6.1f} ms, "
                      f"p95 {p95:6.1f} ms, max {took[-1]:6.1f} ms")
    finally:
        server.stop()
        store.close()
    if not args.keep and args.db is None:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()

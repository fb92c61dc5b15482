"""The weekly briefing over a store of 1,000,000 posts: gather, draft, render HTML and PDF, archive.

    python -m benchmarks.briefing [--posts 1000000] [--days 180] [--db PATH] [--keep]

The store is filled as ``benchmarks.aggregate`` does (synthetic posts, scores, places and
narrative matches bulk-inserted into SQLite, then a full aggregation), plus what the briefing
also reads: community report categories, call-to-gather scores and wording, alerts with their
history, emerging clusters, amplification bursts and source state. Prints seconds for filling
the store and for one week's briefing (the target is 30 s or less).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.aggregate import _stamp, generate  # noqa: E402
from monitor.aggregate import aggregate  # noqa: E402
from monitor.briefing.job import generate as generate_briefing  # noqa: E402
from monitor.briefing.period import last_complete_week  # noqa: E402
from monitor.settings import load_settings  # noqa: E402
from monitor.store import Store  # noqa: E402

UTC = dt.timezone.utc
CATEGORIES = ("hate_incident", "rumour", "tension", "asb")
CALLS = ("Saturday 2pm outside the town hall, bring everyone", "meet at the park 1pm Sat",
         "Tomorrow 6pm at the war memorial, be there")


def extras(path: Path, end: dt.datetime, localities: list[str], rng: random.Random) -> None:
    """What the aggregate benchmark does not write but the briefing reads."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    for category in CATEGORIES:
        db.execute("UPDATE posts SET meta = ? WHERE platform = 'report' AND id % 4 = ?",
                   (json.dumps({"category": category}), CATEGORIES.index(category)))
    db.execute("UPDATE post_scores SET mobilisation = tension WHERE labels LIKE '%mobilisation%'")
    db.execute("UPDATE posts SET text = ? || ' #' || id WHERE id IN (SELECT post_id FROM post_scores"
               " WHERE mobilisation >= 0.8)", (rng.choice(CALLS),))
    fired = []
    for i in range(60):
        at = end - dt.timedelta(hours=rng.randrange(24 * 14))
        fp = f"{i:064x}"
        labels = {"alertname": "call-to-gather", "locality": rng.choice(localities), "severity": "high",
                  "category": "mobilisation"}
        db.execute("INSERT INTO alerts (fingerprint, rule_id, labels, annotations, state, value, fired_at,"
                   " resolved_at, evaluated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                   (fp, "call-to-gather", json.dumps(labels), json.dumps({"summary": "A call to gather"}),
                    "resolved", 1.0, _stamp(at), _stamp(at + dt.timedelta(hours=3)), _stamp(end)))
        fired += [(fp, _stamp(at), None, "firing", "{}"), (fp, _stamp(at + dt.timedelta(hours=3)), "firing",
                                                          "resolved", "{}")]
    db.executemany("INSERT INTO alert_events (fingerprint, at, from_state, to_state, detail) VALUES (?,?,?,?,?)",
                   fired)
    for i in range(20):
        first = end - dt.timedelta(days=rng.randrange(10))
        db.execute("INSERT INTO narrative_clusters (id, status, first_seen, last_seen, centroid, terms, excerpts)"
                   " VALUES (?,?,?,?,?,?,?)", (f"c{i}", "candidate", _stamp(first), _stamp(end), b"\0" * 16,
                                                json.dumps(["warehouse", "fire", f"term{i}"]),
                                                json.dumps(["they are hiding what caused the fire"])))
        for day in range(7):
            db.execute("INSERT INTO cluster_windows (cluster_id, start, window, size, authors, flagged,"
                       " reportable, localities, platforms, computed_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (f"c{i}", _stamp(end - dt.timedelta(days=day + 1)), "day", rng.randrange(5, 50),
                        rng.randrange(3, 30), 0.6, 1, json.dumps({rng.choice(localities): 3}),
                        json.dumps({"x": 3}), _stamp(end)))
        db.execute("INSERT INTO amplification_bursts (signature, started_at, ended_at, posts, authors,"
                   " new_authors, excerpt, localities, platforms, detected_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                   (f"s{i}", _stamp(end - dt.timedelta(days=i % 9, hours=2)), _stamp(end - dt.timedelta(days=i % 9)),
                    40, 35, 20, "SHARE THIS. The council are giving the new flats away",
                    json.dumps({rng.choice(localities): 12}), json.dumps({"facebook": 40}), _stamp(end)))
    db.execute("INSERT INTO fetch_state (source_id, consecutive_failures, status, updated_at, last_success_at)"
               " VALUES ('bench', 0, 'ok', ?, ?)", (_stamp(end), _stamp(end)))
    db.commit()
    db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--db", type=Path, help="SQLite file (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    settings = load_settings(ROOT / "config" / "tension.yaml")
    localities = [loc.id for loc in settings.localities.localities]
    folder = Path(tempfile.mkdtemp(prefix="tension-bench-"))
    path = args.db or folder / "bench.db"
    store = Store.open(f"sqlite:///{path}")
    rng = random.Random(47)
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    end = start + dt.timedelta(days=args.days)

    began = time.perf_counter()
    generate(path, 1, args.posts, start, args.days, end, localities, rng)
    extras(path, end, localities, rng)
    aggregate(SimpleNamespace(store=store, settings=settings), end + dt.timedelta(minutes=30), full=True)
    print(f"filled the store with {args.posts:,} posts and their aggregates in {time.perf_counter() - began:.1f} s")

    period = last_complete_week(end)
    began = time.perf_counter()
    briefing = generate_briefing(store, settings, period, end + dt.timedelta(hours=1))
    seconds = time.perf_counter() - began
    print(f"briefing {period.label} (html, markdown, pdf of {len(briefing.rendered.pdf):,} bytes, archived): "
          f"{seconds:.1f} s")
    store.close()
    if not args.keep and args.db is None:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()

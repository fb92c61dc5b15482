"""Aggregation at scale: a full recompute over 1,000,000 posts and an incremental run of 1,000.

    python -m benchmarks.aggregate [--posts 1000000] [--days 180] [--db PATH] [--keep]

Synthetic posts, scores, locality and narrative matches are bulk-inserted straight into a fresh
SQLite database (no models involved), spread over ``--days`` days and the Cumberland localities
in ``config/``: about 75% of posts resolved to a locality, 6% labelled hate, 3% matching a
narrative. Prints seconds for generation, the full recompute (locality and narrative windows
and tension levels) and an incremental run after 1,000 newly scored posts on the last day.
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

from monitor.aggregate import aggregate  # noqa: E402
from monitor.settings import load_settings  # noqa: E402
from monitor.store import Store  # noqa: E402

UTC = dt.timezone.utc
LABELS = (["hate", "offensive"], ["offensive"], ["conspiracy"], ["mobilisation"])
PLATFORMS = ("x", "facebook", "reddit", "bluesky", "report")


def _stamp(at: dt.datetime) -> str:
    """The text form SQLAlchemy stores for a UTC datetime in SQLite."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, first_id: int, count: int, start: dt.datetime, days: float,
             scored_at: dt.datetime, localities: list[str], rng: random.Random) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    posts, scores, places, stories = [], [], [], []
    span = days * 86400
    for post_id in range(first_id, first_id + count):
        published = _stamp(start + dt.timedelta(seconds=rng.random() * span))
        author = f"{rng.randrange(200_000):064x}"
        posts.append((post_id, "bench", str(post_id), rng.choice(PLATFORMS), author,
                      f"h{post_id}", published, published, "{}"))
        roll = rng.random()
        labels = rng.choice(LABELS) if roll < 0.12 else []
        if roll < 0.06:
            labels = ["hate", "offensive"]
        status = "scored" if rng.random() > 0.04 else "not_scored_language"
        tension = rng.random() if status == "scored" else None
        scores.append((post_id, status, "en", "bench", _stamp(scored_at), tension, tension,
                       json.dumps(labels if status == "scored" else []), "[]", "{}"))
        if rng.random() < 0.75:
            site = "site-x" if rng.random() < 0.01 else None
            places.append((post_id, rng.choice(localities), 0.5 + rng.random() / 2, site))
        if rng.random() < 0.03:
            stories.append((post_id, rng.choice(("n-false", "n-misleading", "n-true")), 0.8, "confirmed"))
    db.executemany(
        "INSERT INTO posts (id, source_id, external_id, platform, author_pseudonym, content_hash,"
        " published_at, collected_at, meta) VALUES (?,?,?,?,?,?,?,?,?)", posts)
    db.executemany(
        "INSERT INTO post_scores (post_id, status, language, model_version, scored_at, negativity,"
        " tension, labels, target_groups, explanation) VALUES (?,?,?,?,?,?,?,?,?,?)", scores)
    db.executemany("INSERT INTO post_localities VALUES (?,?,?,?)", places)
    db.executemany("INSERT INTO post_narratives VALUES (?,?,?,?)", stories)
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
    folder = tempfile.mkdtemp(prefix="tension-bench-")
    path = args.db or Path(folder) / "bench.db"
    store = Store.open(f"sqlite:///{path}")
    service = SimpleNamespace(store=store, settings=settings)
    rng = random.Random(47)
    start = dt.datetime(2026, 6, 1, tzinfo=UTC)
    end = start + dt.timedelta(days=args.days)

    began = time.perf_counter()
    generate(path, 1, args.posts, start, args.days, end, localities, rng)
    print(f"generated {args.posts:,} posts in {time.perf_counter() - began:.1f} s")

    began = time.perf_counter()
    rows = aggregate(service, end + dt.timedelta(minutes=30), full=True)
    print(f"full recompute: {rows:,} window rows in {time.perf_counter() - began:.1f} s")

    generate(path, args.posts + 1, 1000, end - dt.timedelta(hours=20), 20 / 24,
             end + dt.timedelta(hours=1), localities, rng)
    began = time.perf_counter()
    rows = aggregate(service, end + dt.timedelta(hours=1, minutes=5))
    print(f"incremental after 1,000 new posts: {rows:,} window rows in "
          f"{time.perf_counter() - began:.2f} s")
    store.close()
    if not args.keep and args.db is None:
        for file in Path(folder).iterdir():
            file.unlink()
        Path(folder).rmdir()


if __name__ == "__main__":
    main()

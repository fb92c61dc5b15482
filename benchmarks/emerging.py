"""Emerging narratives and amplification at scale: one day of 100,000 posts.

    python -m benchmarks.emerging [--posts 100000] [--candidates 1.0] [--db PATH]

The posts are the demo week's 3,208 texts, each repeated with a small variation (a number and a
place name appended) and its embedding with a little noise (so near-copies sit near each other
as real ones do), spread over one UTC day and stored with scores and float16 embeddings the way
the scoring stage stores them. ``--candidates`` is the share that scored as flagged or tense
(1.0, the worst case: every post is clustered). The embeddings of the 3,208 texts are computed
once with the real encoder (not timed). Prints seconds for clustering the day (``run_window``:
load, HDBSCAN, merge, c-TF-IDF, tracking, saving) and for amplification over the same day.
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.amplification import AmplificationSettings, detect  # noqa: E402
from monitor.emerging import place_words, run_window  # noqa: E402
from monitor.settings import load_settings  # noqa: E402
from monitor.store import Store  # noqa: E402

UTC = dt.timezone.utc
DAY = dt.datetime(2026, 11, 19, tzinfo=UTC)


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: Path, count: int, candidates: float, settings, rng: random.Random) -> None:
    from classifiers.encoder import Encoder

    records = [json.loads(line) for line in (ROOT / "config" / "demo" / "scenario.jsonl").read_text().splitlines()]
    texts = [r["text"] for r in records]
    began = time.perf_counter()
    base = Encoder(threads=2).encode(texts)
    print(f"encoded the {len(texts):,} demo texts once in {time.perf_counter() - began:.1f} s (not timed below)")
    places = [loc.name for loc in settings.localities.localities]
    ids = [loc.id for loc in settings.localities.localities]
    noise = np.random.default_rng(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    posts, scores, vectors, where = [], [], [], []
    for post_id in range(1, count + 1):
        k = rng.randrange(len(texts))
        at = _stamp(DAY + dt.timedelta(seconds=rng.random() * 86400))
        text = f"{texts[k]} {rng.randrange(100)} {rng.choice(places)}"
        posts.append((post_id, "bench", str(post_id), records[k]["platform"], f"{rng.randrange(60_000):064x}",
                      f"h{post_id}", at, at, "{}", text))
        flagged = rng.random() < candidates
        scores.append((post_id, "scored", "en", "bench", at, 0.5 if flagged else 0.05, 0.1,
                       json.dumps(["conspiracy"] if flagged else []), "[]", "{}"))
        if flagged:
            v = base[k] + noise.normal(scale=0.02, size=base.shape[1])
            vectors.append((post_id, (v / np.linalg.norm(v)).astype(np.float16).tobytes()))
        where.append((post_id, rng.choice(ids), 0.9, None))
    db.executemany("INSERT INTO posts (id, source_id, external_id, platform, author_pseudonym, content_hash,"
                   " published_at, collected_at, meta, text) VALUES (?,?,?,?,?,?,?,?,?,?)", posts)
    db.executemany("INSERT INTO post_scores (post_id, status, language, model_version, scored_at, tension,"
                   " conspiracy, labels, target_groups, explanation) VALUES (?,?,?,?,?,?,?,?,?,?)", scores)
    db.executemany("INSERT INTO post_embeddings VALUES (?,?)", vectors)
    db.executemany("INSERT INTO post_localities VALUES (?,?,?,?)", where)
    db.commit()
    db.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--candidates", type=float, default=1.0)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args(argv)
    settings = load_settings(ROOT / "config" / "tension.yaml")
    path = args.db or Path(tempfile.mkdtemp(prefix="tension-bench-")) / "bench.db"
    store = Store.open(f"sqlite:///{path}")
    began = time.perf_counter()
    generate(path, args.posts, args.candidates, settings, random.Random(11))
    print(f"generated {args.posts:,} posts in one day in {time.perf_counter() - began:.1f} s")

    from classifiers.obfuscation import encoder_words

    began = time.perf_counter()
    found = run_window(store, settings.main.emerging, DAY, DAY + dt.timedelta(days=1),
                       ignore_terms=sorted(place_words(settings)), known_words=encoder_words())
    took = time.perf_counter() - began
    with store.transaction() as conn:
        clusters = conn.exec_driver_sql("SELECT count(*) FROM cluster_windows").scalar()
    print(f"emerging narratives: clustered {int(args.posts * args.candidates):,} candidate posts in "
          f"{took:.1f} s ({clusters:,} clusters, {len(found):,} above the reporting line)")

    began = time.perf_counter()
    bursts = detect(store, AmplificationSettings(), DAY + dt.timedelta(days=1, hours=1))
    print(f"amplification: {args.posts:,} posts scanned in {time.perf_counter() - began:.1f} s "
          f"({bursts:,} bursts)")
    store.close()


if __name__ == "__main__":
    main()

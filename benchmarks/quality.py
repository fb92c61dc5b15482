"""Quality benchmark for the post-level heads on held-out data only.

    python -m benchmarks.quality [--data ../shared/data] [--models classifiers/models] [--cache var/cache]

Prints a table: HateXplain test macro-F1 (3 classes), target-group F1, Davidson held-out hate-class F1,
hate_contrast test accuracy per functional kind, conspiracy accuracy on the held-back conspiracy sets,
mobilisation test F1. The metric functions live in ``classifiers.evaluation.METRICS``; add more (e.g. the
narrative matcher's CheckThat! MAP@5) to ``EXTRA_METRICS`` below.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import datasets as D  # noqa: E402
from classifiers import evaluation  # noqa: E402

# Further metric functions, each ``fn(ctx: evaluation.Context) -> list[evaluation.Row]``.
# Place for the narratives / claims CheckThat! 2022 task 2A MAP@5 metric.
EXTRA_METRICS: list = []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="held-out quality of the post-level heads")
    ap.add_argument("--data", type=Path, default=D.DEFAULT_DATA)
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None, help="embedding cache dir (default var/cache)")
    a = ap.parse_args(argv)
    from classifiers.embed_cache import EmbeddingCache
    from classifiers.heads import Heads

    t0 = time.time()
    cache = EmbeddingCache(cache_dir=a.cache)
    ctx = evaluation.Context(Heads.load(a.models), a.data, cache.encode, layers=cache.layers)
    rows = evaluation.run(ctx, evaluation.METRICS + EXTRA_METRICS)
    print(evaluation.table(rows))
    print(f"\nheads {ctx.heads.version}; encoder {cache.encoder.version}; {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

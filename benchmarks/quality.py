"""Quality benchmark for the post-level heads on held-out data only.

    python -m benchmarks.quality [--data ../shared/data] [--models classifiers/models] [--cache var/cache]
                                 [--encoder onnx|torch]

Prints a table: HateXplain test macro-F1 (3 classes), target-group F1, Davidson held-out hate-class F1,
hate_contrast test accuracy per functional kind, the hate model's test macro-F1 on every set it trained on,
DynaHate dev macro-F1, robustness to appended links / mentions / hashtags / emoji, each word rule on and off
(``classifiers.hate_evaluation``), the last leave-one-dataset-out run (``benchmarks.hate_lodo``), conspiracy accuracy on the held-back conspiracy sets,
mobilisation test F1, and the narrative matcher's CheckThat! 2022 2A English MAP@5 on the dev split
(the first run encodes 14k claims, several minutes; later runs read var/cache). The metric functions
live in ``classifiers.evaluation.METRICS``; ``EXTRA_METRICS`` below adds the claim-retrieval one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import datasets as D  # noqa: E402
from classifiers import evaluation, hate_evaluation  # noqa: E402


def checkthat(ctx: evaluation.Context) -> list[evaluation.Row]:
    """Claim retrieval: tweet -> previously fact-checked claim, as the narrative matcher does it."""
    from benchmarks.claims_checkthat import checkthat_map5

    folder = Path(ctx.data) / "checkthat2022_task2a_en"
    if not folder.is_dir():
        return []
    value, queries = checkthat_map5(folder)
    return [evaluation.Row("narratives", "CheckThat! 2022 2A EN dev MAP@5 (baseline 0.818 on test)",
                           value, queries, "hybrid BM25 + embedding, logistic fusion fitted on train")]


# Further metric functions, each ``fn(ctx: evaluation.Context) -> list[evaluation.Row]``.
EXTRA_METRICS: list = [*hate_evaluation.METRICS, checkthat]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="held-out quality of the post-level heads")
    ap.add_argument("--data", type=Path, default=D.DEFAULT_DATA)
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=None, help="embedding cache dir (default var/cache)")
    ap.add_argument("--encoder", choices=("onnx", "torch"), default="onnx",
                    help="score with the heads over this encoder backend (default onnx int8, as the service)")
    a = ap.parse_args(argv)
    from classifiers.embed_cache import EmbeddingCache
    from classifiers.heads import Heads

    t0 = time.time()
    cache = EmbeddingCache(cache_dir=a.cache, backend=a.encoder)
    from classifiers.obfuscation import WORDS_FILE, Readable

    words = (a.models / "words.json") if a.models else WORDS_FILE
    heads = Heads.load(a.models)
    ctx = evaluation.Context(heads, a.data, cache.encode, layers=cache.layers, tokens=cache.tokens,
                             readable=Readable.load(words),
                             verdicts=lambda texts: cache.verdicts(texts, heads.branch_weights))
    rows = evaluation.run(ctx, evaluation.METRICS + EXTRA_METRICS)
    print(evaluation.table(rows))
    print(f"\nheads {ctx.heads.version}; encoder {cache.encoder.version}; {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

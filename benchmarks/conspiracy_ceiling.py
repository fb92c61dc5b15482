"""How far do the encoder's features go on the covid-vaccine conspiracy comments alone?

    python -m benchmarks.conspiracy_ceiling [--data ../shared/data] [--cache var/cache]

The shipped conspiracy head is trained on the covid-vaccine comments together with news, everyday posts and
hand-written rumours, and has to leave the news and everyday posts alone. This benchmark asks what the same
features give with none of those duties: logistic heads over the sentence vector and over the layer pools, and
an n-gram logistic model, trained on the covid-vaccine training comments only and scored on the same held-back
20% that ``benchmarks.quality`` reports. Each row gives the out-of-fold accuracy on the training comments, the
held-back accuracy at the out-of-fold threshold and at 0.5, and, as an upper bound no real head can reach, the
held-back accuracy at the threshold chosen on the held-back comments themselves.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import datasets as D  # noqa: E402
from classifiers import fitting as F  # noqa: E402
from classifiers.binary_head import GRID  # noqa: E402

C_GRID = {"embedding": (0.25, 1.0, 4.0, 16.0), "layers": (0.001, 0.003, 0.01, 0.03)}
NGRAM_C = (1.0, 4.0, 16.0, 64.0)


def accuracy(y, p, t) -> float:
    return F.binary_scores(y, p, t)["accuracy"]


def oof_logistic(x, y, c) -> np.ndarray:
    fold, oof = F.folds(len(y)), np.zeros(len(y))
    for k in range(5):
        w, b = F.logistic(x[fold != k], y[fold != k], c=c)
        oof[fold == k] = F.forward([(w, b)], x[fold == k], "sigmoid")[:, 0]
    return oof


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=D.DEFAULT_DATA)
    ap.add_argument("--cache", type=Path, default=None, help="embedding cache dir (default var/cache)")
    a = ap.parse_args(argv)
    from classifiers.embed_cache import EmbeddingCache
    from classifiers.obfuscation import WORDS_FILE, Readable

    read = Readable.load(WORDS_FILE)
    rows = D.covid_vaccine_conspiracy(a.data)
    train, test = [r for r in rows if r.split != "test"], [r for r in rows if r.split == "test"]
    y, yt = np.array([r.label for r in train]), np.array([r.label for r in test])
    texts, texts_t = [read(r.text) for r in train], [read(r.text) for r in test]
    cache = EmbeddingCache(cache_dir=a.cache)
    print(f"covid-vaccine comments: {len(train)} train+val, {len(test)} held back ({int(yt.sum())} conspiracy)\n")
    print(f"{'model':32} {'OOF acc':>8} {'@OOF t':>8} {'@0.5':>8} {'best t on held-back':>20}")
    for kind, grid in C_GRID.items():
        x, xt = cache.features(texts, kind), cache.features(texts_t, kind)
        if kind == "layers":
            mean, scale = F.standardiser(x)
            x, xt = (x - mean) / scale, (xt - mean) / scale
        for c in grid:
            oof = oof_logistic(x, y, c)
            t = F.calibrate_binary(y, oof, "accuracy")
            w, b = F.logistic(x, y, c=c)
            p = F.forward([(w, b)], xt, "sigmoid")[:, 0]
            print(f"{f'logistic {kind}, C {c}':32} {accuracy(y, oof, t):8.3f} {accuracy(yt, p, t):8.3f} "
                  f"{accuracy(yt, p, 0.5):8.3f} {max(accuracy(yt, p, g) for g in GRID):20.3f}")
    for c in NGRAM_C:
        p = F.ngram_logistic(texts, y, c=c)[2](texts_t)[:, 1]
        print(f"{f'n-gram logistic, C {c}':32} {'':>8} {'':>8} {accuracy(yt, p, 0.5):8.3f} "
              f"{max(accuracy(yt, p, g) for g in GRID):20.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

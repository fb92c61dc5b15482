"""CheckThat! 2022 task 2A (English): tweet -> previously fact-checked claim, MAP@5 on DEV.

    python -m benchmarks.claims_checkthat [--data DIR] [--variants] [--fit] [--calibrate]

Data: /work/shared/data/checkthat2022_task2a_en (see its SOURCE.txt): 14,231 Snopes vclaims
(vclaim, title, subtitle), 1,196 train+dev tweets, qrels. Each vclaim is indexed as one
``ClaimDoc`` (text = vclaim, title = title + subtitle). Embeddings are cached under
``var/cache/embeddings/`` (not committed), keyed by a hash of the encoder version and texts;
the first run encodes ~30k texts (several minutes on 2 cores), reruns take seconds.

``--variants`` prints MAP@5 for every retriever/fusion variant; ``--fit`` refits the logistic
fusion weights on the TRAIN split (hard negatives = the other candidates) and prints them for
``classifiers/narratives.py``; ``--calibrate`` prints precision/recall of the top match at
several thresholds on DEV (used to pick NarrativeMatcher's thresholds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from classifiers.narratives import FUSION_WEIGHTS, ClaimDoc, ClaimIndex  # noqa: E402

DEFAULT_DATA = Path("/work/shared/data/checkthat2022_task2a_en")
CACHE = ROOT / "var" / "cache" / "embeddings"


def cached_encode(encoder, texts: Sequence[str], cache_dir: Path = CACHE) -> np.ndarray:
    """encoder.encode(texts), stored as .npy keyed by sha256(encoder version + texts)."""
    digest = hashlib.sha256(encoder.version.encode())
    for t in texts:
        digest.update(t.encode("utf-8", "replace") + b"\x00")
    path = cache_dir / f"{digest.hexdigest()[:32]}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    vectors = encoder.encode(list(texts))
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vectors, allow_pickle=False)
    tmp.replace(path)
    return vectors


def load(data_dir: Path) -> tuple[list[dict], dict[str, str], dict[str, dict[str, set[str]]]]:
    vclaims = [json.loads(line) for line in (data_dir / "vclaims.jsonl").open(encoding="utf-8")]
    queries: dict[str, str] = {}
    for line in (data_dir / "CT2022-Task2A-EN-Train-Dev_Queries.tsv").open(encoding="utf-8"):
        qid, _, text = line.rstrip("\n").partition("\t")
        queries[qid] = text
    qrels: dict[str, dict[str, set[str]]] = {}
    for split, name in (("train", "CT2022-Task2A-EN-Train_QRELs.tsv"),
                        ("dev", "CT2022-Task2A-EN-Dev_QRELs.tsv")):
        rel: dict[str, set[str]] = {}
        for line in (data_dir / name).open(encoding="utf-8"):
            parts = line.split()
            if len(parts) >= 4 and parts[3] != "0":
                rel.setdefault(parts[0], set()).add(parts[2])
        qrels[split] = rel
    return vclaims, queries, qrels


def average_precision(ranked: Sequence[str], relevant: set[str], k: int = 5) -> float:
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked[:k], start=1):
        if doc in relevant:
            hits += 1
            total += hits / i
    return total / min(len(relevant), k) if relevant else 0.0


class Bench:
    """Everything loaded and encoded once; variants are cheap to evaluate."""

    def __init__(self, data_dir: Path = DEFAULT_DATA, encoder=None):
        if encoder is None:
            from classifiers.embed_cache import EmbeddingCache

            encoder = EmbeddingCache().encoder  # the service's default backend (int8 ONNX)
        self.vclaims, self.queries, self.qrels = load(Path(data_dir))
        v = self.vclaims
        self.ids = [c["vclaim_id"] for c in v]
        self.texts = [c.get("vclaim") or c.get("title") or "" for c in v]
        self.titles = [" ".join(x for x in (c.get("title"), c.get("subtitle")) if x) for c in v]
        t0 = time.time()
        self.emb_text = cached_encode(encoder, self.texts)
        self.emb_title = cached_encode(encoder, [t or x for t, x in zip(self.titles, self.texts)])
        self.qids = sorted(set(self.qrels["train"]) | set(self.qrels["dev"]))
        # tweets are read as the scorer reads posts: normalised (links, mentions, emoji out; hashtags as words)
        from classifiers.normalise import normalise

        self.emb_q = dict(zip(self.qids, cached_encode(encoder,
                                                       [normalise(self.queries[q]) for q in self.qids])))
        self.encode_seconds = time.time() - t0

    def index(self, *, titles: bool = True, title_emb: bool = True, **kwargs) -> ClaimIndex:
        docs = [ClaimDoc(i, t, title if titles else None)
                for i, t, title in zip(self.ids, self.texts, self.titles)]
        return ClaimIndex(docs, embeddings=self.emb_text,
                          title_embeddings=self.emb_title if title_emb else None, **kwargs)

    def map5(self, index: ClaimIndex, split: str = "dev") -> float:
        rel = self.qrels[split]
        qids = sorted(rel)
        results = index.match([self.queries[q] for q in qids],
                              np.stack([self.emb_q[q] for q in qids]), top_k=5)
        return float(np.mean([average_precision([d for d, _ in r], rel[q])
                              for q, r in zip(qids, results)]))


def checkthat_map5(data_dir: str | Path = DEFAULT_DATA, encoder=None) -> tuple[float, int]:
    """(MAP@5, number of queries) on the CheckThat! 2022 2A English DEV split with the default ClaimIndex."""
    bench = Bench(Path(data_dir), encoder)
    return bench.map5(bench.index()), len(bench.qrels["dev"])


def variants(bench: Bench) -> None:
    rows = [
        ("bm25 only (vclaim)", dict(fusion="bm25", titles=False, title_emb=False)),
        ("bm25 only (vclaim+title+subtitle)", dict(fusion="bm25")),
        ("cosine only (vclaim)", dict(fusion="cosine", title_emb=False)),
        ("cosine only (max vclaim, title+subtitle)", dict(fusion="cosine")),
        ("rrf k=60", dict(fusion="rrf")),
        ("logistic fusion (default)", dict()),
        ("logistic fusion, no title embedding", dict(title_emb=False)),
        ("logistic fusion, bm25 k1=0.9 b=0.4", dict(k1=0.9, b=0.4)),
        ("logistic fusion, bm25 k1=1.5 b=0.9", dict(k1=1.5, b=0.9)),
    ]
    for name, kw in rows:
        t0 = time.time()
        idx = bench.index(**kw)
        build = time.time() - t0
        t0 = time.time()
        score = bench.map5(idx)
        per_q = (time.time() - t0) / len(bench.qrels["dev"]) * 1000
        print(f"{name:45s} MAP@5 dev {score:.4f}   (index {build:.1f}s, {per_q:.1f} ms/query)")


def training_pairs(bench: Bench, idx: ClaimIndex, split: str):
    """Candidate features for every query of a split, labelled 1 for the relevant vclaims."""
    rel = bench.qrels[split]
    X, y, group = [], [], []
    for n, q in enumerate(sorted(rel)):
        rows, _, feats = idx.score_candidates(bench.queries[q], bench.emb_q[q])
        names = sorted(feats)
        for j, r in enumerate(rows):
            X.append([feats[f][j] for f in names])
            y.append(1 if idx.ids[r] in rel[q] else 0)
            group.append(n)
    return names, np.array(X, dtype=np.float64), np.array(y), np.array(group)


def fit(bench: Bench) -> dict[str, float]:
    """Logistic regression (plain gradient descent, L2) on TRAIN candidates."""
    idx = bench.index()
    names, X, y, _ = training_pairs(bench, idx, "train")
    use = [i for i, n in enumerate(names) if n in FUSION_WEIGHTS]
    names, X = [names[i] for i in use], X[:, use]
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = (X - mu) / sd
    w = np.zeros(Z.shape[1])
    b0 = 0.0
    pos_weight = 1.0
    for _ in range(3000):
        p = 1 / (1 + np.exp(-(Z @ w + b0)))
        g = (p - y) * np.where(y == 1, pos_weight, 1.0)
        w -= 0.5 * (Z.T @ g / len(y) + 1e-4 * w)
        b0 -= 0.5 * g.mean()
    weights = {n: float(wi / s) for n, wi, s in zip(names, w, sd)}
    weights["bias"] = float(b0 - sum(wi * m / s for wi, m, s in zip(w, mu, sd)))
    print("fitted FUSION_WEIGHTS =", json.dumps({k: round(v, 3) for k, v in weights.items()}))
    for split in ("train", "dev"):
        print(f"  MAP@5 {split}: {bench.map5(bench.index(weights=weights), split):.4f}")
    return weights


def calibrate(bench: Bench, idx: ClaimIndex | None = None) -> None:
    """Top-1 precision / recall at thresholds on DEV (every dev tweet has a true claim)."""
    idx = idx or bench.index()
    rel = bench.qrels["dev"]
    qids = sorted(rel)
    res = idx.match([bench.queries[q] for q in qids], np.stack([bench.emb_q[q] for q in qids]),
                    top_k=1)
    top = [(r[0][1], r[0][0] in rel[q]) for q, r in zip(qids, res)]
    # Unrelated posts: each dev tweet against the index WITHOUT its true claims would be ideal;
    # approximated by train tweets whose claims are removed from the corpus (see below).
    print("threshold  kept  precision@1  recall@1")
    for t in (0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        kept = [ok for s, ok in top if s >= t]
        prec = np.mean(kept) if kept else float("nan")
        print(f"  {t:.2f}   {len(kept):4d}   {prec:.3f}       {sum(kept) / len(top):.3f}")
    # Negative control: drop the true claims of dev tweets from the index, so any top match is
    # a false one; report how many would still pass each threshold.
    gold = set().union(*rel.values())
    keep = [i for i, d in enumerate(bench.ids) if d not in gold]
    docs = [ClaimDoc(bench.ids[i], bench.texts[i], bench.titles[i]) for i in keep]
    neg = ClaimIndex(docs, embeddings=bench.emb_text[keep], title_embeddings=bench.emb_title[keep])
    res = neg.match([bench.queries[q] for q in qids], np.stack([bench.emb_q[q] for q in qids]),
                    top_k=1)
    scores = np.array([r[0][1] for r in res])
    print("negative control (true claims removed): share of tweets whose top match passes")
    for t in (0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        print(f"  {t:.2f}   {np.mean(scores >= t):.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--variants", action="store_true")
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--calibrate", action="store_true")
    args = ap.parse_args(argv)
    bench = Bench(args.data)
    print(f"encoded/loaded in {bench.encode_seconds:.1f}s")
    if args.fit:
        fit(bench)
    if args.variants:
        variants(bench)
    if args.calibrate:
        calibrate(bench)
    if not (args.fit or args.variants or args.calibrate):
        print(f"CheckThat 2022 2A EN dev MAP@5: {bench.map5(bench.index()):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

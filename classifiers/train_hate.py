"""Train, calibrate and evaluate the fine-tuned hate model (``classifiers.hate_model``); called by
``python -m classifiers.train`` (``--heads hate``), or on its own:

    python -m classifiers.train_hate [--data ../shared/data] [--out classifiers/models] [--epochs 1]
                                     [--seed 0] [--calibrate-only]

1. rows: ``classifiers.hate_corpus`` (every hate and offensive set, deduplicated across sets);
2. fit on every training row (``--epochs`` passes; about 22 minutes a pass on a 2-core AMD EPYC host);
3. thresholds chosen on the val rows, scored as the service scores them (the int8 ONNX graph): hate and offensive each at the value that maximises the mean over sets
   of the binary macro-F1 (each set counts once, whatever its size), target groups at 0.5;
4. evaluation on the test rows of every set (nothing there was trained on or chose a threshold);
5. ``<out>/hate_encoder.safetensors`` (float16) and ``<out>/hate.json``.

``--calibrate-only`` keeps the trained weights and redoes 3-5 (e.g. after changing the calibration).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np

from . import datasets as D
from . import hate_corpus as H
from . import hate_model as M
from .obfuscation import Readable

GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
VERSION = "2.0"
# The word rules that still run after this model (heads.WORD_RULES): each kept only where benchmarks.quality
# shows it improving the held-out figures of the model it follows.
WORD_RULES_KEPT = ("negation", "counter_speech", "slurs")
LEXICON = {  # explicit group terms raise a target score to 1.0 (groups with little training data)
    "gender_identity": ["trans", "transgender", "transgenders", "transwom[ae]n", "transm[ae]n", "trannys?", "trannies",
                        "non-binary", "nonbinary", "enby", "genderfluid"],
    "disability": ["disabled", "disability", "disabilities", "autistic", "autism", "wheelchair", "retards?",
                   "retarded", "spastics?", "spazz?", "downs syndrome", "learning disabilit(?:y|ies)", "mentally ill",
                   "deaf", "blind people", "cripples?"],
}


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Binary macro-F1 (mean of the two classes' F1)."""
    scores = []
    for c in (0, 1):
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def labelled(rows, task: str) -> dict[str, np.ndarray]:
    """set -> indices of the rows that carry a label for ``task`` ("hate" or "offensive")."""
    out: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if getattr(r, task) is not None:
            out.setdefault(r.source, []).append(i)
    return {k: np.array(v) for k, v in out.items()}


def per_set_f1(rows, probs: np.ndarray, task: str, threshold: float) -> dict[str, float]:
    col = M.OUTPUTS.index(task)
    y = np.array([getattr(r, task) if getattr(r, task) is not None else -1 for r in rows])
    return {s: round(macro_f1(y[idx], (probs[idx, col] >= threshold).astype(int)), 4)
            for s, idx in sorted(labelled(rows, task).items()) if len(set(y[idx])) == 2}


def calibrate(rows, probs: np.ndarray, task: str) -> float:
    """The threshold maximising the mean over sets of the binary macro-F1 on these (val) rows."""
    best = max(GRID, key=lambda t: (np.mean(list(per_set_f1(rows, probs, task, t).values())), -abs(t - 0.5)))
    return float(best)


def operating_point(rows, probs: np.ndarray, task: str, threshold: float) -> dict[str, float]:
    col = M.OUTPUTS.index(task)
    idx = np.array([i for i, r in enumerate(rows) if getattr(r, task) is not None])
    y = np.array([getattr(rows[i], task) for i in idx])
    flag = probs[idx, col] >= threshold
    tp = int(np.sum(flag & (y == 1)))
    return {"precision": round(tp / max(1, int(flag.sum())), 3), "recall": round(tp / max(1, int((y == 1).sum())), 3)}


def evaluate(rows, probs: np.ndarray, thresholds: dict[str, float]) -> dict:
    return {task: {"macro_f1_by_set": per_set_f1(rows, probs, task, thresholds[task]),
                   **operating_point(rows, probs, task, thresholds[task])} for task in ("hate", "offensive")}


def serving_probabilities(weights: Path, readable, texts) -> np.ndarray:
    """The model's (n, OUTPUTS) probabilities as the service computes them: the int8 ONNX graph, batches of 16,
    the texts normalised and read through the obfuscation reader. Thresholds are chosen on these numbers."""
    import os
    import tempfile

    from .encoders import make_encoder
    from .normalise import normalise

    cache = os.environ.get("TENSION_MODEL_CACHE")
    with tempfile.TemporaryDirectory(prefix="hate-export-") as tmp:
        encoder = make_encoder("onnx", threads=os.cpu_count() or 2, cache_dir=cache or tmp, branch=weights)
        return encoder.encode_with_layers([readable(normalise(t)) for t in texts], verdicts=True)[-1]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=D.DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "models")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--calibrate-only", action="store_true")
    ap.add_argument("--resume", action="store_true",
                    help="one more training run starting from <out>/hate_encoder.safetensors (seed + passes so far)")
    a = ap.parse_args(argv)
    train_and_write(a.data, a.out, epochs=a.epochs, seed=a.seed, calibrate_only=a.calibrate_only, resume=a.resume)


def train_and_write(data: Path, out: Path, *, readable=None, epochs: float = 1.0, seed: int = 0,
                    calibrate_only: bool = False, resume: bool = False, extra=(), log=print) -> dict:
    """``readable``: the obfuscation reader (default: from ``<out>/words.json``, else the shipped one);
    ``extra``: more training examples (analysts' verdicts, ``classifiers.feedback``; 0 normal, 1 offensive,
    2 hate), added to the training rows as they are."""
    started = time.time()
    rows, dropped = H.load(data)
    rows += [H.three_class_row(e) for e in extra]
    log(f"hate model: {len(rows):,} rows after removing {sum(dropped.values()):,} duplicates {dropped}")
    if readable is None:
        words = out / "words.json"
        readable = Readable.from_file(words) if words.is_file() else Readable.load()
    train = [r for r in rows if r.split == "train"]
    weights = out / M.WEIGHTS_FILE
    before = json.loads((out / "hate.json").read_text())["training"] if (calibrate_only or resume) else {}
    passes = list(before.get("passes", []))
    if calibrate_only:
        minutes = before["minutes"]
    else:
        this = {"epochs": epochs, "seed": seed + len(passes) if resume else seed, "from": "trained" if resume
                else "packaged"}
        _, branch = M.fit(train, readable, epochs=epochs, seed=this["seed"], init=weights if resume else None,
                          log=log)
        M.save_branch(branch, weights)
        this["minutes"] = round((time.time() - started) / 60, 1)
        passes = (passes if resume else []) + [this]
        minutes = round(sum(p["minutes"] for p in passes), 1)
        log(f"hate model: trained in {this['minutes']} min -> {weights}")
    val = [r for r in rows if r.split == "val"]
    test = [r for r in rows if r.split == "test"]
    p_val = serving_probabilities(weights, readable, [r.text for r in val])
    p_test = serving_probabilities(weights, readable, [r.text for r in test])
    thresholds = {"hate": calibrate(val, p_val, "hate"), "offensive": calibrate(val, p_val, "offensive")}
    meta = {
        "version": VERSION,
        "kind": "fine-tuned encoder branch",
        "output": "sigmoid",
        "labels": list(M.OUTPUTS),
        "shared_layers": M.SHARED,
        "weights": M.WEIGHTS_FILE,
        "thresholds": thresholds,
        "target_thresholds": {g: 0.5 for g in D.TARGET_GROUPS},
        "lexicon": LEXICON,
        "word_rules": list(WORD_RULES_KEPT),
        "trained": dt.date.today().isoformat(),
        "training": {"rows": H.summary(rows), "dropped_duplicates": dropped, "passes": passes,
                     "epochs": sum(p["epochs"] for p in passes), "seed": seed, "minutes": minutes,
                     "noise": M.NOISE, "max_tokens": M.MAX_TOKENS,
                     "task_weights": M.TASK_WEIGHT, "hate_weight_by_set": H.HATE_WEIGHT},
        "val": evaluate(val, p_val, thresholds),
        "test": evaluate(test, p_test, thresholds),
        "licences": {s: D.SOURCES[s][0] for s in H.summary(rows) if s in D.SOURCES},
    }
    (out / "hate.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    log(f"hate model: thresholds {thresholds}; test {json.dumps(meta['test'])}")
    return meta


if __name__ == "__main__":
    main()

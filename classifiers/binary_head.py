"""Train a binary head (conspiracy, mobilisation): candidates chosen on out-of-fold predictions, then written
with :func:`classifiers.head_files.save`. Called by ``python -m classifiers.train``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np

from . import fitting as F
from .head_files import data_summary, member_tensors, save

C_GRID = {"embedding": (0.5, 2.0, 8.0, 32.0), "layers": (0.003, 0.01, 0.03, 0.1)}  # logistic C per input kind
GRID = np.round(np.arange(0.05, 0.96, 0.01), 2)
MLP_HIDDEN = 256  # hidden units of an MLP candidate, as in the hate head
MLP_SEEDS = 3  # an MLP candidate of a binary head is the mean of this many seeds, as in the hate head


def _fit(model: tuple, x, y, weights, class_weight) -> list:
    """Members (each a list of (weight, bias) layers) of one candidate: ("logistic", C) or ("mlp", hidden)."""
    if model[0] == "logistic":
        return [[F.logistic(x, y, c=model[1], sample_weight=weights, class_weight=class_weight)]]
    return [F.train_mlp(x, y, 1, hidden=model[1], epochs=20, batch=128, seed=s, sample_weight=weights)
            for s in range(MLP_SEEDS)]


def _predict(members: list, x) -> np.ndarray:
    return np.mean([F.forward(m, x, "sigmoid")[:, 0] for m in members], axis=0)


def train_binary(name, feats: dict, rows, objective, out: Path, enc_version: str, note: str,
                 weightings: dict[str, dict[str, float]] | None = None, background=("pheme", "hatexplain"),
                 class_weights=(None,), max_background_flagged: float | None = None, c_grid: dict | None = None,
                 mlp_inputs: tuple[str, ...] = (), max_flagged_by_source: dict[str, float] | None = None,
                 ngram: dict | None = None, fold_seeds: tuple[int, ...] = (1,)) -> dict:
    """Logistic head, or with ``mlp_inputs`` also the mean of ``MLP_SEEDS`` one-hidden-layer MLPs over those
    input kinds as candidates. Model, input kind, C, per-source sample weighting, class weighting and the
    threshold are chosen on 5-fold out-of-fold (OOF) predictions over the training rows.

    ``background``: sources whose rows are generic negatives (news tweets, everyday posts...). Objectives:
    "f1" = F1 over all rows (background false alarms count against precision); "news_balanced" = mean of
    accuracy on the labelled (non-background) rows and the share of background rows left unflagged;
    "accuracy" = accuracy on the labelled rows. With ``max_background_flagged`` only thresholds whose OOF
    background flag rate is at most that value are eligible; ``max_flagged_by_source`` caps the OOF flag rate of
    one source's negatives the same way (a small set the pooled rate would hardly see, e.g. everyday posts).

    ``ngram`` ({"C": (...), "mix": (...)}): every candidate is also tried mixed with a logistic regression over
    hashed char/word n-grams of the text (same weighting and class weighting), ``(1 - mix) * p + mix * p_ngram``,
    as the hate head is. ``fold_seeds``: the OOF objective is averaged over one 5-fold split per seed (several
    seeds when near-equal candidates would otherwise be told apart by one split's noise)."""
    texts = [r.text for r in rows]
    y = np.array([r.label for r in rows])
    bg = np.array([r.source in background for r in rows])
    fold_sets = [F.folds(len(rows), seed=s) for s in fold_seeds]
    capped = {src: (np.array([r.source == src and r.label == 0 for r in rows]), cap)
              for src, cap in (max_flagged_by_source or {}).items()}

    def score(p, t):
        if max_background_flagged is not None and bg.any() and np.mean(p[bg] >= t) > max_background_flagged:
            return -1.0
        if any(m.any() and np.mean(p[m] >= t) > cap for m, cap in capped.values()):
            return -1.0
        if objective == "news_balanced":
            return 0.5 * F.binary_scores(y[~bg], p[~bg], t)["accuracy"] + 0.5 * float(np.mean(p[bg] < t))
        if objective == "accuracy":
            return F.binary_scores(y[~bg], p[~bg], t)["accuracy"]
        return F.binary_scores(y, p, t)[objective]

    def cross_val(fit, predict) -> list[np.ndarray]:
        """OOF predictions ``predict(fit(train_mask), test_mask)``, one array per fold seed."""
        outs = []
        for fold in fold_sets:
            oof = np.zeros(len(y))
            for k in range(5):
                oof[fold == k] = predict(fit(fold != k), fold == k)
            outs.append(oof)
        return outs

    def best_threshold(oofs) -> tuple[float, float]:
        vals = np.mean([[score(o, t) for t in GRID] for o in oofs], axis=0)
        i = int(np.argmax(vals))
        return float(vals[i]), float(GRID[i])

    read = getattr(next(iter(feats.values())), "readable", None) or (lambda t: t)
    read_texts = [read(t) for t in texts] if ngram else []
    ngram_oofs: dict = {}  # (weighting, class weight, C) -> the n-gram model's OOF per fold seed

    def ngram_oof(wname, weights, cw, c) -> list[np.ndarray]:
        if (wname, cw, c) not in ngram_oofs:
            ngram_oofs[wname, cw, c] = cross_val(
                lambda tr: F.ngram_logistic([read_texts[i] for i in np.flatnonzero(tr)], y[tr], c=c,
                                            sample_weight=weights[tr], class_weight=cw)[2],
                lambda predict, te: predict([read_texts[i] for i in np.flatnonzero(te)])[:, 1])
        return ngram_oofs[wname, cw, c]

    best, tried = None, []
    t0 = time.time()
    for kind, fe in feats.items():
        x, std = fe.fit(texts)  # unsupervised scaling; same in every fold
        for wname, wmap in (weightings or {"uniform": {}}).items():
            weights = np.array([wmap.get(r.source, 1.0) for r in rows])
            for cw in class_weights:
                models = [("logistic", c) for c in (c_grid or C_GRID)[kind]]
                if kind in mlp_inputs and cw is None:  # the labelled rows are about balanced already
                    models.append(("mlp", MLP_HIDDEN))
                for model in models:
                    oofs = cross_val(lambda tr: _fit(model, x[tr], y[tr], weights[tr], cw),
                                     lambda members, te: _predict(members, x[te]))
                    options = {None: oofs}
                    for c in (ngram or {}).get("C", ()):
                        for mix in ngram["mix"]:
                            options[c, mix] = [(1 - mix) * o + mix * g
                                               for o, g in zip(oofs, ngram_oof(wname, weights, cw, c))]
                    results = {ng: best_threshold(q) for ng, q in options.items()}
                    mixed = max((ng for ng in results if ng), key=lambda ng: results[ng][0], default=None)
                    for ng in (None, mixed) if mixed else (None,):
                        val, t = results[ng]
                        tried.append({"input": kind, "weighting": wname, "class_weight": cw or "none",
                                      "model": model[0], ("C" if model[0] == "logistic" else "hidden"): model[1],
                                      **({"ngram_C": ng[0], "ngram_mix": ng[1]} if ng else {}),
                                      "threshold": t, objective: round(val, 4)})
                        if best is None or val > best[0]:
                            best = (val, kind, model, t, wname, cw, weights, x, std, options[ng][0], ng)
                        print(f"    {name}[{kind}, {wname}, {cw or 'no'} class weight, {model[0]} {model[1]}"
                              f"{f', n-grams C {ng[0]} mix {ng[1]}' if ng else ''}]: OOF {objective} {val:.4f} "
                              f"at {t} ({time.time() - t0:.0f}s)", flush=True)
    val, kind, model, t, wname, cw, weights, x, std, oof, ng = best
    s = F.binary_scores(y[~bg], oof[~bg], t)
    curve = [{"threshold": float(tt), "labelled_accuracy": round(at["accuracy"], 4), "labelled_f1": round(at["f1"], 4),
              "background_flagged": round(float(np.mean(oof[bg] >= tt)), 4) if bg.any() else None}
             for tt in np.round(np.arange(0.10, 0.91, 0.05), 2) for at in [F.binary_scores(y[~bg], oof[~bg], tt)]]
    members = _fit(model, x, y, weights, cw)
    if model[0] == "logistic":
        layers, extra, fit_meta = members[0], None, {"C": model[1]}
    else:  # several members, written as the hate head's are
        extra, member_meta = member_tensors([(member, std, kind) for member in members])
        layers, fit_meta = [], {"members": member_meta, "mlp": {
            "hidden": model[1], "dropout": 0.5, "weight_decay": 0.01, "epochs": 20, "seeds": list(range(MLP_SEEDS)),
            "members": "mean of the members' probabilities"}}
    if ng:  # the n-gram model refitted on every training row, mixed into the output as in the hate head
        tensors, ngram_meta, _ = F.ngram_logistic(read_texts, y, c=ng[0], sample_weight=weights, class_weight=cw)
        extra = {**(extra or {}), **tensors}
        fit_meta["ngram_mix"] = ng[1]
        fit_meta["ngram"] = {**ngram_meta, "class_weight": cw or "none"}
    save(out, name, layers, {
        "output": "sigmoid", "labels": [name], "encoder": enc_version, "input": kind, "threshold": t,
        "model": model[0], **fit_meta,
        "class_weight": cw or "none", "sample_weights": (weightings or {}).get(wname, {}),
        "calibration": "model, input kind, C, source and class weighting"
                       + (", n-gram C and mixture weight" if ngram else "")
                       + f" and threshold chosen by {objective} of 5-fold out-of-fold predictions on the training rows"
                       + (f" (mean over {len(fold_seeds)} fold splits)" if len(fold_seeds) > 1 else "")
                       + (f", subject to <= {max_background_flagged:.0%} of background rows "
                          f"({', '.join(background)}) flagged" if max_background_flagged is not None else "")
                       + "".join(f" and <= {cap:.0%} of {src} rows" for src, (_, cap) in capped.items()),
        "oof": {objective: round(val, 4), **{k: round(v, 4) for k, v in s.items() if k != "n"},
                "background_flagged": round(float(np.mean(oof[bg] >= t)), 4) if bg.any() else None,
                **{f"{src}_flagged": round(float(np.mean(oof[m] >= t)), 4) for src, (m, _) in capped.items()}},
        "oof_tradeoff_curve": curve, "candidates": tried,
        "training_data": data_summary(rows, None), "note": note, "trained": dt.date.today().isoformat()},
        extra, std=std if model[0] == "logistic" else None)
    print(f"  {name}: input {kind}, {model[0]} {model[1]}, weighting {wname}, class_weight {cw}, threshold {t}, "
          f"OOF {objective} {val:.4f} ({len(tried)} candidates, {time.time() - t0:.0f}s)")
    return {"input": kind, "model": model[0], **fit_meta, "threshold": t, "weighting": wname, "class_weight": cw or "none",
            "oof_objective": val, "oof": s, "oof_tradeoff_curve": curve, "n_train": len(rows)}

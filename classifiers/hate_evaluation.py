"""Held-out measures of the fine-tuned hate model, for ``python -m benchmarks.quality`` and the model card.

Every figure scores posts as the service does (``evaluation.Context.arrays``: normalised, obfuscation undone,
the int8 graph, the word rules that ``hate.json`` keeps):

* ``heldout_set_metrics``: binary macro-F1 of hate (and of offensive, where a set says it) on the test split of
  every set the model trained on (DynaHate: its official dev split, never trained on);
* ``dynahate_metrics``: DynaHate dev macro-F1, and accuracy by hate type;
* ``robustness_metrics``: on held-out hateful posts (hate_contrast test, written by us; DynaHate dev), the share
  flagged as written and with a link, a mention, hashtags or emoji appended: the change must stay within 2 points;
* ``lodo_metrics``: the last ``python -m benchmarks.hate_lodo`` run (read from var/cache, not rerun);
* ``word_rule_metrics``: the mean over sets of the test macro-F1 with each word rule on and off, which is how a
  rule earns its place (``WORD_RULES`` in heads.py; ``word_rules`` in hate.json says which run).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import datasets as D
from . import hate_corpus as H
from .evaluation import Context, Row
from .fitting import macro_f1

APPENDED = {
    "a link": " https://t.co/x7Gq2LmP0a",
    "a mention": " @Cumbria_News",
    "hashtags": " #Workington #news",
    "emoji": " 😡🇬🇧",
}
LODO_RESULTS = Path(__file__).resolve().parent.parent / "var" / "cache" / "hate_lodo.json"
ROBUST_SAMPLE = 600  # DynaHate dev hateful posts in the robustness check (a fixed sample)


def _test_rows(ctx: Context) -> list[H.Row]:
    rows, _ = H.load(ctx.data)
    return [r for r in rows if r.split == "test"]


def _binary_f1(y, flagged) -> float:
    return float(macro_f1(np.asarray(y), np.asarray(flagged).astype(int), n=2))


def heldout_set_metrics(ctx: Context, rows: list[H.Row] | None = None) -> list[Row]:
    rows = rows if rows is not None else _test_rows(ctx)
    by_set: dict[str, list[H.Row]] = defaultdict(list)
    for r in rows:
        by_set[r.source].append(r)
    out = []
    th = ctx.heads.thresholds
    for name, items in sorted(by_set.items()):
        a = ctx.arrays([r.text for r in items])
        for task in ("hate", "offensive"):
            keep = [i for i, r in enumerate(items) if getattr(r, task) is not None]
            y = np.array([getattr(items[i], task) for i in keep])
            if len(keep) < 20 or len(set(y)) < 2:
                continue
            flagged = a[task][keep] >= th[task]
            tp = int(np.sum(flagged & (y == 1)))
            out.append(Row("hate sets", f"{name} test {task} macro-F1", _binary_f1(y, flagged), len(keep),
                           f"P {tp / max(1, int(flagged.sum())):.3f} R {tp / max(1, int(y.sum())):.3f}"))
    return out


def dynahate_metrics(ctx: Context) -> list[Row]:
    dev = [r for r in D.dynahate(ctx.data) if r.split == "test"]
    if not dev:
        return []
    a = ctx.arrays([r.text for r in dev])
    y = np.array([r.label for r in dev])
    flagged = a["hate"] >= ctx.heads.thresholds["hate"]
    out = [Row("hate", "DynaHate dev macro-F1 (official dev; never trained on)", _binary_f1(y, flagged), len(dev))]
    kinds = defaultdict(list)
    for r, f in zip(dev, flagged):
        kinds[r.kind or "none"].append(bool(f) == bool(r.label))
    out += [Row("hate", f"  DynaHate dev type {k} accuracy", float(np.mean(v)), len(v)) for k, v in sorted(kinds.items())]
    return out


def robustness_metrics(ctx: Context) -> list[Row]:
    ours = [r.text for r in D.hate_contrast(ctx.local) if r.split == "test" and r.label == 2]
    dyna = [r.text for r in D.dynahate(ctx.data) if r.split == "test" and r.label == 1]
    dyna = random.Random(25).sample(dyna, min(ROBUST_SAMPLE, len(dyna)))
    out = []
    th = ctx.heads.thresholds["hate"]
    for name, texts in (("hate_contrast test hateful (ours)", ours), ("DynaHate dev hateful (sample)", dyna)):
        if not texts:
            continue
        plain = float(np.mean(ctx.arrays(texts)["hate"] >= th))
        out.append(Row("robustness", f"{name}: share flagged as written", plain, len(texts)))
        for what, tail in APPENDED.items():
            share = float(np.mean(ctx.arrays([t + tail for t in texts])["hate"] >= th))
            out.append(Row("robustness", f"  with {what} appended", share, len(texts),
                           f"change {100 * (share - plain):+.1f} points"))
    return out


def word_rule_metrics(ctx: Context, rows: list[H.Row] | None = None) -> list[Row]:
    """Mean over sets of the test hate macro-F1 with no word rule, each rule alone, and all three."""
    from .heads import WORD_RULES

    rows = [r for r in (rows if rows is not None else _test_rows(ctx)) if r.hate is not None]
    contrast = [r for r in D.hate_contrast(ctx.local) if r.split == "test"]
    kept = ctx.heads.rules
    out = []
    try:
        for rules in ((), *((r,) for r in WORD_RULES), WORD_RULES):
            ctx.heads.rules = frozenset(rules)
            f1s = []
            by_set: dict[str, list[H.Row]] = defaultdict(list)
            for r in rows:
                by_set[r.source].append(r)
            for items in by_set.values():
                flagged = ctx.arrays([r.text for r in items])["hate"] >= ctx.heads.thresholds["hate"]
                f1s.append(_binary_f1([r.hate for r in items], flagged))
            pred = ctx.hate_classes([r.text for r in contrast])
            acc = float(np.mean(pred == np.array([r.label for r in contrast]))) if contrast else float("nan")
            name = "+".join(rules) if rules else "none"
            out.append(Row("word rules", f"word rules {name}: mean test hate macro-F1 over sets", float(np.mean(f1s)),
                           len(rows), f"hate_contrast test accuracy {acc:.3f}"))
    finally:
        ctx.heads.rules = kept
    return out


def lodo_metrics(ctx: Context) -> list[Row]:
    """The last leave-one-dataset-out results of ``python -m benchmarks.hate_lodo`` (it trains; this only reads)."""
    if not LODO_RESULTS.is_file():
        return [Row("hate LODO", "leave-one-dataset-out: not run here (python -m benchmarks.hate_lodo)",
                    float("nan"), 0)]
    got = json.loads(LODO_RESULTS.read_text())
    return [Row("hate LODO", f"leave out {r['held_out']}: its test hate macro-F1", r["macro_f1"], r["test_rows"],
                f"trained on {r['train_rows']:,} rows of the other sets ({got['date']})") for r in got["results"]]


METRICS = [heldout_set_metrics, dynahate_metrics, robustness_metrics, word_rule_metrics, lodo_metrics]

__all__ = ["METRICS", "APPENDED", "LODO_RESULTS", "lodo_metrics", "heldout_set_metrics", "dynahate_metrics", "robustness_metrics",
           "word_rule_metrics"]

"""Held-out quality metrics for the post-level heads (used by train.py for the model cards and by
benchmarks/quality.py). Every function here reads only test / held-back data.

A metric function has the signature ``fn(ctx) -> list[Row]``; ``ctx`` carries the loaded heads, the data
root and an ``embed(texts)`` callable. Add new ones to ``METRICS`` (benchmarks/quality.py adds CheckThat! MAP@5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import datasets as D
from .fitting import binary_scores, macro_f1
from .normalise import normalise


@dataclass
class Row:
    group: str  # head / task
    metric: str
    value: float
    n: int
    note: str = ""


@dataclass
class Context:
    heads: object
    data: Path
    embed: Callable  # texts -> (n, 384) sentence vectors
    local: Path = D.LOCAL_DATA
    layers: Callable | None = None  # texts -> (n, 2304) per-layer pools; needed when heads.needs_layers
    tokens: Callable | None = None  # texts -> encoder.TokenStates; needed when heads.needs_tokens
    demo: Path | None = D.DEMO_SCENARIO
    readable: Callable | None = None  # text -> text the heads read (classifiers.obfuscation.Readable)
    verdicts: Callable | None = None  # texts -> the hate model's (n, OUTPUTS) probabilities

    def arrays(self, texts):
        texts = [normalise(t) for t in texts]  # as the scorer reads them
        if self.readable is not None:
            texts = [self.readable(t) for t in texts]
        lay = None
        if getattr(self.heads, "needs_layers", False):
            if self.layers is None:
                raise ValueError("these heads read layer pools: give the evaluation Context a layers= callable")
            lay = self.layers(texts)
        tok = None
        if getattr(self.heads, "needs_tokens", False):
            if self.tokens is None:
                raise ValueError("these heads read token states: give the evaluation Context a tokens= callable")
            tok = self.tokens(texts)
        if self.verdicts is None:
            raise ValueError("the hate model's verdicts are needed: give the evaluation Context a verdicts= callable")
        return self.heads.score_arrays(self.embed(texts), texts, lay, tok, self.verdicts(texts))

    def hate_classes(self, texts) -> np.ndarray:
        a = self.arrays(texts)
        t = self.heads.thresholds
        return np.where(a["hate"] >= t["hate"], 2, np.where(a["offensive"] >= t["offensive"], 1, 0))

    def binary(self, name, texts) -> np.ndarray:
        return self.arrays(texts)[name]


def _per_class_f1(y, pred) -> list[float]:
    from sklearn.metrics import f1_score
    return [float(v) for v in f1_score(y, pred, average=None, labels=[0, 1, 2])]


def hatexplain_metrics(ctx: Context) -> list[Row]:
    rows = [r for r in D.hatexplain(ctx.data) if r.split == "test"]
    y = np.array([r.label for r in rows])
    texts = [r.text for r in rows]
    pred = ctx.hate_classes(texts)
    f = _per_class_f1(y, pred)
    out = [Row("hate", "HateXplain test macro-F1 (3 classes; anchor BERT-HateXplain 0.687)", macro_f1(y, pred), len(y)),
           Row("hate", "HateXplain test F1 normal / offensive / hate", f[0], len(y), f"{f[0]:.3f} / {f[1]:.3f} / {f[2]:.3f}"),
           Row("hate", "HateXplain test accuracy", float(np.mean(pred == y)), len(y))]
    # target groups: on test posts labelled hate (gold), micro-F1 of predicted vs majority-annotated groups
    a = ctx.arrays(texts)
    above = a["targets"] >= ctx.heads.target_thresholds
    groups = ctx.heads.target_groups
    tp = fp = fn = 0
    per = defaultdict(lambda: [0, 0, 0])
    for i, r in enumerate(rows):
        if r.label != 2:
            continue
        gold = set(r.targets)
        got = {g for j, g in enumerate(groups) if above[i, j]}
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
        for g in groups:
            per[g][0] += g in gold and g in got
            per[g][1] += g in got and g not in gold
            per[g][2] += g in gold and g not in got
    p, rc = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    note = ", ".join(f"{g} {2 * v[0] / max(2 * v[0] + v[1] + v[2], 1):.2f}" for g, v in per.items() if v[0] + v[2])
    out.append(Row("targets", "HateXplain test target-group micro-F1 (gold-hate posts)", 2 * p * rc / max(p + rc, 1e-9),
                   int(np.sum(y == 2)), note))
    return out


def davidson_metrics(ctx: Context) -> list[Row]:
    rows = [r for r in D.davidson(ctx.data) if r.split == "test"]
    y = np.array([r.label for r in rows])
    pred = ctx.hate_classes([r.text for r in rows])
    f = _per_class_f1(y, pred)
    return [Row("hate", "Davidson held-out 10% hate-class F1 (authors ~0.51 in-domain)", f[2], len(y),
                "cross-dataset: not trained on Davidson"),
            Row("hate", "Davidson held-out macro-F1", macro_f1(y, pred), len(y),
                f"F1 neither/offensive/hate {f[0]:.3f}/{f[1]:.3f}/{f[2]:.3f}")]


def hate_contrast_metrics(ctx: Context) -> list[Row]:
    """hate_contrast test rows: macro-F1 and accuracy, then accuracy per kind. The v1.7 ``stance_*`` rows (held
    out since stop 22; no shipped head saw them) are reported on their own, so the headline stays comparable."""
    test = [r for r in D.hate_contrast(ctx.local) if r.split == "test"]
    rows = [r for r in test if not r.kind.startswith("stance_")]
    stance = [r for r in test if r.kind.startswith("stance_")]
    if not rows:
        return []
    y = np.array([r.label for r in rows])
    pred = ctx.hate_classes([r.text for r in rows])
    out = [Row("hate_contrast", "hate_contrast test macro-F1", macro_f1(y, pred), len(y)),
           Row("hate_contrast", "hate_contrast test accuracy", float(np.mean(pred == y)), len(y))]
    kinds = defaultdict(list)
    for r, p in zip(rows, pred):
        kinds[r.kind].append(p == r.label)
    for k in sorted(kinds):
        gold = next(D.HATE_CLASSES[r.label] for r in rows if r.kind == k)
        out.append(Row("hate_contrast", f"  kind {k} accuracy (gold mostly {gold})", float(np.mean(kinds[k])), len(kinds[k])))
    if stance:
        y = np.array([r.label for r in stance])
        pred = ctx.hate_classes([r.text for r in stance])
        hate = y == 2
        out.append(Row("hate_contrast", "hate_contrast v1.7 stance rows (held out) hate-or-not accuracy",
                       float(np.mean((pred == 2) == hate)), len(y),
                       f"3-class accuracy {np.mean(pred == y):.3f}; hate found {int(((pred == 2) & hate).sum())} of "
                       f"{int(hate.sum())}, others flagged {int(((pred == 2) & ~hate).sum())} of {int((~hate).sum())}"))
    return out


def _binary_rows(ctx, group, name, rows, label, extra="", objective="accuracy"):
    if not rows:
        return []
    y = np.array([r.label for r in rows])
    s = binary_scores(y, ctx.binary(group, [r.text for r in rows]), ctx.heads.thresholds[group])
    note = f"P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f} acc {s['accuracy']:.3f}"
    return [Row(group, label, s[objective], s["n"], (extra + "; " if extra else "") + note)]


def _kind_rows(ctx, head, rows) -> list[Row]:
    """Accuracy of a binary head's label per ``kind`` of hand-written rows."""
    if not rows:
        return []
    flagged = ctx.binary(head, [r.text for r in rows]) >= ctx.heads.thresholds[head]
    kinds = defaultdict(list)
    for r, q in zip(rows, flagged):
        kinds[r.kind].append(int(q) == r.label)
    return [Row(head, f"  kind {k} accuracy", float(np.mean(v)), len(v)) for k, v in sorted(kinds.items())]


def conspiracy_metrics(ctx: Context) -> list[Row]:
    cvc = [r for r in D.covid_vaccine_conspiracy(ctx.data) if r.split == "test"]
    cc = [r for r in D.conspiracy_contrast(ctx.local) if r.split == "test"]
    ph = [r for r in D.pheme(ctx.data) if r.split == "test"]  # false-alarm rate on news-style rumour tweets
    prct = D.prct(ctx.data)
    out = _binary_rows(ctx, "conspiracy", "cvc", cvc, "covid_vaccine_conspiracy held-back 20% accuracy (anchor 69%)")
    out += _binary_rows(ctx, "conspiracy", "cc", cc, "conspiracy_contrast test accuracy (hand-written)")
    out += _kind_rows(ctx, "conspiracy", cc)
    out += _binary_rows(ctx, "conspiracy", "prct", prct, "PRCT replacement-conspiracy accuracy (never trained on)",
                        "eval only, NC licence")
    pooled = cvc + cc + prct
    out += _binary_rows(ctx, "conspiracy", "pool", pooled, "held-back conspiracy sets pooled accuracy (cvc+contrast+PRCT)")
    if ph:
        p = ctx.binary("conspiracy", [r.text for r in ph])
        out.append(Row("conspiracy", "PHEME held-back 20% news/rumour tweets: share NOT flagged", float(np.mean(p < ctx.heads.thresholds["conspiracy"])), len(ph)))
    try:
        con = D.constraint(ctx.data)
        out += _binary_rows(ctx, "conspiracy", "constraint", con, "CONSTRAINT COVID fake(1)/real(0) test accuracy",
                            "different construct (fake news), eval only")
    except FileNotFoundError:
        pass
    return out


def mobilisation_metrics(ctx: Context) -> list[Row]:
    rows = D.mobilisation(ctx.local)
    test = [r for r in rows if r.split == "test"]
    # "val": 100 rows written after v1.4 to check a choice of input that out-of-fold scores could not settle
    val = [r for r in rows if r.split == "val"]
    return _binary_rows(ctx, "mobilisation", "mob", test, "mobilisation test F1", objective="f1") \
        + _kind_rows(ctx, "mobilisation", test) \
        + _binary_rows(ctx, "mobilisation", "mob", val, "mobilisation val F1 (100 fresh rows, never trained on)",
                       objective="f1")


def everyday_metrics(ctx: Context) -> list[Row]:
    """False-positive rates on the held-out (test) part of the hand-written everyday local posts, with the
    grievances about local services and costs (kind ``grievance``, added in stop 17) and the everyday negated
    statements (kind ``negated_statement``, stop 20; test rows only) reported on their own so the earlier
    figure stays comparable."""
    test = [r for r in D.everyday_negatives(ctx.local) if r.split == "test"]
    apart = ("grievance", "negated_statement")
    groups = (("everyday local posts (held-out, hand-written)", [r for r in test if r.kind not in apart]),
              ("local grievances about services and costs (held-out, hand-written)",
               [r for r in test if r.kind == "grievance"]),
              ("everyday negated statements ('the council are not listening'; held-out, hand-written)",
               [r for r in test if r.kind == "negated_statement"]))
    th = ctx.heads.thresholds
    out = []
    for name, rows in groups:
        if not rows:
            continue
        texts = [r.text for r in rows]
        a = ctx.arrays(texts)
        for head in ("mobilisation", "conspiracy", "hate"):
            flagged = a[head] >= th[head]
            worst = max(range(len(rows)), key=lambda i: a[head][i])
            out.append(Row(head, f"{name}: {head} false-positive rate", float(np.mean(flagged)), len(rows),
                           f"{int(flagged.sum())} flagged; max {a[head][worst]:.2f} on '{texts[worst][:50]}'"))
    return out


PROBES = {1: "HateCheck-style functionalities", 2: "hostile emotion and its contrasts",
          3: "what the feeling is aimed at", 4: "the week after an incident", 5: "a week's local feed"}


def hate_probe_metrics(ctx: Context) -> list[Row]:
    """The hate label on five probes written by assistants who never saw our training data (HATE_PROBES.md):
    accuracy per probe (ROC AUC of the hate score and P/R in the note), and per kind for probe 4 (probe 5 is
    one realistic feed with no kinds). Our own hate_contrast test split is written by the same hands as its
    training rows; these show how far that generalises."""
    rows = D.hate_probes(ctx.local)
    if not rows:
        return []
    from sklearn.metrics import roc_auc_score

    score = ctx.arrays([r.text for r in rows])["hate"]
    flagged = score >= ctx.heads.thresholds["hate"]
    y = np.array([r.label for r in rows])
    out = []
    for probe, title in PROBES.items():
        idx = [i for i, r in enumerate(rows) if r.meta["probe"] == probe]
        if not idx:
            continue
        s = binary_scores(y[idx], score[idx], ctx.heads.thresholds["hate"])
        seen = "seen: shaped counter_speech" if rows[idx[0]].meta["seen"] else "unseen"
        out.append(Row("hate", f"probe {probe} ({title}) accuracy", s["accuracy"], len(idx),
                       f"AUC {roc_auc_score(y[idx], score[idx]):.3f}; P {s['precision']:.3f} R {s['recall']:.3f}; "
                       f"{seen}"))
    kinds = defaultdict(list)
    for i, r in enumerate(rows):
        if r.meta["probe"] == 4:
            kinds[r.kind.split(":", 1)[1]].append(flagged[i] == bool(r.label))
    out += [Row("hate", f"  probe 4 kind {k} accuracy", float(np.mean(v)), len(v)) for k, v in sorted(kinds.items())]
    return out


DEMO_POSITIVE = {  # head -> (threads that are positives, threads that are negatives) in the fictional demo feed
    "mobilisation": (lambda k: k == "mobilisation", lambda k: k in ("chatter", "news")),
    "hate": (lambda k: k == "hate", lambda k: k in ("chatter", "news", "counter")),
    "conspiracy": (lambda k: k.startswith("narrative:") or k == "rumour", lambda k: k in ("chatter", "news")),
}


def demo_metrics(ctx: Context) -> list[Row]:
    """Precision / recall on the fictional demo feed (config/demo/scenario.jsonl; evaluation only, never
    trained on). Ground truth from its ``thread`` field; other threads (e.g. offensive, amplification,
    report) are left out of each head's count."""
    rows = D.demo_scenario(ctx.demo) if ctx.demo else []
    if not rows:
        return []
    texts = [r.text for r in rows]
    a = ctx.arrays(texts)
    out = []
    for head, (pos, neg) in DEMO_POSITIVE.items():
        keep = [i for i, r in enumerate(rows) if pos(r.kind) or neg(r.kind)]
        y = np.array([int(pos(rows[i].kind)) for i in keep])
        s = binary_scores(y, a[head][keep], ctx.heads.thresholds[head])
        chatter = [i for i, r in enumerate(rows) if r.kind == "chatter"]
        fpr = float(np.mean(a[head][chatter] >= ctx.heads.thresholds[head]))
        note = (f"P {s['precision']:.3f} R {s['recall']:.3f} F1 {s['f1']:.3f}; {int(y.sum())} positives; "
                f"chatter flagged {fpr:.3f} of {len(chatter)}")
        out += [Row(head, f"demo feed (fictional, eval only) {head} precision", s["precision"], len(keep), note),
                Row(head, f"demo feed (fictional, eval only) {head} recall", s["recall"], len(keep))]
    return out


# The benchmark runs these in order. Narrative / claim matching (CheckThat! MAP@5) plugs in here.
METRICS: list[Callable[[Context], list[Row]]] = [
    hatexplain_metrics, davidson_metrics, hate_contrast_metrics, conspiracy_metrics, mobilisation_metrics,
    everyday_metrics, demo_metrics, hate_probe_metrics,
]


def run(ctx: Context, metrics=None) -> list[Row]:
    out: list[Row] = []
    for fn in metrics or METRICS:
        out += fn(ctx)
    return out


def table(rows: list[Row]) -> str:
    w = max(len(r.metric) for r in rows) if rows else 10
    lines = [f"{'head':<13} {'metric':<{w}} {'value':>7} {'n':>6}  note", "-" * (w + 40)]
    lines += [f"{r.group:<13} {r.metric:<{w}} {r.value:>7.3f} {r.n:>6}  {r.note}" for r in rows]
    return "\n".join(lines)

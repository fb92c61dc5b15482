"""The hate model's training and evaluation rows: every hate / offensive set in ../shared/data and our own
contrast cases, as multi-task rows, with duplicates and near-duplicates removed across sets.

Each :class:`Row` carries what its set says and nothing more: ``hate`` (1 / 0), ``offensive`` (1 / 0,
hate counting as offensive) and ``targets`` (one 0 / 1 per ``TARGET_GROUPS`` member); ``None`` where the set
does not say (OLID and SBIC never say hate; a DynaHate "not hate" post may still be offensive). The loss
is masked accordingly (``classifiers.hate_model``).

Duplicates: texts are compared after :func:`classifiers.normalise.normalise`, lower case, letters and digits
only. A text held out anywhere (any set's test split, then val) is dropped from every training split, and a
training text already kept from another set is dropped; then near-duplicates (MinHash over word 3-grams,
estimated Jaccard >= 0.8) are treated the same way. Near-duplicates *within* one set stay: DynaHate's
perturbations are near-copies with the label flipped on purpose.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import datasets as D
from .normalise import normalise

# set -> reader; the order is the order of preference when the same text is in two sets
READERS = {
    "hate_contrast": lambda root: D.hate_contrast(),
    "dynahate": D.dynahate,
    "mhs": D.measuring_hate_speech,
    "hatexplain": D.hatexplain,
    "hateval": D.hateval,
    "ethos": D.ethos,
    "davidson": D.davidson,
    "olid": D.olid,
    "sbic": D.sbic,
    "everyday": lambda root: everyday(root),
}
CALM_KINDS = {"calm_appeal", "police_notice", "past_event_report", "civic_event", "social_plan"}
# Everyday text with nothing hateful or offensive in it: news tweets (PHEME), the hand-written everyday local
# posts and calm local notices (mobilisation.jsonl). The public hate sets are 30-60% toxic and none of them
# talks about Cumbrian bin days; without these the model reads a town name as a warning sign.
CLEAN_SETS = ("pheme", "everyday_negatives", "mobilisation")
# Davidson's "hate" class is mostly slurs in everyday use (its authors' own caveat): it teaches the hate task
# at half weight; its offensive labels count in full.
HATE_WEIGHT = {"davidson": 0.5}
NEAR = 0.8  # estimated Jaccard of word 3-grams at which two texts count as the same post


@dataclass
class Row:
    text: str
    source: str
    split: str  # train / val / test
    hate: int | None
    offensive: int | None
    targets: tuple[int, ...] | None  # per TARGET_GROUPS, or None when not annotated
    kind: str = ""


def everyday(root: Path) -> list[D.Example]:
    """PHEME news tweets, everyday local posts, calm local notices (all: hate 0, offensive 0) and the
    conspiracy contrast set's non-conspiracy posts (hate 0; offensive not said: criticism can be rude)."""
    rows = D.pheme(root) + D.everyday_negatives()
    rows += [r for r in D.mobilisation() if r.kind in CALM_KINDS]
    rows += [r for r in D.conspiracy_contrast() if r.label == 0]
    return [D.Example(r.text, 0, r.split, r.source, kind=r.kind) for r in rows]


def _row(e: D.Example) -> Row:
    s = e.source
    targets = None
    if s in CLEAN_SETS:
        return Row(e.text, s, e.split, 0, 0, None, e.kind)
    if s == "conspiracy_contrast":
        return Row(e.text, s, e.split, 0, None, None, e.kind)
    if e.has_targets and e.targets is not None:
        targets = tuple(int(g in e.targets) for g in D.TARGET_GROUPS)
    if s in ("hatexplain", "davidson", "hate_contrast"):  # three classes: normal, offensive, hate
        hate, off = int(e.label == 2), int(e.label >= 1)
        if not hate:
            targets = None if s != "hate_contrast" else targets
    elif s in ("olid", "sbic"):
        hate, off = None, e.label
        if not off:
            targets = None
    else:  # binary hate sets: a hateful post is offensive; a post that is not hate may still be
        hate, off = e.label, (1 if e.label else None)
        if not hate:
            targets = None
    return Row(e.text, s, e.split, hate, off, targets, e.kind)


def three_class_row(e: D.Example) -> Row:
    """A row from an example labelled 0 normal / 1 offensive / 2 hate (e.g. an analyst's verdict)."""
    return Row(e.text, e.source, e.split, int(e.label == 2), int(e.label >= 1), None, e.kind)


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", normalise(text).lower()).strip()


def _shingles(key: str) -> set[bytes]:
    words = key.split()
    return {" ".join(words[i:i + 3]).encode() for i in range(len(words) - 2)}


def deduplicate(rows: list[Row]) -> tuple[list[Row], dict[str, int]]:
    """Rows without cross-set duplicates (see the module docstring) and how many were dropped, by reason."""
    from datasketch import MinHash, MinHashLSH

    rank = {"test": 0, "val": 1, "train": 2}
    order = sorted(range(len(rows)), key=lambda i: rank[rows[i].split])  # held-out rows claim a text first
    dropped: Counter = Counter()
    kept: list[int] = []
    seen: dict[str, tuple[str, str]] = {}  # key -> (source, split) that claimed it
    lsh = MinHashLSH(threshold=NEAR, num_perm=64)
    owner: dict[str, tuple[str, str]] = {}
    for i in order:
        r = rows[i]
        key = _key(r.text)
        if not key:
            dropped["empty"] += 1
            continue
        claim = seen.get(key)
        if claim is not None and claim[1] != "train" and r.split == "train":
            dropped["same text held out"] += 1
            continue
        if claim is not None and claim[0] != r.source and r.split == claim[1]:
            dropped["same text in another set"] += 1
            continue
        shingles = _shingles(key)
        if len(shingles) >= 3:
            m = MinHash(num_perm=64, seed=1)
            m.update_batch(list(shingles))
            near = [owner[k] for k in lsh.query(m)]
            if r.split == "train" and any(src != r.source and split != "train" for src, split in near):
                dropped["near-duplicate held out"] += 1
                continue
            if any(src != r.source and split == r.split for src, split in near):
                dropped["near-duplicate in another set"] += 1
                continue
            name = f"{i}"
            lsh.insert(name, m)
            owner[name] = (r.source, r.split)
        seen.setdefault(key, (r.source, r.split))
        kept.append(i)
    return [rows[i] for i in sorted(kept)], dict(dropped)


def load(data: Path = D.DEFAULT_DATA, sets=tuple(READERS)) -> tuple[list[Row], dict[str, int]]:
    """All rows of these sets, deduplicated; and the drop counts."""
    rows = [_row(e) for name in sets for e in READERS[name](data)]
    return deduplicate(rows)


def summary(rows: list[Row]) -> dict[str, dict[str, int]]:
    """set -> split -> rows, for the model card."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r.source, {}).setdefault(r.split, 0)
        out[r.source][r.split] += 1
    return out


__all__ = ["three_class_row", "Row", "READERS", "CALM_KINDS", "HATE_WEIGHT", "load", "deduplicate", "summary"]

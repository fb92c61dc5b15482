"""The language gate on labelled text: English posts it would leave unread, other-language posts it
would score as English, and its cost.

    python -m benchmarks.language_gate [--data ../shared/data] [--show 5]

English: every text of the English datasets (HateXplain, Davidson 2017, PHEME, the covid-vaccine
comments, CONSTRAINT), our hand-written sets and the demo feed. Other languages: the hand-written
posts in ``tests/fixtures/languages`` (25 languages), spaCy's example sentences for the candidate
languages, and 2,000 GermEval comments (German Facebook comments; a few are written in English, so
that row's "read as English" is not all error). Each set is run through the gate as shipped and
with the fast model alone (``english_floor=None``, the behaviour before the floor).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import datasets as D  # noqa: E402
from classifiers.language import LanguageGate  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
OTHER = REPO / "tests" / "fixtures" / "languages" / "other_languages.jsonl"
SPACY_EXAMPLES = "pl ro lt pt es fr de it nl ar ur fa tr bn ru uk zh ja ko hi".split()


def english_sets(data: Path) -> dict[str, list[str]]:
    sets = {"hand-written (ours)": [r.text for r in D.hate_contrast() + D.conspiracy_contrast() + D.mobilisation()
                                    + D.everyday_negatives()],
            "demo feed": [r.text for r in D.demo_scenario()]}
    for name, load in (("HateXplain", D.hatexplain), ("Davidson 2017", D.davidson), ("PHEME", D.pheme),
                       ("covid-vaccine comments", D.covid_vaccine_conspiracy), ("CONSTRAINT", D.constraint)):
        try:
            sets[name] = [r.text for r in load(data)]
        except FileNotFoundError:
            continue
    return sets


def other_sets(data: Path) -> dict[str, list[str]]:
    sets = {"hand-written, 25 languages": [json.loads(line)["text"] for line in OTHER.read_text().splitlines()]}
    spacy = []
    for code in SPACY_EXAMPLES:
        spacy += importlib.import_module(f"spacy.lang.{code}.examples").sentences
    sets["spaCy example sentences, 20 languages"] = spacy
    germeval = data / "germeval_harmful_c2a_vio" / "GermEval2025_data_c2a_c2a_train.csv"
    if germeval.exists():
        with germeval.open(encoding="utf-8") as f:
            rows = [r["description"] for r in csv.DictReader(f, delimiter=";") if r["description"].strip()]
        sets["GermEval comments (German; a few in English)"] = random.Random(0).sample(rows, min(2000, len(rows)))
    return sets


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--show", type=int, default=5, help="examples of each kind of mistake to print")
    a = ap.parse_args(argv)
    gates = {"fast model alone": LanguageGate(english_floor=None), "as shipped": LanguageGate()}
    print(f"{'set':48s} {'posts':>6s}  " + "  ".join(f"{k:>18s}" for k in gates))
    for kind, sets, wrong in (("English: left unread", english_sets(a.data), lambda c: not LanguageGate.scorable(c)),
                              ("other languages: read as English", other_sets(a.data), LanguageGate.scorable)):
        print(kind)
        for name, texts in sets.items():
            cells, examples = [], []
            for label, gate in gates.items():
                t0 = time.perf_counter()
                codes = gate.detect(texts)
                dt = time.perf_counter() - t0
                missed = [(c, t) for c, t in zip(codes, texts) if wrong(c)]
                cells.append(f"{len(missed):6d} {len(missed) / len(texts):6.2%} {dt:4.1f}s")
                examples = missed
            print(f"  {name:46s} {len(texts):6d}  " + "  ".join(f"{c:>18s}" for c in cells))
            if examples:
                print(f"    as shipped, by code: {dict(Counter(c for c, _ in examples).most_common(6))}")
            for code, text in examples[:a.show]:
                print(f"      {code}: {text[:90]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

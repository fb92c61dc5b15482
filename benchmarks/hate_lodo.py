"""Leave-one-dataset-out runs of the hate model's recipe: the figure that predicts text we have not seen.

    python -m benchmarks.hate_lodo [--data ../shared/data] [--rows 16000] [--sets dynahate mhs ...]
                                   [--out var/cache/hate_lodo.json]

For each hate set S: train the recipe of ``classifiers.hate_model`` (same normalisation, noise, tasks and
seed) on a fixed sample of ``--rows`` training rows drawn from every *other* set, choose the hate threshold
on a sample of the other sets' val rows (S is never looked at), then report S's test-split hate macro-F1
(torch fp32). A full-size model sees about 111,000 rows; the sample keeps one run to about four minutes
on a 2-core CPU, so these figures are a floor for the recipe, not the shipped model's. ``python -m benchmarks.quality`` prints the
last results from ``--out``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import datasets as D  # noqa: E402
from classifiers import hate_corpus as H  # noqa: E402
from classifiers import hate_model as M  # noqa: E402
from classifiers.hate_evaluation import LODO_RESULTS  # noqa: E402
from classifiers.train_hate import calibrate, per_set_f1  # noqa: E402

LODO_SETS = ("dynahate", "mhs", "hatexplain", "hateval", "davidson", "ethos")
DEFAULT_OUT = LODO_RESULTS
VAL_ROWS = 4000  # val rows of the other sets that choose the threshold (a fixed sample)


def run_one(rows: list[H.Row], held_out: str, n_rows: int, readable, log=print) -> dict:
    rng = random.Random(f"lodo-{held_out}")
    train = [r for r in rows if r.split == "train" and r.source != held_out]
    train = rng.sample(train, min(n_rows, len(train)))
    val = [r for r in rows if r.split == "val" and r.source != held_out]
    val = rng.sample(val, min(VAL_ROWS, len(val)))
    test = [r for r in rows if r.split == "test" and r.source == held_out and r.hate is not None]
    t0 = time.time()
    bert, branch = M.fit(train, readable, epochs=1.0, log=lambda m: None)
    p_val = M.predict(bert, branch, readable, [r.text for r in val])
    threshold = calibrate(val, p_val, "hate")
    p_test = M.predict(bert, branch, readable, [r.text for r in test])
    f1 = per_set_f1(test, p_test, "hate", threshold)[held_out]
    result = {"held_out": held_out, "macro_f1": f1, "threshold": threshold, "train_rows": len(train),
              "test_rows": len(test), "minutes": round((time.time() - t0) / 60, 1)}
    log(f"  leave out {held_out}: test hate macro-F1 {f1:.3f} (threshold {threshold} from the other sets' val; "
        f"{len(train):,} training rows, {result['minutes']} min)")
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=D.DEFAULT_DATA)
    ap.add_argument("--rows", type=int, default=16000)
    ap.add_argument("--sets", nargs="+", default=list(LODO_SETS), choices=LODO_SETS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args(argv)
    from classifiers.obfuscation import Readable

    rows, _ = H.load(a.data)
    readable = Readable.load()
    results = [run_one(rows, s, a.rows, readable) for s in a.sets]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"date": dt.date.today().isoformat(), "rows": a.rows, "results": results},
                                indent=1) + "\n")
    print(f"mean leave-one-dataset-out hate macro-F1 {np.mean([r['macro_f1'] for r in results]):.3f} -> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

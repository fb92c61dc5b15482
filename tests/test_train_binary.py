"""``train_binary`` chooses between logistic and MLP candidates on out-of-fold predictions and writes a head the
service loads. Small synthetic features stand in for the encoder, so these run in seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifiers import datasets as D
from classifiers import fitting as F
from classifiers import binary_head
from classifiers.heads import Head
from safetensors.numpy import load_file


class Points:
    """Stands in for ``train.Features``: each text names a row of a fixed array of 'layers' features."""

    def __init__(self, x):
        self.x = x

    def fit(self, texts):
        x = self.x[[int(t) for t in texts]]
        std = F.standardiser(x)
        return (x - std[0]) / std[1], std


def _rows(y):
    return [D.Example(str(i), int(v), "train", "covid_vaccine_conspiracy") for i, v in enumerate(y)]


def _train(tmp_path, x, y, **kw):
    report = binary_head.train_binary("conspiracy", {"layers": Points(x)}, _rows(y), "accuracy", tmp_path, "stand-in",
                                "synthetic", c_grid={"layers": (1.0,)}, **kw)
    meta = json.loads((tmp_path / "conspiracy.json").read_text())
    return report, meta, Head("conspiracy", load_file(str(tmp_path / "conspiracy.safetensors")), meta)


def test_an_mlp_is_chosen_when_the_classes_are_not_linearly_separable(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(int)  # XOR of two signs: no line separates it
    report, meta, head = _train(tmp_path, x, y, mlp_inputs=("layers",))
    logistic = max(c["accuracy"] for c in meta["candidates"] if c["model"] == "logistic")
    assert report["model"] == meta["model"] == "mlp"
    assert report["oof_objective"] > logistic + 0.2
    assert len(meta["members"]) == binary_head.MLP_SEEDS and meta["mlp"]["hidden"] == binary_head.MLP_HIDDEN
    # the written head (float16 weights, its own standardisation) scores fresh points as it was trained
    fresh = rng.normal(size=(300, 4)).astype(np.float32)
    p = head.predict(fresh)[:, 0]
    assert np.mean((p >= meta["threshold"]) == (fresh[:, 0] * fresh[:, 1] > 0)) > 0.75  # logistic: about 0.5


def test_a_linear_problem_keeps_the_single_layer_logistic_head(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 2] > 0).astype(int)
    report, meta, head = _train(tmp_path, x, y)  # no mlp_inputs: logistic only, as before
    assert report["model"] == "logistic" and meta["C"] == 1.0 and meta["layers"] == 1
    assert {c["model"] for c in meta["candidates"]} == {"logistic"}
    p = head.predict(x)[:, 0]
    assert np.mean((p >= meta["threshold"]) == y) > 0.95


def test_a_per_source_cap_keeps_a_small_set_of_everyday_posts_unflagged(tmp_path):
    # 40 everyday posts sit where the positives are: the pooled background rate (with 400 news rows far
    # away) would hardly notice them being flagged, the per-source cap does
    rng = np.random.default_rng(2)
    labelled = rng.normal(size=(400, 2)).astype(np.float32)
    y = (labelled[:, 0] + 0.7 * rng.normal(size=400) > 0).astype(int)
    news = (rng.normal(size=(400, 2)) - [3.0, 0.0]).astype(np.float32)
    everyday = np.column_stack([rng.uniform(0.2, 1.2, 40), rng.normal(size=40)]).astype(np.float32)
    x = np.vstack([labelled, news, everyday])
    rows = (_rows(y) + [D.Example(str(400 + i), 0, "train", "pheme") for i in range(400)]
            + [D.Example(str(800 + i), 0, "train", "everyday_negatives") for i in range(40)])

    def fit(out, **kw):
        binary_head.train_binary("conspiracy", {"layers": Points(x)}, rows, "accuracy", out, "stand-in", "synthetic",
                           c_grid={"layers": (1.0,)}, background=("pheme", "everyday_negatives"),
                           max_background_flagged=0.05, **kw)
        return json.loads((out / "conspiracy.json").read_text())

    (tmp_path / "pooled").mkdir()
    (tmp_path / "capped").mkdir()
    pooled = fit(tmp_path / "pooled")
    capped = fit(tmp_path / "capped", max_flagged_by_source={"everyday_negatives": 0.05})
    head = Head("conspiracy", load_file(str(tmp_path / "capped" / "conspiracy.safetensors")), capped)
    p = head.predict(everyday)[:, 0]  # the capped head, at each head's threshold
    assert pooled["oof"]["background_flagged"] <= 0.05 and np.mean(p >= pooled["threshold"]) > 0.5
    assert capped["threshold"] > pooled["threshold"] and np.mean(p >= capped["threshold"]) <= 0.1
    assert capped["oof"]["everyday_negatives_flagged"] <= 0.05
    assert "<= 5% of everyday_negatives rows" in capped["calibration"]


class Indexed(Points):
    """Like ``Points``, for texts that are words: each text names its row through a dict."""

    def __init__(self, x, texts):
        super().__init__(x)
        self.row = {t: i for i, t in enumerate(texts)}

    def fit(self, texts):
        return super().fit([str(self.row[t]) for t in texts])


def test_an_ngram_mixture_is_chosen_when_the_words_carry_the_signal(tmp_path):
    # the encoder features are noise; whether a post is positive shows only in its words (10% label noise)
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (rng.uniform(size=n) < 0.5).astype(int)
    shown = np.where(rng.uniform(size=n) < 0.9, y, 1 - y)
    texts = [f"post {i}: " + ("everyone to the hostel gates tonight" if s else "quiz at the legion on friday")
             for i, s in enumerate(shown)]
    rows = [D.Example(t, int(v), "train", "covid_vaccine_conspiracy") for t, v in zip(texts, y)]
    report = binary_head.train_binary("conspiracy", {"layers": Indexed(x, texts)}, rows, "accuracy", tmp_path, "stand-in",
                                "synthetic", c_grid={"layers": (1.0,)}, ngram={"C": (1.0,), "mix": (0.3, 0.7)},
                                fold_seeds=(1, 2))
    meta = json.loads((tmp_path / "conspiracy.json").read_text())
    plain = [c for c in meta["candidates"] if "ngram_mix" not in c]
    assert plain[0]["accuracy"] < 0.65  # the features alone: about chance
    assert report["ngram_mix"] == meta["ngram_mix"] == 0.7 and meta["ngram"]["C"] == 1.0
    assert report["oof_objective"] > 0.85
    assert "n-gram C and mixture weight" in meta["calibration"] and "mean over 2 fold splits" in meta["calibration"]
    # the written head mixes the n-gram model in, so it needs the texts as well as the features
    head = Head("conspiracy", load_file(str(tmp_path / "conspiracy.safetensors")), meta)
    fresh = ["a new post: everyone to the hostel gates tonight", "a new post: quiz at the legion on friday"]
    p = head.predict(rng.normal(size=(2, 4)).astype(np.float32), fresh)[:, 0]
    assert p[0] >= meta["threshold"] > p[1]
    with pytest.raises(ValueError, match="also needs the texts"):
        head.predict(x[:2])

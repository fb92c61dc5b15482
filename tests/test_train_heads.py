"""``python -m classifiers.train --heads ...`` retrains the named heads and keeps the others byte for byte
(the training itself is replaced by recorders here: the shipped heads are not retrained by the tests)."""

from __future__ import annotations

import shutil
import types
from pathlib import Path

import pytest

from classifiers import train

MODELS = Path(train.__file__).resolve().parent / "models"


@pytest.fixture
def recorded(monkeypatch):
    """Stand-ins for the encoder cache and the three trainers; returns the names of the heads trained."""
    trained: list[str] = []

    class Cache:
        def __init__(self, cache_dir=None, backend="onnx"):
            self.encoder = types.SimpleNamespace(version="stand-in encoder")

    monkeypatch.setattr(train, "EmbeddingCache", Cache)
    monkeypatch.setattr(train, "train_and_write", lambda *a, **k: trained.append("hate") or {
        "thresholds": {}, "training": {"minutes": 0}, "test": {}})
    monkeypatch.setattr(train, "train_binary", lambda name, *a, **k: trained.append(name) or {})
    return trained


def test_heads_option_trains_only_the_named_head_and_keeps_the_word_list(recorded, tmp_path):
    out = tmp_path / "models"
    shutil.copytree(MODELS, out)
    kept = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith("mobilisation")}
    train.main(["--out", str(out), "--no-eval", "--heads", "mobilisation"])
    assert recorded == ["mobilisation"]
    # words.json is built from the hate head's rows: without that head it stays as it was
    assert {name: (out / name).read_bytes() for name in kept} == kept


def test_every_head_is_trained_by_default(recorded, tmp_path):
    train.main(["--out", str(tmp_path / "models"), "--no-eval"])
    assert recorded == ["hate", "conspiracy", "mobilisation"]
    assert (tmp_path / "models" / "words.json").exists()


def test_keeping_heads_that_were_never_trained_is_a_one_line_error(recorded, tmp_path):
    with pytest.raises(SystemExit) as e:
        train.main(["--out", str(tmp_path / "empty"), "--no-eval", "--heads", "mobilisation"])
    assert "no trained hate, conspiracy to keep" in str(e.value)
    assert recorded == []


def test_kept_report_carries_the_other_heads_training_figures():
    report = train.kept_report(MODELS, ["mobilisation"])
    assert set(report) == {"hate", "conspiracy"}
    assert report["hate"]["thresholds"]["hate"] > 0

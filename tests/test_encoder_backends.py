"""The ONNX Runtime int8 encoder backend agrees with the torch encoder and caches its export."""

from __future__ import annotations

import numpy as np
from pathlib import Path

import pytest

from classifiers.encoder import DIMENSIONS, LAYERS, MAX_TOKEN_STATES, TOKEN_LAYERS, Encoder
from classifiers.encoder_onnx import OnnxEncoder, default_cache_dir
from classifiers.encoders import make_encoder

TEXTS = [
    "Road closed on the A595 near Workington after a crash, avoid if you can.",
    "Muslims are a disease and should be thrown out of Britain.",
    "What a brilliant day at the carnival, thank you to all the volunteers!",
    "The floods were no accident, the elites engineered them and the media hides it.",
    "Right lads, Travelodge on Station Road, 8pm tonight. Bring everyone.",
    "ok",
    "bins not collected AGAIN in Cleator Moor #CA25 😡😡",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_encoder(cache_dir):
    return OnnxEncoder(threads=2, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def torch_encoder():
    return Encoder(threads=2)


def test_export_happens_once_and_is_reused(cache_dir, onnx_encoder):
    assert onnx_encoder.exported and onnx_encoder.model_path.is_file()
    assert onnx_encoder.model_path.is_relative_to(cache_dir)
    again = OnnxEncoder(threads=1, cache_dir=cache_dir)
    assert not again.exported and again.model_path == onnx_encoder.model_path
    assert not list(onnx_encoder.model_path.parent.glob(".export-*"))  # no temporary left behind


def test_vectors_match_the_torch_backend(onnx_encoder, torch_encoder):
    v_onnx, l_onnx = onnx_encoder.encode_with_layers(TEXTS)
    v_torch, l_torch = torch_encoder.encode_with_layers(TEXTS)
    assert v_onnx.shape == (len(TEXTS), DIMENSIONS) and v_onnx.dtype == np.float32
    assert l_onnx.shape == (len(TEXTS), LAYERS * DIMENSIONS) and l_onnx.dtype == np.float32
    assert np.allclose(np.linalg.norm(v_onnx, axis=1), 1.0, atol=1e-4)
    cos = (v_onnx * v_torch).sum(axis=1)
    assert cos.mean() > 0.98 and cos.min() > 0.95, cos
    for k in range(LAYERS):  # every layer pool, not only the last
        a, b = l_onnx[:, k * DIMENSIONS:(k + 1) * DIMENSIONS], l_torch[:, k * DIMENSIONS:(k + 1) * DIMENSIONS]
        layer_cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        assert layer_cos.mean() > 0.97, (k, layer_cos)
    # the last layer pool is the unnormalised sentence vector, as in the torch encoder
    last = l_onnx[:, -DIMENSIONS:]
    assert np.allclose(last / np.linalg.norm(last, axis=1, keepdims=True), v_onnx, atol=1e-5)


def test_token_states_match_the_torch_backend_and_leave_the_pools_alone(onnx_encoder, torch_encoder):
    long = " ".join(["word"] * 150)  # truncated to MAX_TOKEN_STATES token states
    texts = TEXTS + [long]
    v, lay, tok = onnx_encoder.encode_with_layers(texts, tokens=True)
    _, _, tok_torch = torch_encoder.encode_with_layers(texts, tokens=True)
    assert np.array_equal(lay, onnx_encoder.encode_with_layers(texts)[1])  # same pass, same pools
    assert tok.states.dtype == np.float32 and tok.states.shape[1] == len(TOKEN_LAYERS) * DIMENSIONS
    assert list(tok.lengths) == list(tok_torch.lengths) and tok.lengths[-1] == MAX_TOKEN_STATES
    assert len(tok.states) == tok.lengths.sum()  # no padding
    for i in range(len(texts)):
        rows = tok.rows_of([i])
        a, b = tok.states[rows], tok_torch.states[rows]
        cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
        assert cos.mean() > 0.95, (texts[i], cos)
    # the last layer's states are the second half; their mean is the last layer pool
    first = tok.states[tok.rows_of([0]), DIMENSIONS:]
    assert np.allclose(first.mean(0), lay[0, -DIMENSIONS:], atol=1e-3)
    copies = onnx_encoder.encode_with_layers([TEXTS[1], TEXTS[0], TEXTS[1]], tokens=True)[2]
    assert len(copies) == 3 and np.array_equal(copies.states[copies.rows_of([0])], copies.states[copies.rows_of([2])])
    padded, mask = copies.padded([0, 1])
    assert padded.shape[:2] == mask.shape and mask.sum() == copies.lengths[:2].sum() and not padded[~mask].any()


def test_identical_texts_are_encoded_once(onnx_encoder, monkeypatch):
    rows: list[int] = []

    class CountingSession:
        def __init__(self, session):
            self.session = session

        def run(self, outputs, feeds):
            rows.append(len(feeds["input_ids"]))
            return self.session.run(outputs, feeds)

    monkeypatch.setattr(onnx_encoder, "session", CountingSession(onnx_encoder.session))
    texts = [TEXTS[0], TEXTS[1], TEXTS[0], TEXTS[0], TEXTS[1]]
    vectors = onnx_encoder.encode(texts)
    assert sum(rows) == 2
    assert np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[1], vectors[4])
    alone = onnx_encoder.encode([TEXTS[0]])[0]
    # int8 activation scales are per batch (dynamic quantisation), so a text encoded alone drifts a
    # little from the same text encoded with others (cos ~0.97-0.995 measured); same call = identical.
    assert float(alone @ vectors[0]) > 0.95


def test_empty_input(onnx_encoder):
    vectors, layers = onnx_encoder.encode_with_layers([])
    assert vectors.shape == (0, DIMENSIONS) and layers.shape == (0, LAYERS * DIMENSIONS)
    assert onnx_encoder.encode([]).shape == (0, DIMENSIONS)
    assert onnx_encoder.encode([""]).shape == (1, DIMENSIONS)
    assert len(onnx_encoder.encode_with_layers([], tokens=True)[2]) == 0


def test_tokenizer_matches_transformers(onnx_encoder, torch_encoder):
    for text in TEXTS + ["x " * 300]:
        ours = onnx_encoder.tokenizer.encode(text).ids
        theirs = torch_encoder.tokenizer(text, truncation=True, max_length=128)["input_ids"]
        assert ours == theirs


def test_factory(cache_dir):
    assert default_cache_dir() == Path("var") / "cache" / "onnx"
    enc = make_encoder("onnx", threads=1, cache_dir=cache_dir)
    assert isinstance(enc, OnnxEncoder) and enc.version.endswith("+onnx-int8") and not enc.exported
    with pytest.raises(ValueError):
        make_encoder("tensorflow")


def test_the_hate_model_rides_in_the_same_pass_and_agrees_with_torch(cache_dir, torch_encoder):
    """The fine-tuned hate model's outputs come from the one encoder pass (a separate export, keyed by the
    weights); its int8 numbers agree with the float32 torch branch, and the shared outputs do not change."""
    from classifiers.hate_model import OUTPUTS, WEIGHTS_FILE
    from classifiers.heads import MODELS_DIR

    weights = MODELS_DIR / WEIGHTS_FILE
    plain = OnnxEncoder(threads=2, cache_dir=cache_dir)
    with_hate = OnnxEncoder(threads=2, cache_dir=cache_dir, branch=weights)
    assert with_hate.model_path != plain.model_path  # a new model gets a fresh export
    v, lay, verdicts = with_hate.encode_with_layers(TEXTS, verdicts=True)
    assert verdicts.shape == (len(TEXTS), len(OUTPUTS)) and verdicts.dtype == np.float32
    assert ((verdicts >= 0) & (verdicts <= 1)).all()
    v0, lay0 = plain.encode_with_layers(TEXTS)
    assert np.allclose(v, v0, atol=1e-4) and np.allclose(lay, lay0, atol=1e-3)
    _, _, torch_verdicts = Encoder(threads=2, branch=weights).encode_with_layers(TEXTS, verdicts=True)
    assert np.abs(verdicts - torch_verdicts).max() < 0.1, np.abs(verdicts - torch_verdicts).max(axis=0)
    assert with_hate.encode_with_layers([], verdicts=True)[-1].shape == (0, len(OUTPUTS))
    with pytest.raises(ValueError, match="no hate model"):
        plain.encode_with_layers(TEXTS, verdicts=True)

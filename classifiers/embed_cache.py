"""On-disk cache of encoder outputs keyed by (encoder version, feature kind, sha1 of text), for training and
benchmarks.

Lives under ``var/cache/embeddings`` (git-ignored; never committed). Plain ``.npy`` (no pickle) plus a
text file of hashes in the same row order; new vectors are appended as another shard. Two feature kinds
are kept in separate directories and never mixed:

* ``embedding``: the (n, 384) L2-normalised sentence vectors, ``embeddings/<encoder version>/``
  (the historical layout, so the existing cache stays warm);
* ``layers``: the (n, 6 * 384) float32 mean pools of every transformer layer from the same forward pass
  (``Encoder.encode_with_layers``), ``embeddings/<encoder version>__layers/``.

Missing texts are encoded by one ``encode_with_layers`` pass that fills both kinds (the sentence vectors
are identical to ``Encoder.encode``'s output). Token states (``tokens``: up to 64 x 768 values a text, for the
heads that attend over them) are not kept on disk; ``tokens(texts)`` runs the encoder each time.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path(os.environ.get("TENSION_CACHE_DIR", Path(__file__).resolve().parent.parent / "var" / "cache"))
FEATURE_KINDS = ("embedding", "layers")  # the values a head's JSON ``input`` may take


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class _Store:
    """Append-only shards of one feature kind for one encoder version."""

    def __init__(self, directory: Path):
        self.dir = directory
        self._index: dict[str, tuple[int, int]] | None = None
        self._shards: list[np.ndarray] = []

    def load(self) -> None:
        if self._index is not None:
            return
        self._index, self._shards = {}, []
        if not self.dir.exists():
            return
        for keys_file in sorted(self.dir.glob("shard-*.keys")):
            vec_file = keys_file.with_suffix(".npy")
            if not vec_file.exists():
                continue
            vecs = np.load(vec_file, allow_pickle=False)
            keys = keys_file.read_text().split()
            if len(keys) != len(vecs):
                continue
            s = len(self._shards)
            self._shards.append(vecs)
            for i, k in enumerate(keys):
                self._index[k] = (s, i)

    def __contains__(self, key: str) -> bool:
        self.load()
        return key in self._index

    def put(self, keys: list[str], vecs: np.ndarray) -> None:
        self.load()
        keep = [i for i, k in enumerate(keys) if k not in self._index]
        if not keep:
            return
        keys, vecs = [keys[i] for i in keep], np.ascontiguousarray(vecs[keep], dtype=np.float32)
        self.dir.mkdir(parents=True, exist_ok=True)
        n = len(list(self.dir.glob("shard-*.keys")))
        stem = self.dir / f"shard-{n:04d}-{os.getpid()}"
        np.save(stem.with_suffix(".npy"), vecs, allow_pickle=False)
        stem.with_suffix(".keys").write_text("\n".join(keys) + "\n")
        s = len(self._shards)
        self._shards.append(vecs)
        for i, k in enumerate(keys):
            self._index[k] = (s, i)

    def get(self, keys: Sequence[str], dim: int) -> np.ndarray:
        self.load()
        out = np.empty((len(keys), dim), dtype=np.float32)
        for j, k in enumerate(keys):
            s, i = self._index[k]
            out[j] = self._shards[s][i]
        return out


class EmbeddingCache:
    """Features of one encoder, cached. Without ``encoder`` it builds ``backend`` ("onnx", the service's
    default, or "torch"); the ONNX export goes to ``$TENSION_MODEL_CACHE`` or ``<cache_dir>/onnx``."""

    def __init__(self, encoder=None, cache_dir: Path | None = None, backend: str = "onnx"):
        self._encoder = encoder
        self.backend = backend
        self.root = Path(cache_dir or DEFAULT_DIR)
        self.cache_dir = self.root / "embeddings"
        self._stores: dict[str, _Store] = {}

    @property
    def encoder(self):
        if self._encoder is None:
            from .encoders import make_encoder
            exports = os.environ.get("TENSION_MODEL_CACHE") or self.root / "onnx"
            self._encoder = make_encoder(self.backend, threads=os.cpu_count() or 2, cache_dir=exports)
        return self._encoder

    def dir_for(self, kind: str = "embedding") -> Path:
        if kind not in FEATURE_KINDS:
            raise ValueError(f"unknown feature kind {kind!r} (expected one of {FEATURE_KINDS})")
        version = re.sub(r"[^A-Za-z0-9_.+-]", "_", self.encoder.version)
        return self.cache_dir / (version if kind == "embedding" else f"{version}__{kind}")

    @property
    def dir(self) -> Path:
        return self.dir_for("embedding")

    def _store(self, kind: str) -> _Store:
        if kind not in self._stores:
            self._stores[kind] = _Store(self.dir_for(kind))
        return self._stores[kind]

    def _fill(self, texts: Sequence[str], keys: list[str], kind: str, progress: bool) -> None:
        store = self._store(kind)
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in store and k not in missing:
                missing[k] = t
        if not missing:
            return
        new_keys, step = list(missing), 2048
        for start in range(0, len(new_keys), step):
            chunk = new_keys[start:start + step]
            chunk_texts = [missing[k] for k in chunk]
            vecs, layers = self.encoder.encode_with_layers(chunk_texts)  # one pass fills both kinds
            self._store("embedding").put(chunk, vecs)
            self._store("layers").put(chunk, layers)
            if progress:
                print(f"  encoded {min(start + step, len(new_keys))}/{len(new_keys)} new texts ({kind})", flush=True)

    def features(self, texts: Sequence[str], kind: str = "embedding", progress: bool = False) -> np.ndarray:
        """(n, d) float32 features of one kind (``embedding`` 384-d or ``layers`` 2,304-d), in input order."""
        keys = [_key(t) for t in texts]
        self._fill(texts, keys, kind, progress)
        from .encoder import DIMENSIONS, LAYERS
        return self._store(kind).get(keys, DIMENSIONS if kind == "embedding" else LAYERS * DIMENSIONS)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.features(texts, "embedding", progress)

    def layers(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self.features(texts, "layers", progress)

    def encode_with_layers(self, texts: Sequence[str], progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Same contract as ``Encoder.encode_with_layers``: (vectors (n, 384), layers (n, 2304))."""
        layers = self.layers(texts, progress)
        return self.encode(texts), layers

    def verdicts(self, texts: Sequence[str], branch: Path | None = None) -> np.ndarray:
        """The fine-tuned hate model's (n, OUTPUTS) probabilities for the texts (kept in memory for this run, not
        on disk: the weights change with every training run). ``branch``: its weights, default the shipped model."""
        from .hate_model import WEIGHTS_FILE
        from .heads import MODELS_DIR

        branch = Path(branch or MODELS_DIR / WEIGHTS_FILE)
        if getattr(self, "_branch", None) != branch:
            from .encoders import make_encoder
            exports = os.environ.get("TENSION_MODEL_CACHE") or self.root / "onnx"
            self._with_branch = make_encoder(self.backend, threads=os.cpu_count() or 2, cache_dir=exports,
                                             branch=branch)
            self._branch, self._verdicts = branch, {}
        new = [t for t in dict.fromkeys(texts) if t not in self._verdicts]  # each text once per run
        if new:
            self._verdicts.update(zip(new, self._with_branch.encode_with_layers(new, verdicts=True)[-1]))
        from .hate_model import OUTPUTS

        if not len(texts):
            return np.zeros((0, len(OUTPUTS)), np.float32)
        return np.stack([self._verdicts[t] for t in texts]).astype(np.float32)

    def tokens(self, texts: Sequence[str], progress: bool = False):
        """``encoder.TokenStates`` of the texts, in input order, as float16 (encoded now, not cached: about 50 KB
        a text)."""
        from .encoder import TokenStates

        parts, step = [], 2048
        for start in range(0, len(texts), step):
            got = self.encoder.encode_with_layers(list(texts[start:start + step]), tokens=True)[2]
            parts.append(TokenStates(got.states.astype(np.float16), got.lengths))
            if progress:
                print(f"  token states {min(start + step, len(texts))}/{len(texts)}", flush=True)
        return TokenStates.join(parts)

"""On-disk cache of encoder vectors keyed by (encoder version, sha1 of text), for training and benchmarks.

Lives under ``var/cache/embeddings`` (git-ignored; never committed). Plain ``.npy`` (no pickle) plus a
text file of hashes in the same row order; new vectors are appended as another shard.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path(os.environ.get("TENSION_CACHE_DIR", Path(__file__).resolve().parent.parent / "var" / "cache"))


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, encoder=None, cache_dir: Path | None = None):
        self._encoder = encoder
        self._version = None
        self.cache_dir = Path(cache_dir or DEFAULT_DIR) / "embeddings"
        self._index: dict[str, tuple[int, int]] | None = None
        self._shards: list[np.ndarray] = []

    @property
    def encoder(self):
        if self._encoder is None:
            from .encoder import Encoder
            self._encoder = Encoder(threads=os.cpu_count() or 2)
        return self._encoder

    @property
    def dir(self) -> Path:
        version = re.sub(r"[^A-Za-z0-9_.+-]", "_", self.encoder.version)
        return self.cache_dir / version

    def _load(self) -> None:
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

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self._load()
        keys = [_key(t) for t in texts]
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in self._index and k not in missing:
                missing[k] = t
        if missing:
            new_keys = list(missing)
            vecs = []
            step = 4096
            for start in range(0, len(new_keys), step):
                chunk = new_keys[start:start + step]
                vecs.append(self.encoder.encode([missing[k] for k in chunk]))
                if progress:
                    print(f"  encoded {min(start + step, len(new_keys))}/{len(new_keys)} new texts", flush=True)
            vecs = np.concatenate(vecs).astype(np.float32)
            self.dir.mkdir(parents=True, exist_ok=True)
            n = len(list(self.dir.glob("shard-*.keys")))
            stem = self.dir / f"shard-{n:04d}-{os.getpid()}"
            np.save(stem.with_suffix(".npy"), vecs, allow_pickle=False)
            stem.with_suffix(".keys").write_text("\n".join(new_keys) + "\n")
            s = len(self._shards)
            self._shards.append(vecs)
            for i, k in enumerate(new_keys):
                self._index[k] = (s, i)
        out = np.empty((len(texts), vecs.shape[1] if missing else self._dim()), dtype=np.float32)
        for j, k in enumerate(keys):
            s, i = self._index[k]
            out[j] = self._shards[s][i]
        return out

    def _dim(self) -> int:
        return self._shards[0].shape[1] if self._shards else 384

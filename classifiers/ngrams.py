"""Hashed character n-gram + word n-gram features in pure numpy (no sklearn at inference).

Text is lower-cased and whitespace-collapsed; character n-grams (2..5, across word boundaries) and word
uni/bi-grams are hashed with a fixed 64-bit polynomial (stable across runs and machines) into
``2**bits`` buckets. Features are sublinear tf (1 + log count) times idf, L2-normalised per post, i.e. a
TF-IDF vector like sklearn's, but computed here with vectorised numpy over a whole batch (~10-20 us/post).
A linear model over them is ``scores = features @ W + b``; ``LinearNgramModel.logits`` does that sparsely.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_WS = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9@#']+|[^\sa-z0-9]")
_MULT = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(1000003)


def _norm(text: str) -> str:
    return " " + _WS.sub(" ", (text or "").lower()).strip() + " "


def _mix(h: np.ndarray, bits: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return ((h * _MULT) >> np.uint64(64 - bits)).astype(np.int64)


def _ngram_hashes(codes: np.ndarray, doc: np.ndarray, n_min: int, n_max: int, salt: int, bits: int):
    """Hash every n-gram of ``codes`` (one flat array for the batch) that stays inside one document."""
    rows, cols = [], []
    with np.errstate(over="ignore"):
        for n in range(n_min, n_max + 1):
            m = len(codes) - n + 1
            if m <= 0:
                continue
            h = np.full(m, np.uint64(salt * 1315423911 + n), dtype=np.uint64)
            for k in range(n):
                h = h * _BASE + codes[k:k + m]
            ok = doc[:m] == doc[n - 1:n - 1 + m]
            rows.append(doc[:m][ok])
            cols.append(_mix(h[ok], bits))
    return rows, cols


def hashed_counts(texts: Sequence[str], bits: int = 18) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc, bucket, count) triples, unique per (doc, bucket)."""
    normed = [_norm(t) for t in texts]
    rows, cols = [], []
    if normed:
        # characters 2..5
        lens = np.array([len(s) for s in normed])
        codes = np.frombuffer("".join(normed).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        doc = np.repeat(np.arange(len(normed)), lens)
        r, c = _ngram_hashes(codes, doc, 2, 5, 1, bits)
        rows += r
        cols += c
        # words 1..2 (each word id is itself a hash of its characters)
        words = [_WORD.findall(s) for s in normed]
        flat = [w for ws in words for w in ws]
        if flat:
            wid = np.array([hash_word(w) for w in flat], dtype=np.uint64)
            wdoc = np.repeat(np.arange(len(words)), [len(ws) for ws in words])
            r, c = _ngram_hashes(wid, wdoc, 1, 2, 2, bits)
            rows += r
            cols += c
    if not rows:
        z = np.zeros(0, np.int64)
        return z, z, z
    key = np.concatenate(rows) * (1 << bits) + np.concatenate(cols)
    uniq, counts = np.unique(key, return_counts=True)
    return uniq >> bits, uniq & ((1 << bits) - 1), counts


def hash_word(w: str) -> int:
    h = 1469598103934665603  # FNV-1a 64
    for b in w.encode("utf-8"):
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def tfidf(texts: Sequence[str], idf: np.ndarray, counts=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc, bucket, value) of L2-normalised sublinear-tf x idf features. ``counts``: these texts'
    ``hashed_counts`` at the idf's width, when already computed (several models read the same posts)."""
    bits = int(np.log2(len(idf)))
    d, b, c = counts if counts is not None else hashed_counts(texts, bits)
    v = (1.0 + np.log(c)).astype(np.float32) * idf[b]
    norms = np.sqrt(np.bincount(d, weights=v * v, minlength=len(texts)))
    v = v / np.maximum(norms[d], 1e-12)
    return d, b, v.astype(np.float32)


def fit_idf(texts: Sequence[str], bits: int = 18) -> np.ndarray:
    d, b, _ = hashed_counts(texts, bits)
    df = np.bincount(b, minlength=1 << bits)
    return (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float32)


def sparse_matrix(texts: Sequence[str], idf: np.ndarray):
    """scipy CSR matrix of the features (training only)."""
    from scipy.sparse import csr_matrix
    d, b, v = tfidf(texts, idf)
    return csr_matrix((v, (d, b)), shape=(len(texts), len(idf)))


class LinearNgramModel:
    """logits = tfidf(texts) @ weight + bias, computed sparsely; weight (2**bits, k), idf (2**bits,)."""

    def __init__(self, idf: np.ndarray, weight: np.ndarray, bias: np.ndarray):
        self.idf = idf.astype(np.float32)
        self.weight = weight.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.bits = int(np.log2(len(self.idf)))

    def logits(self, texts: Sequence[str], counts=None) -> np.ndarray:
        """``counts``: ``hashed_counts(texts, self.bits)`` if the caller has it already."""
        d, b, v = tfidf(texts, self.idf, counts)
        out = np.zeros((len(texts), self.weight.shape[1]), dtype=np.float64)
        contrib = self.weight[b] * v[:, None]
        for k in range(self.weight.shape[1]):
            out[:, k] = np.bincount(d, weights=contrib[:, k], minlength=len(texts))
        return (out + self.bias).astype(np.float32)

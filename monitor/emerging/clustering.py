"""Stories in one window: density clusters of post embeddings, merged by shared distinctive terms.

Pure functions over arrays and texts; nothing here touches the store.

Why two steps. HDBSCAN over sentence embeddings finds tight groups, but a rumour is told in a
dozen wordings ("the fire at Harker & Benn was no accident", "is it true about the Lowmill
fire and the Marlbeck lot?") and MiniLM puts each wording in its own group; their centroids
are no closer to each other (cosine 0.4-0.6) than to unrelated tense talk about the same town.
What the wordings share is their rare words: the names of the premises, the hostel, the
estate. So fine clusters are merged when their most distinctive terms (c-TF-IDF against the
whole window, place names left out because every story in a town shares those) overlap, or
when their centroids are very close.

Scale. HDBSCAN is superlinear; above ``max_points`` it is fitted on an evenly spaced sample
and every other post joins the cluster of its nearest centroid when it is as close as that
cluster's own members are, else it stays unclustered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from monitor.privacy import excerpt, scrub

_TOKEN = r"(?u)\b[^\W\d_][\w'&]+\b"
REDUCE_ABOVE = 2_000
REDUCED_DIMS = 32


@dataclass(frozen=True)
class Found:
    """One story in a window: the rows (indexes into the window's posts) and how to show it."""

    members: tuple[int, ...]
    centroid: np.ndarray  # unit length
    terms: tuple[str, ...]
    excerpts: tuple[str, ...]


def clean(text: str) -> str:
    """The words to count: no addresses, links or accounts, hashtags as words, one line."""
    return " ".join(scrub(text, markers=False).replace("#", " #").split())


def fine_clusters(vectors: np.ndarray, *, min_size: int, max_points: int,
                  min_samples: int = 3) -> np.ndarray:
    """A label per row (-1 for none) from HDBSCAN on the unit vectors."""
    n = len(vectors)
    if n < max(min_size, 2):
        return np.full(n, -1)
    if n <= max_points:
        return _hdbscan(vectors, min_size, min_samples)
    sample = np.linspace(0, n - 1, max_points).astype(int)
    fitted = _hdbscan(vectors[sample], min_size, min_samples)
    labels = np.full(n, -1)
    labels[sample] = fitted
    ids = sorted(set(fitted) - {-1})
    if not ids:
        return labels
    centroids = np.stack([_unit(vectors[sample[fitted == k]].mean(axis=0)) for k in ids])
    floor = np.array([float((vectors[sample[fitted == k]] @ centroids[i]).min())
                      for i, k in enumerate(ids)])
    rest = np.setdiff1d(np.arange(n), sample)
    for start in range(0, len(rest), 8192):
        chunk = rest[start:start + 8192]
        sims = vectors[chunk] @ centroids.T
        best = sims.argmax(axis=1)
        close = sims[np.arange(len(chunk)), best] >= floor[best]
        labels[chunk[close]] = np.array(ids)[best[close]]
    return labels


def _hdbscan(vectors: np.ndarray, min_size: int, min_samples: int) -> np.ndarray:
    """HDBSCAN's trees do badly in 384 dimensions (15,000 posts: 192 s here); above
    ``REDUCE_ABOVE`` points it runs on the top ``REDUCED_DIMS`` principal components (8 s)."""
    if len(vectors) > REDUCE_ABOVE and vectors.shape[1] > REDUCED_DIMS:
        vectors = PCA(REDUCED_DIMS, random_state=0).fit_transform(vectors)
    return HDBSCAN(min_cluster_size=min_size, min_samples=min_samples, copy=True).fit_predict(vectors)


def distinctive_terms(texts: Sequence[str], groups: Sequence[Sequence[int]], *, top: int,
                      ignore: Iterable[str] = ()) -> list[tuple[str, ...]]:
    """c-TF-IDF (BERTopic's class-based TF-IDF): each group's words weighted by how much more
    often they occur in the group than in the whole window."""
    if not groups:
        return []
    stop = list(ENGLISH_STOP_WORDS | {w.lower() for w in ignore} | {"just", "like", "know", "people"})
    vectorizer = CountVectorizer(stop_words=stop, token_pattern=_TOKEN, lowercase=True, min_df=1)
    try:
        counts = vectorizer.fit_transform([clean(t) for t in texts])
    except ValueError:  # nothing but stop words
        return [() for _ in groups]
    vocab = np.array(vectorizer.get_feature_names_out())
    per_group = np.vstack([np.asarray(counts[list(g)].sum(axis=0)).ravel() for g in groups])
    total = np.asarray(counts.sum(axis=0)).ravel()
    average = counts.sum() / max(len(groups), 1)
    idf = np.log(1 + average / np.maximum(total, 1))
    tf = per_group / np.maximum(per_group.sum(axis=1, keepdims=True), 1)
    weights = tf * idf
    out = []
    for row, count in zip(weights, per_group):
        order = np.argsort(-row)
        out.append(tuple(str(vocab[i]) for i in order[:top] if count[i] >= 2 and row[i] > 0))
    return out


def stories(vectors: np.ndarray, texts: Sequence[str], *, min_size: int, max_points: int,
            merge_terms: int = 2, merge_cosine: float = 0.75, top_terms: int = 8,
            ignore_terms: Iterable[str] = ()) -> list[Found]:
    """The window's stories, largest first."""
    labels = fine_clusters(vectors, min_size=min_size, max_points=max_points)
    fine = [np.flatnonzero(labels == k) for k in sorted(set(labels) - {-1})]
    if not fine:
        return []
    ignore = set(ignore_terms)
    terms = distinctive_terms(texts, fine, top=top_terms, ignore=ignore)
    centroids = np.stack([_unit(vectors[g].mean(axis=0)) for g in fine])
    parent = list(range(len(fine)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = centroids @ centroids.T
    for a in range(len(fine)):
        for b in range(a + 1, len(fine)):
            shared = len(set(terms[a]) & set(terms[b]))
            if shared >= merge_terms or close[a, b] >= merge_cosine:
                parent[root(b)] = root(a)
    merged: dict[int, list[int]] = {}
    for i, group in enumerate(fine):
        merged.setdefault(root(i), []).extend(group.tolist())
    groups = sorted((sorted(g) for g in merged.values()), key=len, reverse=True)
    labels_terms = distinctive_terms(texts, groups, top=top_terms, ignore=ignore)
    found = []
    for group, words in zip(groups, labels_terms):
        centroid = _unit(vectors[group].mean(axis=0))
        nearest = np.asarray(group)[np.argsort(-(vectors[group] @ centroid))]
        shown: list[str] = []
        for i in nearest:
            text = excerpt(texts[i])
            if text and text.lower() not in {s.lower() for s in shown}:
                shown.append(text)
            if len(shown) == 3:
                break
        found.append(Found(tuple(group), centroid, words, tuple(shown)))
    return found


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else v.astype(np.float32)

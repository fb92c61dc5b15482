"""Stories in one window: density clusters of post embeddings, merged by shared distinctive terms.

Pure functions over arrays and texts; nothing here touches the store.

Why two steps. HDBSCAN over sentence embeddings finds tight groups, but a rumour is told in a
dozen wordings ("the fire at Harker & Benn was no accident", "is it true about the Lowmill
fire and the Marlbeck lot?") and MiniLM puts each wording in its own group; their centroids
are no closer to each other (cosine 0.4-0.6) than to unrelated tense talk about the same town.
What the wordings share is their rare words: the names of the premises, the hostel, the
estate. So fine clusters are merged when their most distinctive terms (c-TF-IDF against the
whole window, place names left out because every story in a town shares those) overlap, or
when their centroids are very close, or when both use the same name: a word the encoder's
vocabulary does not know ("Marlbeck", "Lowmill", "Harker"), in at least two posts of each.
The names rule was added when the demo's rumour, told as blame, hearsay and "is it true",
split into four stories in one day, none of them over the reporting line, although each
named the same hostel or firm; the c-TF-IDF lists did not overlap because each wording's own
words outrank the shared name. Known words such as "Muslims" or "hostel" never link stories
on their own.

Scale. HDBSCAN is superlinear; above ``max_points`` it is fitted on an evenly spaced sample
and every other post joins the cluster of its nearest centroid when it is as close as that
cluster's own members are, else it stays unclustered.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from monitor.privacy import clean_excerpt, term_text

_TOKEN = r"(?u)\b[^\W\d_][\w'&]+\b"
_WORD = re.compile(r"(?u)\b[^\W\d_]+(?:'s)?\b")
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
    return " ".join(term_text(text).replace("#", " #").split())


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


def shared_names(texts: Sequence[str], groups: Sequence[Sequence[int]], *, known_words: Collection[str],
                 ignore: Iterable[str] = (), min_posts: int = 2) -> list[set[str]]:
    """Per group, the names its posts share: words outside ``known_words`` (and ``ignore``), of
    four letters or more, used by at least ``min_posts`` of its posts and written with a capital
    in at least half of those uses (so slang and typos, written in lower case, do not count)."""
    if not known_words:
        return [set() for _ in groups]
    skip = {w.lower() for w in ignore}
    out = []
    for group in groups:
        posts: dict[str, int] = {}
        capitalised: dict[str, int] = {}
        for i in group:
            uses: dict[str, bool] = {}
            for match in _WORD.finditer(clean(texts[i])):
                word = match.group().removesuffix("'s")
                key = word.lower()
                if len(key) >= 4 and key not in known_words and key not in skip:
                    uses[key] = uses.get(key, False) or word[0].isupper()
            for key, upper in uses.items():
                posts[key] = posts.get(key, 0) + 1
                capitalised[key] = capitalised.get(key, 0) + upper
        out.append({w for w, n in posts.items() if n >= min_posts and capitalised[w] * 2 >= n})
    return out


def stories(vectors: np.ndarray, texts: Sequence[str], *, min_size: int, max_points: int,
            merge_terms: int = 2, merge_cosine: float = 0.75, top_terms: int = 8,
            ignore_terms: Iterable[str] = (), known_words: Collection[str] = ()) -> list[Found]:
    """The window's stories, largest first. ``known_words`` (the encoder's vocabulary) turns on
    merging by a shared name; without it only terms and centroids merge."""
    labels = fine_clusters(vectors, min_size=min_size, max_points=max_points)
    fine = [np.flatnonzero(labels == k) for k in sorted(set(labels) - {-1})]
    if not fine:
        return []
    ignore = set(ignore_terms)
    terms = distinctive_terms(texts, fine, top=top_terms, ignore=ignore)
    names = shared_names(texts, fine, known_words=known_words, ignore=ignore | set(ENGLISH_STOP_WORDS))
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
            if shared >= merge_terms or close[a, b] >= merge_cosine or names[a] & names[b]:
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
            text = clean_excerpt(texts[i])
            if text and text.lower() not in {s.lower() for s in shown}:
                shown.append(text)
            if len(shown) == 3:
                break
        found.append(Found(tuple(group), centroid, words, tuple(shown)))
    return found


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else v.astype(np.float32)

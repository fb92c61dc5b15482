"""Hybrid claim retrieval and narrative matching: BM25 (``bm25s``) + encoder cosine, fused.

``ClaimIndex`` holds documents (``ClaimDoc``: id, text, optional title); several documents may
share an id (a narrative's claims, title, summary and keywords all point at the narrative).
For each query it scores every document with

* ``cos``: cosine similarity of the shared encoder's embeddings (the post's embedding is passed
  in, so one encoder pass per post feeds every head and this matcher); with a title, the best
  of text and title;
* ``bm25_sat``: BM25 over text + title (own tokenizer: lower case, English stop words, light
  suffix stripping), rescaled to a 14k-document corpus (IDF grows with log N) and saturated
  as s / (s + 10) (0-1, absolute);
* ``cover``: the share of the document's distinct content terms (IDF-weighted) that the query
  contains (0-1, absolute: "the post says the claim's words").

and fuses them with a logistic model whose weights (``FUSION_WEIGHTS``) were fitted on the
CheckThat! 2022 task 2A English TRAIN split (tweets -> Snopes claims, candidates = union of the
top 50 of each retriever; ``benchmarks/claims_checkthat.py --fit`` refits them), so the score is
an estimate of P(this post states this claim) in 0-1, comparable across posts and corpora.
Results are per id (best document of the id), best first.

``NarrativeMatcher`` wraps it for the narrative library with two thresholds (``suggested``,
``confirmed``) and explains each match with the content terms post and narrative share.
"""

from __future__ import annotations

import logging

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np

from monitor.narratives import NarrativeLibrary

if TYPE_CHECKING:
    from classifiers.encoder import Encoder

# Logistic fusion: logit = bias + sum(weight * feature). Fitted by
# `python -m benchmarks.claims_checkthat --fit` on the CheckThat! 2022 2A EN train split.
FUSION_WEIGHTS: dict[str, float] = {
    "bias": -8.87,
    "cos": 7.4,
    "cos_gap": 10.78,
    "cover": 4.58,
    "bm25_sat": 6.39,
}

# Size of the corpus FUSION_WEIGHTS were fitted on (CheckThat! 2022 2A vclaims).
REFERENCE_CORPUS_SIZE = 14231

# Thresholds on the fused score for NarrativeMatcher; see its docstring for the calibration.
SUGGESTED_THRESHOLD = 0.4
CONFIRMED_THRESHOLD = 0.7

_TOKEN = re.compile(r"[a-z0-9][a-z0-9']*[a-z0-9]|[a-z0-9]")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have
    haven't having he he'd he'll he's her here here's hers herself him himself his how how's i
    i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my
    myself no nor not of off on once only or other ought our ours ourselves out over own same
    shan't she she'd she'll she's should shouldn't so some such than that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've this
    those through to too under until up very was wasn't we we'd we'll we're we've were weren't
    what what's when when's where where's which while who who's whom why why's will with won't
    would wouldn't you you'd you'll you're you've your yours yourself yourselves just also via
    rt amp https http www com co pic twitter said says say get got would one""".split()
)


def _stem(word: str) -> str:
    """Very light suffix stripping (plural, -ing, -ed): 'vaccines' -> 'vaccin', 'vaccinated'..."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in (("'s", ""), ("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""),
                         ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            word = word[: len(word) - len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Content terms of a text: lower case, no stop words, lightly stemmed."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"https?://\S+|pic\.twitter\.com/\S+|@\w+", " ", text)
    return [_stem(t) for t in _TOKEN.findall(text) if t not in STOPWORDS and len(t) > 1]


@dataclass(frozen=True)
class ClaimDoc:
    id: str
    text: str
    title: str | None = None


class ClaimIndex:
    """BM25 + embedding index over claim documents; ``match`` returns fused 0-1 scores per id.

    ``embeddings``/``title_embeddings`` are (n, d) L2-normalised arrays aligned with ``docs``
    (pass precomputed ones, e.g. from a disk cache) or omitted with ``encoder`` given.
    ``fusion``: ``"logistic"`` (default, the fitted weights), ``"rrf"`` (reciprocal rank fusion,
    k=60; scores are then rescaled RRF values, not probabilities), ``"bm25"`` or ``"cosine"``
    (single retrievers, for comparison).
    """

    def __init__(self, docs: Sequence[ClaimDoc], *, encoder: Encoder | None = None,
                 embeddings: np.ndarray | None = None, title_embeddings: np.ndarray | None = None,
                 k1: float = 1.2, b: float = 0.75, candidates: int = 50,
                 fusion: Literal["logistic", "rrf", "bm25", "cosine"] = "logistic",
                 weights: dict[str, float] | None = None):
        import bm25s

        # bm25s sets its own logger to DEBUG at import; keep its index chatter out of our log.
        logging.getLogger("bm25s").setLevel(logging.WARNING)

        if not docs:
            raise ValueError("a ClaimIndex needs at least one document")
        self.docs = list(docs)
        self.ids = [d.id for d in self.docs]
        self._unique_ids = list(dict.fromkeys(self.ids))
        self.fusion = fusion
        self.candidates = candidates
        self.weights = dict(weights or FUSION_WEIGHTS)

        if embeddings is None:
            if encoder is None:
                raise ValueError("pass an encoder or precomputed embeddings")
            embeddings = encoder.encode([d.text for d in self.docs])
        if title_embeddings is None and encoder is not None and any(d.title for d in self.docs):
            title_embeddings = encoder.encode([d.title or d.text for d in self.docs])
        self.embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        self.title_embeddings = (None if title_embeddings is None
                                 else np.ascontiguousarray(title_embeddings, dtype=np.float32))
        if len(self.embeddings) != len(self.docs):
            raise ValueError("embeddings must have one row per document")

        self.doc_tokens = [tokenize(f"{d.title or ''} {d.text}") for d in self.docs]
        corpus = [toks or ["_empty_"] for toks in self.doc_tokens]
        self.bm25 = bm25s.BM25(k1=k1, b=b)
        self.bm25.index(corpus, show_progress=False)
        vocab = self.bm25.vocab_dict
        n = len(corpus)
        df: dict[str, int] = {}
        for toks in self.doc_tokens:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self._doc_terms = [set(toks) for toks in self.doc_tokens]
        self._doc_mass = np.array([sum(self.idf[t] for t in terms) or 1.0
                                   for terms in self._doc_terms], dtype=np.float32)
        self._vocab = vocab
        # IDFs grow with log(N): rescale raw BM25 to what it would be in a corpus the size of
        # the one the fusion weights were fitted on, so small libraries are not penalised.
        self._idf_scale = math.log(REFERENCE_CORPUS_SIZE + 1) / math.log(n + 1) if n > 1 else 1.0

    # -- scoring ---------------------------------------------------------------------------
    def features(self, query_text: str, query_embedding: np.ndarray) -> dict[str, np.ndarray]:
        """All per-document features for one query (arrays of length n_docs)."""
        cos = self.embeddings @ query_embedding
        if self.title_embeddings is not None:
            cos = np.maximum(cos, self.title_embeddings @ query_embedding)
        q_tokens = list(dict.fromkeys(tokenize(query_text)))
        ids = [self._vocab[t] for t in q_tokens if t in self._vocab]
        if ids:
            bm25 = self.bm25.get_scores_from_ids(ids)
        else:
            bm25 = np.zeros(len(self.docs), dtype=np.float32)
        top = float(bm25.max()) if len(bm25) else 0.0
        bm25n = bm25 / top if top > 0 else bm25
        return {"cos": cos, "bm25_raw": bm25, "bm25": bm25n, "q_terms": q_tokens}  # type: ignore[dict-item]

    def _cover(self, q_terms: set[str], rows: np.ndarray) -> np.ndarray:
        out = np.zeros(len(rows), dtype=np.float32)
        for k, r in enumerate(rows):
            shared = self._doc_terms[r] & q_terms
            if shared:
                out[k] = sum(self.idf[t] for t in shared) / self._doc_mass[r]
        return out

    def score_candidates(self, query_text: str, query_embedding: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Candidate rows (union of both retrievers' top N) and their fused scores."""
        f = self.features(query_text, query_embedding)
        cos, bm25 = f["cos"], f["bm25"]
        n = len(cos)
        k = min(self.candidates, n)
        top_cos = np.argpartition(-cos, k - 1)[:k] if k < n else np.arange(n)
        top_bm = np.argpartition(-bm25, k - 1)[:k] if k < n else np.arange(n)
        rows = np.union1d(top_cos, top_bm)
        c, bm = cos[rows], bm25[rows]
        q_terms = set(f["q_terms"])
        cover = self._cover(q_terms, rows)
        q_mass = sum(self.idf.get(t, 0.0) for t in q_terms) or 1.0
        q_cover = np.array([sum(self.idf[t] for t in self._doc_terms[r] & q_terms)
                            for r in rows], dtype=np.float32) / q_mass
        raw = f["bm25_raw"][rows] * self._idf_scale
        feats = {"cos": c, "bm25": bm, "cover": cover, "q_cover": q_cover,
                 "bm25_sat": raw / (raw + 10.0),
                 "cos_gap": c - float(cos[top_cos].max())}
        if self.fusion == "cosine":
            score = np.clip(c, 0, 1)
        elif self.fusion == "bm25":
            score = bm
        elif self.fusion == "rrf":
            rank_c = _ranks(-cos)[rows]
            rank_b = _ranks(-bm25)[rows]
            score = (1 / (60 + rank_c) + 1 / (60 + rank_b)) * 30.5  # 1.0 when first in both
        else:
            w = self.weights
            logit = w["bias"] + sum(w[name] * feats[name] for name in feats if name in w)
            score = 1 / (1 + np.exp(-logit))
        return rows, score.astype(np.float32), feats

    def match(self, query_texts: Sequence[str], query_embeddings: np.ndarray, top_k: int = 5
              ) -> list[list[tuple[str, float]]]:
        """Per query, the ``top_k`` best ids with scores in 0-1, best first (one entry per id)."""
        if len(query_texts) != len(query_embeddings):
            raise ValueError("one embedding per query text")
        out = []
        for text, emb in zip(query_texts, query_embeddings):
            rows, score, _ = self.score_candidates(text, np.asarray(emb, dtype=np.float32))
            out.append(self._per_id(rows, score, top_k))
        return out

    def _per_id(self, rows: np.ndarray, score: np.ndarray, top_k: int
                ) -> list[tuple[str, float]]:
        order = np.argsort(-score, kind="stable")
        best: dict[str, float] = {}
        for j in order:
            ident = self.ids[rows[j]]
            if ident not in best:
                best[ident] = round(float(score[j]), 4)
                if len(best) >= top_k:
                    break
        return list(best.items())

    def shared_terms(self, query_text: str, doc_id: str, limit: int = 8) -> list[str]:
        """Content words the query shares with the id's documents, most specific (IDF) first."""
        q_terms = set(tokenize(query_text))
        surface = _surface_forms(query_text)
        terms: set[str] = set()
        for row, ident in enumerate(self.ids):
            if ident == doc_id:
                terms |= self._doc_terms[row] & q_terms
        ranked = sorted(terms, key=lambda t: -self.idf.get(t, 0))[:limit]
        return [surface.get(t, t) for t in ranked]


_WORDS = re.compile(r"[a-z0-9][a-z0-9']*[a-z0-9]|[a-z0-9]")


def _surface_forms(text: str) -> dict[str, str]:
    """Stem -> first word of the text with that stem (to show real words in explanations)."""
    out: dict[str, str] = {}
    for word in _WORDS.findall(text.lower().replace("\u2019", "'")):
        if word in STOPWORDS or len(word) <= 1:
            continue
        out.setdefault(_stem(word), word)
    return out


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based rank of each value (ascending order of ``values``)."""
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    return ranks


class NarrativeMatch(TypedDict):
    id: str
    score: float
    status: str
    level: Literal["suggested", "confirmed"]
    terms: list[str]


class NarrativeMatcher:
    """Match posts against the narrative library.

    Each narrative contributes documents (all mapped to its id): every claim, the title, the
    summary, and the keywords joined in one line. ``match`` returns per post
    ``[{"id", "score", "status", "level", "terms"}]`` best first, keeping ids whose fused score
    reaches ``suggested``; ``level`` is ``"confirmed"`` from ``confirmed`` up. ``terms`` are the
    content words the post shares with the narrative (for the explanation; may be empty when
    the match is a paraphrase found by the encoder).

    Calibration of the default thresholds (``SUGGESTED_THRESHOLD``, ``CONFIRMED_THRESHOLD``):
    on CheckThat! 2022 2A EN dev (tweets vs 14k Snopes claims), see
    ``benchmarks/claims_checkthat.py --calibrate``: at ``confirmed`` the top match is correct
    for the large majority of the tweets above it, ``suggested`` keeps most true matches for a
    human to look at. The numbers are in that script's report and in the module README/report.
    """

    def __init__(self, library: NarrativeLibrary, encoder: Encoder, *,
                 suggested: float = SUGGESTED_THRESHOLD, confirmed: float = CONFIRMED_THRESHOLD,
                 top_k: int = 3):
        if not 0 <= suggested <= confirmed <= 1:
            raise ValueError("need 0 <= suggested <= confirmed <= 1")
        self.library = library
        self.suggested = suggested
        self.confirmed = confirmed
        self.top_k = top_k
        self._status = {n.id: n.status for n in library.narratives}
        docs: list[ClaimDoc] = []
        for n in library.narratives:
            docs.extend(ClaimDoc(n.id, claim) for claim in n.claims)
            docs.append(ClaimDoc(n.id, n.title))
            docs.append(ClaimDoc(n.id, n.summary))
            if n.keywords:
                docs.append(ClaimDoc(n.id, ", ".join(n.keywords)))
        self.index: ClaimIndex | None = ClaimIndex(docs, encoder=encoder) if docs else None

    def match(self, texts: Sequence[str], embeddings: np.ndarray) -> list[list[NarrativeMatch]]:
        """Per post, the narratives it matches (may be empty), best first."""
        if self.index is None:
            return [[] for _ in texts]
        results = self.index.match(texts, embeddings, top_k=self.top_k)
        out: list[list[NarrativeMatch]] = []
        for text, hits in zip(texts, results):
            row: list[NarrativeMatch] = []
            for ident, score in hits:
                if score < self.suggested:
                    continue
                row.append({
                    "id": ident,
                    "score": score,
                    "status": self._status[ident],
                    "level": "confirmed" if score >= self.confirmed else "suggested",
                    "terms": self.index.shared_terms(text, ident),
                })
            out.append(row)
        return out


def explain(match: dict[str, Any]) -> str:
    """One line for a briefing: 'anti-vax-microchip (confirmed, 0.91): microchip, vaccine'."""
    terms = ", ".join(match.get("terms") or []) or "paraphrase"
    return f"{match['id']} ({match['level']}, {match['score']:.2f}): {terms}"

"""Scoring posts: the language gate, one normalisation (``classifiers.normalise``), obfuscation undone, one
encoder pass (the fine-tuned hate model inside it), the heads, places, narratives, tension.

``Scorer.score`` is the single entry point used by the pipeline stage and by ``tension score``.
Its output per post is the stable CLI contract::

    {"id", "hate", "offensive", "conspiracy", "mobilisation", "negativity", "tension",
     "target_groups", "labels", "localities": [{"id", "confidence", "span"}],
     "narratives": [{"id", "score", "status"}], "explanation", "model_version"}

A post in a language the heads cannot read gets ``null`` scores and ``"status":
"not_scored_language"``, but its localities are still resolved so it is counted where it belongs.
Identical texts (retweets, copy-paste) are encoded once. Only the first ``TEXT_CAP`` characters
of a text are read (``monitor.post_text``); a longer one is scored on that part, and its
explanation says so: ``"text_cut": {"cap": 5000, "characters": <how many were not read>}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifiers.encoders import make_encoder
from classifiers.heads import SCORE_NAMES, Heads
from classifiers.language import LanguageGate
from classifiers.localities import LocalityResolver
from classifiers.narratives import NarrativeMatcher, explain
from classifiers.negation import DENIAL_FACTOR
from classifiers.normalise import normalise
from classifiers.slurs import SLUR_FLOOR
from classifiers.obfuscation import Readable
from classifiers.tension import post_tension
from monitor.errors import ConfigError
from monitor.localities import LocalityFile
from monitor.narratives import NarrativeLibrary
from monitor.post_text import TEXT_CAP, cap


@dataclass(frozen=True)
class PostText:
    id: str
    text: str
    language: str | None = None
    length: int | None = None  # the full text's length, when the caller read only its first part


class Scorer:
    """Loads every model once (a few seconds); then scores batches of posts."""

    def __init__(self, localities: LocalityFile, library: NarrativeLibrary, *, threads: int = 2,
                 ner: str = "matched", encoder: str = "onnx", cache_dir: Path | None = None):
        try:
            self.heads = Heads.load()
        except FileNotFoundError as exc:
            raise ConfigError(
                f"classifier model missing: {exc.filename} (hint: reinstall tension-monitor, "
                "or retrain with `python -m classifiers.train`)"
            ) from None
        try:
            self.encoder = make_encoder(encoder, threads=threads, cache_dir=cache_dir, branch=self.heads.branch_weights)
        except OSError as exc:  # the int8 export is written on first start
            raise ConfigError(
                f"cannot write the encoder export under {cache_dir}: {exc.strerror or exc} "
                "(hint: set TENSION_MODEL_CACHE or TENSION_DATA_DIR to a writable folder)"
            ) from None
        # obfuscated spellings written out for the encoder and heads; our own place names are never rewritten
        names = [n for loc in localities.localities for n in (loc.name, *loc.aliases)]
        names += [n for site in localities.sensitive_sites for n in (site.name, *site.aliases)]
        self.readable = Readable.load().with_names(names)
        self.gate = LanguageGate()
        self.resolver = LocalityResolver(localities, ner=ner)
        self.matcher = NarrativeMatcher(library, self.encoder)
        self.version = f"{self.encoder.version}|{self.heads.version}"

    def score(self, posts: Sequence[PostText], *, keep_embeddings: bool = False) -> list[dict]:
        """One result per post (the `tension score` contract); ``keep_embeddings`` adds each
        scored post's sentence embedding under ``embedding`` for the caller to keep."""
        texts = [cap(p.text) for p in posts]  # before spaCy, the tokenizer or any rule sees them
        languages = self.gate.detect(texts, [p.language for p in posts])
        readable = [i for i, code in enumerate(languages) if self.gate.scorable(code)]
        # Places need no embedding: spaCy resolves them on its own thread while the encoder runs
        # (ONNX Runtime releases the GIL), which keeps both cores busy.
        with ThreadPoolExecutor(1, thread_name_prefix="localities") as places_pool:
            resolving = places_pool.submit(self.resolver.resolve_many, texts)
            if readable:
                read_texts = [texts[i] for i in readable]
                # links, mentions, hashtags, emoji and markup as the hate model was trained to read them, then
                # leetspeak, masked and run-together words undone
                plain = [self.readable(normalise(t)) for t in read_texts]
                embeddings, layers, *rest = self.encoder.encode_with_layers(
                    plain, tokens=self.heads.needs_tokens, verdicts=True)
                head_scores = self.heads.score(embeddings, plain, layers=layers,
                                               tokens=rest[0] if self.heads.needs_tokens else None, verdicts=rest[-1])
                matches = self.matcher.match(read_texts, embeddings)
            places = resolving.result()
        results = [self._unread(p, languages[i], places[i]) for i, p in enumerate(posts)]
        for slot, i in enumerate(readable):
            results[i] = self._scored(posts[i], languages[i], places[i], head_scores[slot],
                                      matches[slot])
            if keep_embeddings:
                results[i]["embedding"] = embeddings[slot]
        for post, text, result in zip(posts, texts, results):
            cut = max(post.length or 0, len(post.text)) - len(text)
            if cut > 0:
                result["explanation"]["text_cut"] = {"cap": TEXT_CAP, "characters": cut}
        return results

    def use_library(self, library: NarrativeLibrary) -> None:
        """Match against this library from now on (claims imported, narratives promoted)."""
        self.matcher = NarrativeMatcher(library, self.encoder)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def _places(self, resolution: dict) -> tuple[list[dict], list[dict]]:
        localities = [
            {"id": m["id"], "confidence": round(float(m["confidence"]), 3), "span": list(m["span"])}
            for m in resolution["localities"]
        ]
        sites = [
            {"id": m["id"], "locality": m["locality"], "confidence": round(float(m["confidence"]), 3),
             "span": list(m["span"])}
            for m in resolution["sites"]
        ]
        return localities, sites

    def _unread(self, post: PostText, language: str, resolution: dict) -> dict:
        localities, sites = self._places(resolution)
        return {
            "id": post.id, **{name: None for name in SCORE_NAMES}, "tension": None,
            "target_groups": [], "labels": [], "localities": localities, "narratives": [],
            "explanation": {"status": "not_scored_language", "language": language, "sites": sites},
            "model_version": self.version,
        }

    def _scored(self, post: PostText, language: str, resolution: dict, scores: dict,
                matches: list[dict]) -> dict:
        localities, sites = self._places(resolution)
        tension = post_tension(scores, matches)
        explanation = {
            "status": "scored",
            "language": language,
            "drivers": tension.drivers,
            "labels_over_threshold": {k: self.heads.thresholds[k] for k in scores["labels"]},
            "narratives": [explain(m) for m in matches],
            "localities": [
                {"id": m["id"], "evidence": m["text"], "confidence": round(float(m["confidence"]), 3)}
                for m in resolution["localities"]
            ],
            "sites": sites,
            "unknown_places": [p["text"] for p in resolution.get("unknown_places", [])],
        }
        if scores.get("denial"):
            explanation["hate_adjusted"] = (f"denies a pejorative description of a group: hate, offensive and "
                                            f"conspiracy scaled by {DENIAL_FACTOR}")
        elif scores.get("counter_speech"):
            explanation["hate_adjusted"] = (f"aims strong feeling at a group's attackers or mistreatment, or shows "
                                            f"sympathy: hate, offensive and conspiracy scaled by {DENIAL_FACTOR}")
        elif scores.get("slur"):
            explanation["hate_adjusted"] = (f"uses a slur the model was not trained on ('{scores['slur']}'): "
                                            f"hate at least {SLUR_FLOOR}")
        return {
            "id": post.id,
            **{name: scores[name] for name in SCORE_NAMES},
            "tension": tension.score,
            "target_groups": scores["target_groups"],
            "labels": scores["labels"],
            "localities": localities,
            "narratives": [
                {"id": m["id"], "score": round(float(m["score"]), 4), "status": m["status"],
                 "level": m["level"]}
                for m in matches
            ],
            "explanation": explanation,
            "model_version": self.version,
        }

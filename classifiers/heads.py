"""Post-level heads over the shared encoder pass: numpy-only inference.

The hate model (hate, offensive, target groups) is the fine-tuned branch inside the encoder pass
(``classifiers.hate_model``; ``models/hate.json`` + ``models/hate_encoder.safetensors``): its probabilities arrive
as the encoder's ``verdicts`` output and :class:`HateModel` only reads them. The other learned heads are
``classifiers/models/<head>.safetensors`` (float32 weights ``layer{i}.weight`` ``(in, out)`` and ``layer{i}.bias``;
ReLU between layers) plus ``<head>.json`` (output kind, labels, threshold(s), version, training summary, and
``input``: which encoder output it reads, ``"embedding"`` = the (n, 384) L2-normalised sentence vectors or
``"layers"`` = the (n, 6 * 384) per-layer mean pools; missing = ``"embedding"``). Heads reading ``"layers"``
standardise them with the ``input.mean`` / ``input.scale`` tensors stored beside the weights. A head may instead
average several such members (``members`` in its JSON, tensors prefixed ``m0.``, ``m1.``...).
``negativity`` is VADER (offline lexicon), not learned.

    heads = Heads.load()
    encoder = make_encoder("onnx", branch=heads.branch_weights)
    vectors, layers, verdicts = encoder.encode_with_layers(texts, verdicts=True)   # one forward pass
    rows = heads.score(vectors, texts, layers=layers, verdicts=verdicts)          # list of dicts, one per post

``heads.needs_layers`` says whether any head reads the layer pools; likewise ``heads.needs_tokens`` for a member
of input kind ``"tokens"`` (an attention pool over the last two layers' token states, :class:`TokenMember`).

Word-level corrections may follow the hate model (``Heads._read_words``; which ones run is ``word_rules`` in
hate.json, each measured on held-out data by ``benchmarks.quality``): denials of a pejorative description of a
group (:mod:`classifiers.negation`), strong feeling aimed at a group's attackers (:mod:`classifiers.counter_speech`)
and slurs the training texts lacked (:mod:`classifiers.slurs`).

Scores are probabilities in [0, 1]: ``hate`` = P(hate speech), ``offensive`` = P(offensive or hate),
``conspiracy``, ``mobilisation``, ``negativity`` = (1 - VADER compound) / 2. A label is emitted when a
score reaches ``heads.thresholds[name]`` (calibrated on validation data, see the model cards). Labels
describe *text*, never a person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from scipy.sparse import csr_matrix

from .datasets import TARGET_GROUPS
from .counter_speech import counter_speech
from .negation import DENIAL_FACTOR, denial
from .ngrams import LinearNgramModel, hashed_counts
from .slurs import SLUR_FLOOR, SlurFinder

MODELS_DIR = Path(__file__).resolve().parent / "models"
SCORE_NAMES = ("hate", "offensive", "conspiracy", "mobilisation", "negativity")
WORD_RULES = ("negation", "counter_speech", "slurs")  # classifiers/negation.py, counter_speech.py, slurs.py


class Member:
    """One MLP (or logistic layer when it has one layer) over one encoder output, with optional
    standardisation of its input. Tensors are ``{prefix}layer{i}.weight`` / ``.bias`` and
    ``{prefix}input.mean`` / ``.scale``."""

    def __init__(self, head: str, tensors: dict[str, np.ndarray], n_layers: int, input_kind: str,
                 prefix: str = ""):
        if input_kind not in ("embedding", "layers"):
            raise ValueError(f"head {head}: unknown input {input_kind!r}")
        self.head, self.input = head, input_kind
        self.layers = [(tensors[f"{prefix}layer{i}.weight"].astype(np.float32),
                        tensors[f"{prefix}layer{i}.bias"].astype(np.float32)) for i in range(n_layers)]
        self.mean = tensors[f"{prefix}input.mean"].astype(np.float32) if f"{prefix}input.mean" in tensors else None
        self.scale = tensors[f"{prefix}input.scale"].astype(np.float32) if f"{prefix}input.scale" in tensors else None
        self.input_dim = self.layers[0][0].shape[0]

    def logits(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float32)
        if h.ndim != 2 or h.shape[1] != self.input_dim:
            raise ValueError(f"head {self.head} reads {self.input} features of width {self.input_dim}, "
                             f"got shape {h.shape}")
        if self.mean is not None:
            h = (h - self.mean) / self.scale
        return self._mlp(h)

    def _mlp(self, h: np.ndarray) -> np.ndarray:
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                np.maximum(h, 0.0, out=h)
        return h


class TokenMember(Member):
    """An MLP over an attention pool of the last two layers' token states (input kind ``"tokens"``).

    Each token state is standardised (``{prefix}input.mean`` / ``.scale``) and projected,
    ``h = relu(x @ pool.proj.weight + pool.proj.bias)`` (hid wide); ``pool.score`` gives each token
    one weight per attention head, softmax over the text's tokens; the MLP (``layer{i}``) reads the
    heads' weighted sums of ``h`` and the plain mean of ``h``, concatenated. A mean pool treats every
    word piece alike; the attention lets the head look at the few that carry the hate."""

    CHUNK = 512  # texts per numpy step (bounds the memory of the projected tokens)

    def __init__(self, head: str, tensors: dict[str, np.ndarray], n_layers: int, prefix: str = ""):
        super().__init__(head, tensors, n_layers, "layers", prefix)
        self.input = "tokens"
        w, b = (tensors[f"{prefix}pool.proj.weight"].astype(np.float32),
                tensors[f"{prefix}pool.proj.bias"].astype(np.float32))
        # the standardisation folded into the projection: ((x - mean) / scale) @ w = x @ (w / scale) - ...
        self.proj = (w / self.scale[:, None], b - (self.mean / self.scale) @ w)
        self.attend = (tensors[f"{prefix}pool.score.weight"].astype(np.float32),
                       tensors[f"{prefix}pool.score.bias"].astype(np.float32))
        self.input_dim = self.proj[0].shape[0]

    def pooled(self, tokens) -> np.ndarray:
        """(n, hid * (heads + 1)): the attention pools and the mean pool of each text's projected tokens,
        computed on the unpadded token rows (``encoder.TokenStates``), segment by segment."""
        states, lengths = tokens.states, np.asarray(tokens.lengths, dtype=np.int64)
        if states.ndim != 2 or states.shape[1] != self.input_dim:
            raise ValueError(f"head {self.head} reads token states of width {self.input_dim}, got {states.shape}")
        if len(lengths) and lengths.min() < 1:
            raise ValueError(f"head {self.head}: every text needs at least one token state")
        hid, heads = self.proj[0].shape[1], self.attend[0].shape[1]
        out = np.zeros((len(lengths), hid * (heads + 1)), dtype=np.float32)
        ends = np.cumsum(lengths)
        for first in range(0, len(lengths), self.CHUNK):
            n = lengths[first:first + self.CHUNK]
            lo = int(ends[first] - lengths[first])
            x = np.asarray(states[lo:lo + int(n.sum())], dtype=np.float32)
            h = np.maximum(x @ self.proj[0] + self.proj[1], 0.0)  # (tokens, hid)
            starts = np.cumsum(n) - n
            z = h @ self.attend[0] + self.attend[1]  # (tokens, heads)
            z = np.exp(z - np.repeat(np.maximum.reduceat(z, starts, axis=0), n, axis=0))
            a = z / np.repeat(np.add.reduceat(z, starts, axis=0), n, axis=0)  # softmax within each text
            weights = np.concatenate([a, np.repeat(1.0 / n, n)[:, None].astype(np.float32)], axis=1)
            # per text, the weighted sum of its tokens' h for each head, then the mean: sparse (texts x tokens)
            # products whose rows hold one text's weights
            indices, indptr = np.arange(len(h)), np.concatenate([[0], np.cumsum(n)])
            out[first:first + len(n)] = np.concatenate(
                [csr_matrix((np.ascontiguousarray(weights[:, k]), indices, indptr), shape=(len(n), len(h))) @ h
                 for k in range(heads + 1)], axis=1)
        return out

    def logits(self, tokens) -> np.ndarray:
        return self._mlp(self.pooled(tokens))


def _member(head: str, tensors: dict[str, np.ndarray], n_layers: int, input_kind: str, prefix: str = "") -> Member:
    if input_kind == "tokens":
        return TokenMember(head, tensors, n_layers, prefix)
    return Member(head, tensors, n_layers, input_kind, prefix)


class Head:
    """The mean output probability of one or more members (``meta["members"]``: a list of
    ``{"input", "layers"}`` read from tensors prefixed ``m{j}.``; without it, one member from the
    un-prefixed tensors and ``meta["input"]`` / ``meta["layers"]``), optionally mixed with an n-gram model."""

    def __init__(self, name: str, tensors: dict[str, np.ndarray], meta: dict):
        self.name, self.meta = name, meta
        if "members" in meta:
            self.members = [_member(name, tensors, int(m["layers"]), m["input"], f"m{j}.")
                            for j, m in enumerate(meta["members"])]
        else:
            self.members = [_member(name, tensors, int(meta["layers"]), meta.get("input", "embedding"))]
        self.inputs = tuple(dict.fromkeys(m.input for m in self.members))  # "embedding", "layers", "tokens"
        self.output = meta["output"]  # "softmax" | "sigmoid"
        self.labels = list(meta["labels"])
        # optional linear model over hashed char/word n-grams of the raw text, mixed into the output
        self.ngram_mix = float(meta.get("ngram_mix", 0.0))
        self.ngram = LinearNgramModel(tensors["ngram.idf"], tensors["ngram.weight"], tensors["ngram.bias"]) \
            if self.ngram_mix > 0 else None

    @classmethod
    def load(cls, models_dir: Path, name: str) -> "Head":
        meta = json.loads((models_dir / f"{name}.json").read_text())
        return cls(name, load_file(str(models_dir / f"{name}.safetensors")), meta)

    def _activate(self, z: np.ndarray) -> np.ndarray:
        if self.output == "softmax":
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def predict(self, features: dict[str, np.ndarray] | np.ndarray,
                texts: Sequence[str] | None = None, ngram_counts: dict | None = None) -> np.ndarray:
        """Probabilities (n, outputs). ``features`` maps input kind -> array (an array alone is
        accepted when every member reads the same kind). ``ngram_counts``: bits -> the texts'
        ``ngrams.hashed_counts``, shared by the heads that read n-grams."""
        if not isinstance(features, dict):
            if len(self.inputs) != 1:
                raise ValueError(f"head {self.name} reads {', '.join(self.inputs)}: pass a dict of features")
            features = {self.inputs[0]: features}
        p = sum(self._activate(m.logits(features[m.input])) for m in self.members) / len(self.members)
        if self.ngram is not None:
            if texts is None:
                raise ValueError(f"head {self.name} also needs the texts")
            counts = (ngram_counts or {}).get(self.ngram.bits)
            p = (1.0 - self.ngram_mix) * p + self.ngram_mix * self._activate(self.ngram.logits(texts, counts))
        return p


class HateModel:
    """The fine-tuned hate model's verdicts (``classifiers.hate_model``): its (n, OUTPUTS) probabilities come
    from the encoder pass itself (``encode_with_layers(..., verdicts=True)`` of an encoder built with
    ``branch=heads.branch_weights``). ``predict`` gives the three classes the word rules and the labels read:
    (normal, offensive but not hate, hate), with P(offensive) = max(P(offensive), P(hate)); ``targets`` the
    per-group probabilities in ``TARGET_GROUPS`` order."""

    def __init__(self, meta: dict, weights: Path):
        from .hate_model import OUTPUTS

        if meta.get("kind") != "fine-tuned encoder branch" or list(meta.get("labels", [])) != list(OUTPUTS):
            raise ValueError(f"{weights.with_suffix('.json').name}: not a fine-tuned hate model for outputs {OUTPUTS}")
        self.name, self.meta, self.weights = "hate", meta, weights
        self.inputs = ("verdicts",)
        self.labels = list(OUTPUTS)

    def predict(self, verdicts: np.ndarray) -> np.ndarray:
        v = np.asarray(verdicts, dtype=np.float32)
        if v.ndim != 2 or v.shape[1] != len(self.labels):
            raise ValueError(f"the hate model gives {len(self.labels)} probabilities a post, got shape {v.shape}")
        hate = v[:, 0]
        off = np.maximum(v[:, 1], hate)
        return np.stack([1.0 - off, off - hate, hate], axis=1)

    def targets(self, verdicts: np.ndarray) -> np.ndarray:
        return np.asarray(verdicts, dtype=np.float32)[:, 2:].copy()


class Negativity:
    """VADER compound in [-1, 1] mapped to 0 (very positive) .. 0.5 (neutral) .. 1 (very negative)."""

    def __init__(self, meta: dict):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        self.meta = meta
        self._vader = SentimentIntensityAnalyzer()

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([(1.0 - self._vader.polarity_scores(t or "")["compound"]) / 2.0 for t in texts],
                        dtype=np.float32)


class Heads:
    """All post-level heads; ``score`` / ``score_arrays`` take encoder vectors, the same texts and (when
    ``needs_layers``) the per-layer pools from the same ``Encoder.encode_with_layers`` call."""

    def __init__(self, hate: HateModel, conspiracy: Head, mobilisation: Head, negativity: Negativity,
                 target_lexicon: dict[str, list[str]], seen_words: set[str] | frozenset[str] = frozenset()):
        self.hate_head = hate
        self.branch_weights: Path = hate.weights  # build the encoder with branch= this file
        self.conspiracy_head, self.mobilisation_head = conspiracy, mobilisation
        self.negativity_head = negativity
        th = hate.meta["thresholds"]
        self.thresholds: dict[str, float] = {
            "hate": float(th["hate"]), "offensive": float(th["offensive"]),
            "conspiracy": float(conspiracy.meta["threshold"]), "mobilisation": float(mobilisation.meta["threshold"]),
            "negativity": float(negativity.meta["threshold"]),
        }
        self.target_groups: tuple[str, ...] = tuple(TARGET_GROUPS)
        self.target_thresholds = np.array([hate.meta["target_thresholds"][g] for g in self.target_groups], np.float32)
        self._lexicon = {g: re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE)
                         for g, words in target_lexicon.items() if words}
        self.version = "+".join(f"{h.name}:{h.meta['version']}" for h in (hate, conspiracy, mobilisation)) \
            + f"+negativity:{negativity.meta['version']}"
        self.encoder_version = conspiracy.meta.get("encoder", "")
        self.inputs: dict[str, str] = {h.name: "+".join(h.inputs) for h in (hate, conspiracy, mobilisation)}
        self.needs_layers: bool = any("layers" in h.inputs for h in (conspiracy, mobilisation))
        self.needs_tokens: bool = any("tokens" in h.inputs for h in (conspiracy, mobilisation))
        self.needs_verdicts: bool = True
        # slurs the training texts lacked (``seen_words``: models/words.json), see classifiers/slurs.py
        self.slurs = SlurFinder(seen_words)
        # the word rules that run after the hate model (hate.json "word_rules"; benchmarks.quality measures each)
        self.rules: frozenset[str] = frozenset(hate.meta.get("word_rules", WORD_RULES))

    @classmethod
    def load(cls, models_dir: str | Path | None = None) -> "Heads":
        d = Path(models_dir) if models_dir else MODELS_DIR
        neg_meta = json.loads((d / "negativity.json").read_text())
        hate_meta = json.loads((d / "hate.json").read_text())
        words = d / "words.json"
        seen = set(json.loads(words.read_text()).get("words", {})) if words.exists() else set()
        weights = d / hate_meta.get("weights", "hate_encoder.safetensors")
        if not weights.is_file():
            raise FileNotFoundError(2, "hate model weights missing", str(weights))
        return cls(HateModel(hate_meta, weights), Head.load(d, "conspiracy"), Head.load(d, "mobilisation"),
                   Negativity(neg_meta), hate_meta.get("lexicon", {}), seen)

    def score_arrays(self, embeddings: np.ndarray, texts: Sequence[str],
                     layers: np.ndarray | None = None, tokens=None, verdicts=None) -> dict[str, np.ndarray]:
        """Column arrays: each score name -> (n,) float32; ``targets`` -> (n, 7) in ``self.target_groups`` order
        (learned probability, raised to 1.0 where an explicit group term appears in the text); ``denial`` ->
        (n,) bool, the posts denying a pejorative description of a group, and ``counter_speech`` -> (n,) bool,
        the other posts aiming strong feeling at a group's attackers or mistreatment (both: hate, offensive and
        conspiracy scaled down);
        ``slur`` -> per post the unseen slur used (hate raised to ``SLUR_FLOOR``, classifiers/slurs.py) or None.

        ``embeddings`` (n, 384) and ``layers`` (n, 2304) are the two outputs of ``Encoder.encode_with_layers``
        for ``texts``; ``layers`` may be omitted only when no head reads it (``needs_layers`` False), and
        ``tokens`` (its output with ``tokens=True``) only when ``needs_tokens`` is False; ``verdicts`` (its output
        with ``verdicts=True``, from an encoder built with ``branch=heads.branch_weights``) is required."""
        if verdicts is None:
            raise ValueError("the hate model's verdicts are missing: build the encoder with "
                             "branch=heads.branch_weights and pass verdicts=... from encode_with_layers(..., verdicts=True)")
        verdicts = np.asarray(verdicts, dtype=np.float32)
        if len(verdicts) != len(texts):
            raise ValueError(f"{len(verdicts)} hate verdict rows for {len(texts)} texts")
        feats = {"embedding": np.asarray(embeddings, dtype=np.float32)}
        if len(feats["embedding"]) != len(texts):
            raise ValueError(f"{len(feats['embedding'])} embeddings for {len(texts)} texts")
        if layers is not None:
            feats["layers"] = np.asarray(layers, dtype=np.float32)
            if len(feats["layers"]) != len(texts):
                raise ValueError(f"{len(feats['layers'])} layer-pool rows for {len(texts)} texts")
        elif self.needs_layers:
            needing = sorted(k for k, v in self.inputs.items() if "layers" in v)
            raise ValueError(f"heads {needing} read the encoder's per-layer pools: pass "
                             "layers=... from Encoder.encode_with_layers(texts)")
        if tokens is not None:
            feats["tokens"] = tokens
            if len(tokens) != len(texts):
                raise ValueError(f"{len(tokens)} token-state rows for {len(texts)} texts")
        elif self.needs_tokens:
            needing = sorted(k for k, v in self.inputs.items() if "tokens" in v)
            raise ValueError(f"heads {needing} read the encoder's token states: pass "
                             "tokens=... from Encoder.encode_with_layers(texts, tokens=True)")

        heads = (self.conspiracy_head, self.mobilisation_head)
        # the heads that mix in an n-gram model hash the same texts: once for all of them
        counts = {bits: hashed_counts(texts, bits) for bits in {h.ngram.bits for h in heads if h.ngram is not None}}
        p, denies, counters, slurs = self._read_words(self.hate_head.predict(verdicts), texts)
        tg = self.hate_head.targets(verdicts)
        for j, g in enumerate(self.target_groups):
            rx = self._lexicon.get(g)
            if rx is not None:
                tg[:, j] = np.maximum(tg[:, j], [1.0 if rx.search(t or "") else 0.0 for t in texts])
            tg[:, j] = np.maximum(tg[:, j], [1.0 if u is not None and u.group == g else 0.0 for u in slurs])
        conspiracy = self.conspiracy_head.predict(feats, texts, counts)[:, 0]
        conspiracy[denies | counters] *= DENIAL_FACTOR  # defending a group is not conspiracy framing
        return {
            "hate": p[:, 2].astype(np.float32), "offensive": (p[:, 1] + p[:, 2]).astype(np.float32),
            "conspiracy": conspiracy.astype(np.float32),
            "mobilisation": self.mobilisation_head.predict(feats, texts, counts)[:, 0].astype(np.float32),
            "negativity": self.negativity_head.predict(texts), "targets": tg.astype(np.float32),
            "denial": denies, "counter_speech": counters, "slur": [u.form if u is not None else None for u in slurs],
        }

    def _read_words(self, p: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """The word-level corrections to the hate head's (n, 3) probabilities (normal, offensive, hate):

        * "Refugees are not criminals.": a denial of a pejorative description keeps ``DENIAL_FACTOR`` of its
          hate and offensive probability, the rest goes to normal (classifiers/negation.py);
        * "I can't stand racists who target Poles.": strong feeling aimed at a group's attackers or its
          mistreatment, or sympathy for it, is scaled the same way (classifiers/counter_speech.py);
        * a slur the training texts lacked, used (not quoted, reported or reclaimed): hate at least
          ``SLUR_FLOOR``, taken from normal and offensive in proportion (classifiers/slurs.py).

        Returns the corrected probabilities, which posts are denials, which are counter-speech, and per post the
        slur used or None."""
        p = p.copy()
        n = len(texts)
        denies = np.array([denial(t) is not None for t in texts], dtype=bool) if "negation" in self.rules \
            else np.zeros(n, dtype=bool)
        counters = np.array([not d and counter_speech(t) is not None for d, t in zip(denies, texts)], dtype=bool) \
            if "counter_speech" in self.rules else np.zeros(n, dtype=bool)
        defends = denies | counters
        p[defends, 1:] *= DENIAL_FACTOR
        p[defends, 0] = 1.0 - p[defends, 1:].sum(axis=1)
        slurs = [None if defends[i] or "slurs" not in self.rules else self.slurs.find(t) for i, t in enumerate(texts)]
        lift = np.array([u is not None for u in slurs], dtype=bool) & (p[:, 2] < SLUR_FLOOR)
        rest = p[lift, :2]
        p[lift, :2] = rest * ((1.0 - SLUR_FLOOR) / np.maximum(rest.sum(axis=1, keepdims=True), 1e-9))
        p[lift, 2] = SLUR_FLOOR
        return p, denies, counters, slurs

    def labels_from(self, arrays: dict[str, np.ndarray]) -> list[list[str]]:
        """Per post, the score names at or above their thresholds (in SCORE_NAMES order)."""
        n = len(arrays["hate"])
        hits = {k: arrays[k] >= self.thresholds[k] for k in SCORE_NAMES}
        return [[k for k in SCORE_NAMES if hits[k][i]] for i in range(n)]

    def targets_from(self, arrays: dict[str, np.ndarray]) -> list[list[str]]:
        """Target groups above threshold, only for posts whose hate score reaches the hate threshold."""
        hate = arrays["hate"] >= self.thresholds["hate"]
        above = arrays["targets"] >= self.target_thresholds
        return [[g for j, g in enumerate(self.target_groups) if above[i, j]] if hate[i] else []
                for i in range(len(hate))]

    def score(self, embeddings: np.ndarray, texts: Sequence[str], layers: np.ndarray | None = None,
              tokens=None, verdicts=None) -> list[dict]:
        """One dict per post: the five scores (rounded to 4 dp), ``target_groups``, ``labels``, ``denial``,
        ``counter_speech`` and ``slur``.
        Arguments as for ``score_arrays``."""
        a = self.score_arrays(embeddings, texts, layers, tokens, verdicts)
        labels, targets = self.labels_from(a), self.targets_from(a)
        return [{**{k: round(float(a[k][i]), 4) for k in SCORE_NAMES}, "target_groups": targets[i],
                 "labels": labels[i], "denial": bool(a["denial"][i]),
                 "counter_speech": bool(a["counter_speech"][i]), "slur": a["slur"][i]}
                for i in range(len(texts))]


__all__ = ["Heads", "Head", "HateModel", "Member", "TokenMember", "Negativity", "SCORE_NAMES", "TARGET_GROUPS", "MODELS_DIR"]

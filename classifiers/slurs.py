"""Slurs the hate head never saw: a small UK lexicon that speaks only where the training texts are silent.

The head learns slurs from its training texts, which are mostly US posts (HateXplain) and our own
rows. British slurs for Gypsies and Travellers, Black, disabled, gay and trans people were missing
from them, and the head read "Appleby fair again, town full of pikeys nicking everything" as 0.10.
``classifiers/lexicons/slurs.jsonl`` lists such words by target group. The list is our own,
hand-written from British usage (not copied from any source); the research Ipsos MORI did for
Ofcom ("Public attitudes towards offensive language on TV and radio", 2021, 186 words rated)
puts discriminatory words of these kinds among the least acceptable. Words with a common
innocent sense are left out (a drinking "bender", a key "fob", the town of Troon, "golly",
"poof!", "mong" the surname, "golliwog" the doll).

A form counts only when the head's training texts contained it fewer than three times (it is not
in ``models/words.json``; a phrase, when one of its words is not): for every other slur the head
has its own evidence, so a retrain that sees a form retires it here. A use is a slur *used*, not mentioned or reclaimed; it does not count:

* in quotes (``the word 'pikey'``) or within four words after a word for naming, shouting or
  writing it ("shouted pikey at my daughter", "stop calling them gyppos", "the word gyppo"):
  reports and counter-speech;
* after a first-person claim within three words ("us lezzers", "proud gyppo", "as a spaz myself").

``Heads`` raises the hate probability of a post with such a use to ``SLUR_FLOOR`` (taken from
normal and offensive in proportion) and that group's target score to 1.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEXICON = Path(__file__).resolve().parent / "lexicons" / "slurs.jsonl"
SLUR_FLOOR = 0.75

_SAYING = re.compile(r"\b(?:word|words|term|slur|slurs|call|calls|called|calling|shout|shouts|shouted|shouting|"
                     r"yell|yelled|yelling|scream|screamed|use|uses|used|using|chant|chanted|chanting|spray|sprayed|"
                     r"wrote|written|write|scrawled|graffiti)\b(?:\W+\w+){0,3}\W*$",
                     re.IGNORECASE)
_SELF = re.compile(r"\b(?:us|we|we're|were|i'm|im|i am|as a|proud|me and my|fellow|myself|ourselves)\b"
                   r"(?:\W+\w+){0,2}\W*$", re.IGNORECASE)
_QUOTES = "\"'‘’“”"


@dataclass(frozen=True)
class SlurUse:
    form: str
    group: str
    start: int
    end: int


@lru_cache(maxsize=4)
def lexicon(path: Path = LEXICON) -> dict[str, str]:
    """form (lower case) -> target group."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            for form in entry["forms"]:
                out[form.lower()] = entry["group"]
    return out


def single_words(path: Path = LEXICON) -> set[str]:
    """The one-word forms (for the obfuscation undoer: 'g*ppos' -> 'gyppos')."""
    return {f for f in lexicon(path) if re.fullmatch(r"[a-z]+", f)}


class SlurFinder:
    """``find(text)``: the first slur *used* in ``text`` whose form the training texts lacked, or None."""

    def __init__(self, seen_words: set[str] | frozenset[str] = frozenset(), path: Path = LEXICON):
        # a phrase ("camel jockey") is retired when the training texts had each of its words
        forms = {f: g for f, g in lexicon(path).items()
                 if not all(w in seen_words for w in re.split(r"[\s-]+", f))}
        self.groups = forms
        body = "|".join(re.escape(f).replace(r"\ ", r"[\s-]+") for f in sorted(forms, key=len, reverse=True))
        self._rx = re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE) if forms else None

    def find(self, text: str) -> SlurUse | None:
        if self._rx is None or not text:
            return None
        for m in self._rx.finditer(text):
            before, after = text[max(0, m.start() - 60):m.start()], text[m.end():m.end() + 1]
            if (before[-1:] in _QUOTES and after in _QUOTES) or _SAYING.search(before) or _SELF.search(before):
                continue
            form = re.sub(r"[\s-]+", " ", m.group(0).lower())
            group = self.groups.get(form) or self.groups.get(m.group(0).lower())
            return SlurUse(m.group(0), group or "", m.start(), m.end())
        return None

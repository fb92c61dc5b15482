"""Which posts we can read: English is scored; others are counted as "not scored: language".

The heads are English-only. Scoring Polish or Arabic with them would produce confident
nonsense, so a post in another language is stored, counted and reported in the briefing as
unread rather than scored wrongly. The platform's own language tag wins when there is one;
otherwise lingua decides among the languages most often seen in Cumbrian feeds.

Losing an English post is the costly mistake (a hateful post nobody scores), so English is the
default and another language has to be shown:

* a Latin-script text of fewer than four words carries too little signal and is read as English,
  and so is one with two or more common English function words (lingua reads short slangy
  English, "lemme cheer you up ...", as Dutch or Tagalog; other languages rarely contain two
  English function words);
* lingua's fast (low-accuracy) model reads the rest; when it says "not English", its
  high-accuracy model has the last word, and the post stays English unless that model gives
  English less than ``ENGLISH_FLOOR`` of its confidence (and its most likely language names the
  post). On the labelled English datasets this keeps 1,728 of the 1,874 posts the fast model alone
  gave to another language (benchmark in
  ``benchmarks/language_gate.py``); most were abuse ("My ex is a lying, cheating scumbag"),
  slang and obfuscated hate ("tr4ns are n0t human");
* a text written mostly in another script (Arabic, Cyrillic, Chinese, Devanagari ...) goes
  straight to lingua, however short: the word count means nothing in Chinese or Japanese.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SCORED_LANGUAGES = frozenset({"en"})
_NOISE = re.compile(r"https?://\S+|[@#]\w+|&\w+;")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")
MIN_WORDS = 4
ENGLISH_FLOOR = 0.10
# Common English words that are not also everyday words in the other candidate languages
# ("a", "i", "am", "in", "to", "no", "was", "is", "we", "will"... are, so they are left out).
ENGLISH_MARKERS = frozenset(
    "the and of for with from by are were been you she it they my your our ours their them "
    "this that these those there here what where where's who why how not yes does did don't "
    "can't won't it's i'm you're we're they're up out get got just like if then than have has "
    "had would should could".split()
)

_CANDIDATES = (
    "ENGLISH", "WELSH", "POLISH", "ROMANIAN", "LITHUANIAN", "PORTUGUESE", "SPANISH", "FRENCH",
    "GERMAN", "ITALIAN", "DUTCH", "ARABIC", "URDU", "PERSIAN", "TURKISH", "BENGALI", "PUNJABI",
    "RUSSIAN", "UKRAINIAN", "CHINESE", "JAPANESE", "KOREAN", "SOMALI", "TAGALOG", "HINDI",
)
# the careful model only sees Latin-script texts, so it only needs the Latin-script languages
_OTHER_SCRIPTS = {"ARABIC", "URDU", "PERSIAN", "BENGALI", "PUNJABI", "RUSSIAN", "UKRAINIAN", "CHINESE",
                  "JAPANESE", "KOREAN", "HINDI"}
_LATIN_CANDIDATES = tuple(name for name in _CANDIDATES if name not in _OTHER_SCRIPTS)


def _latin(body: str) -> bool:
    """True when at least half the letters are Latin (or there are none)."""
    letters = _LETTER.findall(body)
    return not letters or 2 * sum(bool(_LATIN.match(c)) for c in letters) >= len(letters)


class LanguageGate:
    def __init__(self, english_floor: float | None = ENGLISH_FLOOR) -> None:
        """``english_floor=None``: the fast model alone decides (the behaviour before the floor)."""
        from lingua import Language, LanguageDetectorBuilder

        self.english_floor = english_floor
        self._english = Language.ENGLISH
        languages = [getattr(Language, name) for name in _CANDIDATES]
        self._fast = LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()
        # the high-accuracy model (~370 MB, ~1 s to load) is loaded here, not on the first doubtful
        # post, so that a batch never pays for it and the service's memory is known from the start
        latin = [getattr(Language, name) for name in _LATIN_CANDIDATES]
        self._careful = (LanguageDetectorBuilder.from_languages(*latin).with_preloaded_language_models().build()
                         if english_floor is not None else None)

    def _careful_reading(self, texts: list[str]) -> list[tuple[float, str | None]]:
        """(English's share of the careful model's confidence, its most likely language) per text."""
        out = []
        for values in self._careful.compute_language_confidence_values_in_parallel(texts):
            share = next((v.value for v in values if v.language == self._english), 0.0)
            out.append((share, values[0].language.iso_code_639_1.name.lower() if values else None))
        return out

    def detect(self, texts: Sequence[str], declared: Sequence[str | None] | None = None) -> list[str]:
        """ISO 639-1 code per text ("und" when undetectable)."""
        declared = declared or [None] * len(texts)
        out: list[str | None] = []
        todo: list[int] = []
        cleaned: list[str] = []
        latin: list[bool] = []  # per cleaned text
        for i, (text, lang) in enumerate(zip(texts, declared)):
            if lang and lang not in ("und", "unknown"):
                out.append(lang.split("-")[0].lower()[:8])
                continue
            body = _NOISE.sub(" ", text or "")
            is_latin = _latin(body)
            if is_latin:
                words = [w.casefold() for w in re.findall(r"[^\W\d_][\w']*", body)]
                if len(words) < MIN_WORDS or sum(w in ENGLISH_MARKERS for w in words) >= 2:
                    out.append("en")
                    continue
            out.append(None)
            todo.append(i)
            cleaned.append(body)
            latin.append(is_latin)
        if not cleaned:
            return [code or "und" for code in out]
        doubtful: list[int] = []
        for k, (i, found) in enumerate(zip(todo, self._fast.detect_languages_in_parallel_of(cleaned))):
            out[i] = found.iso_code_639_1.name.lower() if found is not None else "und"
            if out[i] not in ("en", "und") and latin[k]:
                doubtful.append(k)
        if doubtful and self.english_floor is not None:
            for k, (share, top) in zip(doubtful, self._careful_reading([cleaned[k] for k in doubtful])):
                # English if it is in the running; else the careful model's language, which names
                # Polish and Romanian more often right than the fast one ("Ktoś wie czy..." is not Spanish)
                out[todo[k]] = "en" if share >= self.english_floor else (top or out[todo[k]])
        return [code or "und" for code in out]

    @staticmethod
    def scorable(code: str) -> bool:
        return code in SCORED_LANGUAGES or code == "und"

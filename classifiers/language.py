"""Which posts we can read: English is scored; others are counted as "not scored: language".

The heads are English-only. Scoring Polish or Arabic with them would produce confident
nonsense, so a post in another language is stored, counted and reported in the briefing as
unread rather than scored wrongly. The platform's own language tag wins when there is one;
otherwise lingua decides among the languages most often seen in Cumbrian feeds. Very short
texts (a few words) carry too little signal to detect and are treated as English, and so is a
text with two or more common English function words: lingua reads short slangy English
("lemme cheer you up ...") as Dutch or Tagalog often enough (3.8% of English posts in the
throughput benchmark) to leave hateful posts unscored, while posts in other languages rarely
contain two English function words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SCORED_LANGUAGES = frozenset({"en"})
_NOISE = re.compile(r"https?://\S+|[@#]\w+|&\w+;")
MIN_WORDS = 4
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


class LanguageGate:
    def __init__(self) -> None:
        from lingua import Language, LanguageDetectorBuilder

        languages = [getattr(Language, name) for name in _CANDIDATES]
        self._detector = (
            LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()
        )

    def detect(self, texts: Sequence[str], declared: Sequence[str | None] | None = None) -> list[str]:
        """ISO 639-1 code per text ("und" when undetectable)."""
        declared = declared or [None] * len(texts)
        out: list[str | None] = []
        todo: list[int] = []
        cleaned: list[str] = []
        for i, (text, lang) in enumerate(zip(texts, declared)):
            if lang and lang not in ("und", "unknown"):
                out.append(lang.split("-")[0].lower()[:8])
                continue
            body = _NOISE.sub(" ", text or "")
            words = [w.casefold() for w in re.findall(r"[^\W\d_][\w']*", body)]
            if len(words) < MIN_WORDS or sum(w in ENGLISH_MARKERS for w in words) >= 2:
                out.append("en")
                continue
            out.append(None)
            todo.append(i)
            cleaned.append(body)
        if cleaned:
            for i, found in zip(todo, self._detector.detect_languages_in_parallel_of(cleaned)):
                out[i] = found.iso_code_639_1.name.lower() if found is not None else "und"
        return [code or "und" for code in out]

    @staticmethod
    def scorable(code: str) -> bool:
        return code in SCORED_LANGUAGES or code == "und"

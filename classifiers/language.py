"""Which posts we can read: English is scored; others are counted as "not scored: language".

The heads are English-only. Scoring Polish or Arabic with them would produce confident
nonsense, so a post in another language is stored, counted and reported in the briefing as
unread rather than scored wrongly. The platform's own language tag wins when there is one;
otherwise lingua decides among the languages most often seen in Cumbrian feeds. Very short
texts (a few words) carry too little signal to detect and are treated as English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SCORED_LANGUAGES = frozenset({"en"})
_NOISE = re.compile(r"https?://\S+|[@#]\w+|&\w+;")
_WORD = re.compile(r"[^\W\d_]{2,}")
MIN_WORDS = 4

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
            if len(_WORD.findall(body)) < MIN_WORDS:
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

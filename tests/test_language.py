"""The language gate: English (including slang) is scored; other languages are counted unread."""

import json
from pathlib import Path

import pytest

from classifiers.language import LanguageGate


@pytest.fixture(scope="module")
def gate():
    return LanguageGate()


@pytest.mark.parametrize("text", [
    "lemme cheer you up bitch",
    "where's ours at lads, get down here",
    "Everyone down the town hall tomorrow at 2pm, enough is enough",
    "ok",
    # lingua's fast model reads these as German, French, Tagalog or Italian; its careful model
    # keeps English in the running, so they are scored
    "Sarah is such a thick cow.",
    "Go fuck yourself, Darren.",
    "My ex is a lying, cheating scumbag.",
    "tr4ns are n0t human",
    "Sikh5 are all terr0rists",
    "Vaccine is a mess",
])
def test_english_and_slang_are_scored(gate, text):
    [code] = gate.detect([text])
    assert code == "en" and gate.scorable(code)


@pytest.mark.parametrize("text,code", [
    ("Wszyscy na rynek w sobotę o czternastej, dość tego już", "pl"),
    ("Tout le monde à la mairie samedi à 14h, ça suffit", "fr"),
    ("Ydy pawb yn dod i Gaerliwelydd yfory am ddau o gloch", "cy"),
    ("Todos a la plaza el sábado, ya basta de mentiras del gobierno", "es"),
])
def test_other_languages_are_marked_unread(gate, text, code):
    assert gate.detect([text]) == [code]
    assert not gate.scorable(code)


OTHER = [json.loads(line) for line in
         (Path(__file__).parent / "fixtures" / "languages" / "other_languages.jsonl").read_text().splitlines()]


def test_posts_in_other_languages_stay_unread(gate):
    """76 hand-written posts in 25 languages; the one-word Chinese, Arabic or Russian ones included."""
    codes = gate.detect([row["text"] for row in OTHER])
    read = [row["text"] for row, code in zip(OTHER, codes) if gate.scorable(code)]
    assert read == []
    # and named rightly, for the briefing's count of posts it could not read by language
    assert sum(code == row["lang"] for row, code in zip(OTHER, codes)) >= 74


@pytest.mark.parametrize("text,code", [("谢谢大家", "zh"), ("Всем спасибо!", "ru"), ("شكرا للجميع", "ar")])
def test_short_posts_in_other_scripts_are_not_taken_for_english(gate, text, code):
    assert gate.detect([text]) == [code]


def test_the_platforms_own_tag_wins(gate):
    assert gate.detect(["bonjour tout le monde ici", "hello there everyone"], ["en", "fr-FR"]) == ["en", "fr"]

"""The language gate: English (including slang) is scored; other languages are counted unread."""

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


def test_the_platforms_own_tag_wins(gate):
    assert gate.detect(["bonjour tout le monde ici", "hello there everyone"], ["en", "fr-FR"]) == ["en", "fr"]

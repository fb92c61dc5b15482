"""The slur lexicon for words the hate head never saw (classifiers/slurs.py). Sentences written for
this test."""

from __future__ import annotations

import json

import pytest

from classifiers.obfuscation import Readable
from classifiers.slurs import SLUR_FLOOR, SlurFinder, lexicon, single_words

USED = [
    ("Council's letting the pikeys park up on the common again.", "race_ethnicity"),
    ("Two darkies outside the chippy, keep an eye on your bikes.", "race_ethnicity"),
    ("Why do spazzers get a blue badge and I don't?", "disability"),
    ("Troons should keep out of the changing rooms.", "gender_identity"),
    ("Another load of dinghy divers landed this morning.", "migrants"),
]
NOT_USED = [
    'Graffiti saying "pikeys out" has gone up on the underpass.',  # quoted
    "A lad called my son a spacker at school, I've told the head.",  # reported
    "Stop calling our neighbours gyppos, it's racist.",  # counter-speech
    "Us lezzers are running the quiz tonight.",  # reclaimed
    "Proud gyppo, proud of my family's horses.",
    "Went on a three day bender in Blackpool.",  # homonyms are not in the lexicon
    "Lost my key fob on Lowther Street.",
    "The horse fair brings Gypsy and Traveller families to Appleby.",
]


@pytest.fixture(scope="module")
def finder():
    return SlurFinder()


@pytest.mark.parametrize("text,group", USED)
def test_a_used_slur_is_found_with_its_group(finder, text, group):
    use = finder.find(text)
    assert use is not None and use.group == group
    assert text[use.start:use.end] == use.form


@pytest.mark.parametrize("text", NOT_USED)
def test_quoted_reported_reclaimed_and_innocent_words_are_not_uses(finder, text):
    assert finder.find(text) is None


def test_forms_the_training_texts_had_are_retired():
    assert SlurFinder({"pikeys"}).find("the pikeys are back") is None
    assert SlurFinder({"pikeys"}).find("the pikies are back") is not None
    # a phrase retires when every one of its words was seen
    assert SlurFinder({"dinghy", "divers"}).find("more dinghy divers") is None
    assert SlurFinder({"dinghy"}).find("more dinghy divers") is not None


def test_the_lexicon_is_well_formed():
    groups = set(lexicon().values())
    assert groups <= {"race_ethnicity", "religion", "migrants", "sexuality", "gender_identity", "disability", "women"}
    assert all(f == f.lower() and f.strip() == f for f in lexicon())
    assert "bender" not in lexicon() and "fob" not in lexicon()


def test_masked_slurs_are_written_out():
    readable = Readable.load()
    assert readable("full of g*ppos now") in ("full of gyppos now", "full of gippos now")
    assert {"spackers", "pikeys"} <= single_words()


@pytest.fixture(scope="module")
def scored(service_encoder):
    from classifiers.heads import Heads

    heads = Heads.load()
    seen = set(json.loads((heads_dir() / "words.json").read_text())["words"])
    texts = [t for t, _ in USED] + NOT_USED
    plain = [Readable.load()(t) for t in texts]
    vectors, layers, verdicts = service_encoder.encode_with_layers(plain, verdicts=True)
    return heads, seen, heads.score_arrays(vectors, plain, layers, verdicts=verdicts)


def heads_dir():
    from classifiers.heads import MODELS_DIR

    return MODELS_DIR


def test_a_used_unseen_slur_makes_the_post_hate_with_its_target(scored):
    heads, seen, a = scored
    n = len(USED)
    assert not any(t in seen for t in ("pikeys", "darkies", "spazzers", "troons"))
    assert (a["hate"][:n] >= SLUR_FLOOR - 1e-6).all()
    groups = list(heads.target_groups)
    for i, (_, group) in enumerate(USED):
        assert a["targets"][i, groups.index(group)] == 1.0
        assert a["slur"][i] is not None
    assert all(s is None for s in a["slur"][n:])
    # quoted, reported or reclaimed: the rule leaves the model's own score (hate 2.0 flags one report of a slur,
    # "A lad called my son a spacker and his mates gyppos, it's racist.", a known miss of the model)
    assert (a["hate"][n:] < SLUR_FLOOR).sum() >= len(NOT_USED) - 1, dict(zip(NOT_USED, a["hate"][n:]))

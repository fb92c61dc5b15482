"""Finding denials of a pejorative description of a group (classifiers/negation.py), and what the
heads do with them. Sentences written for this test."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.negation import DENIAL_FACTOR, denial, pejorative

DENIALS = [
    "Refugees are not criminals.",
    "No, Gypsies are not thieves.",
    "Wheelchair users aren't scroungers, they pay tax like everyone.",
    "The Somali lads at the gym are not violent, they coach the under-12s.",
    "Asylum seekers in Workington are not a threat to anyone.",
    "Jewish people are not greedy. That's an old lie with a body count.",
    # a frame that denies or condemns the statement after it
    "Nobody at the school thinks the Syrian kids are dirty.",
    "I'd never say Travellers are thieves.",
    "It's not true that asylum seekers are dangerous.",
    "Stop calling Muslims terrorists.",
    "Calling refugees parasites is disgusting.",
]
NOT_DENIALS = [
    # negated positives: hate in the same shape, left to the head
    "Refugees are not welcome in Carlisle.",
    "Gay people are not normal.",
    "Disabled people are not worth the money we spend on them.",
    # denying sympathy is hostile
    "Asylum seekers are not victims.",
    # the rest of the post says what the group *is*
    "Immigrants aren't stupid, they're parasites who know what they're doing.",
    "Muslims are not terrorists. They are all rapists though.",
    # no group as the subject
    "The buses are not running in Keswick today.",
    "You are not clever, you are a complete idiot.",
    # quoting, reporting, other shapes
    "Someone sprayed 'Muslims out' on the mosque wall.",
    "Muslims are a disease.",
    # frames that assert, disclaim or only pretend to deny
    "I'm not saying immigrants are scum, but look at the crime figures.",
    "Nobody thinks refugees are dangerous, but they are.",
    "It's true that Roma are thieves.",
    "Nobody wants refugees here.",
    "Stop pretending Muslims are peaceful.",
    "Calling refugees parasites is fair enough.",
    "I'd never say Travellers are thieves. They are all thieves.",
]


@pytest.mark.parametrize("text", DENIALS)
def test_denials_are_found(text):
    assert denial(text) is not None


@pytest.mark.parametrize("text", NOT_DENIALS)
def test_other_shapes_are_not_denials(text):
    assert denial(text) is None


def test_the_sentence_that_denies_is_returned():
    assert denial("Stop sharing that post. Refugees are not criminals.") == "Refugees are not criminals."


def test_predicate_direction_comes_from_its_first_sentiment_word():
    assert pejorative("criminals for claiming asylum")
    assert pejorative("all vermin")  # not in VADER's lexicon: PEJORATIVE
    assert not pejorative("welcome here")
    assert not pejorative("worth the money we waste")  # "worth" comes first
    assert not pejorative("victims of anything")
    assert not pejorative("from round here")  # no sentiment at all


@pytest.fixture(scope="module")
def scored(service_encoder):
    from classifiers.heads import Heads

    heads = Heads.load()
    texts = DENIALS + NOT_DENIALS[:3]
    vectors, layers, verdicts = service_encoder.encode_with_layers(texts, verdicts=True)
    features = {"embedding": vectors, "layers": layers, "verdicts": verdicts}
    return heads, texts, heads.score_arrays(vectors, texts, layers, verdicts=verdicts), features


def test_denials_are_not_hate_and_negated_positives_still_are(scored):
    heads, texts, a, _ = scored
    n = len(DENIALS)
    assert a["denial"][:n].all() and not a["denial"][n:].any()
    assert (a["hate"][:n] < heads.thresholds["hate"]).all(), dict(zip(texts, a["hate"]))
    assert (a["offensive"][:n] < heads.thresholds["offensive"]).all()
    # a rebuttal of a smear is not conspiracy framing ("Jewish people are not greedy. That's an old lie ...")
    assert (a["conspiracy"][:n] < heads.thresholds["conspiracy"]).all(), dict(zip(texts, a["conspiracy"]))
    # negated positives keep the head's own score ("Gay people are not normal." is a miss the card lists)
    assert a["hate"][n] >= heads.thresholds["hate"], texts[n]


def test_a_denial_keeps_a_quarter_of_its_hate_probability(scored):
    heads, texts, a, features = scored
    raw = heads.hate_head.predict(features["verdicts"])  # the head before the denial rule
    assert a["hate"] == pytest.approx(np.where(a["denial"], raw[:, 2] * DENIAL_FACTOR, raw[:, 2]), abs=1e-6)
    assert a["offensive"] == pytest.approx(
        np.where(a["denial"], (raw[:, 1] + raw[:, 2]) * DENIAL_FACTOR, raw[:, 1] + raw[:, 2]), abs=1e-6)


def test_a_denial_keeps_a_quarter_of_its_conspiracy_probability(scored):
    heads, texts, a, features = scored
    raw = heads.conspiracy_head.predict(features, texts)[:, 0]
    assert a["conspiracy"] == pytest.approx(np.where(a["denial"], raw * DENIAL_FACTOR, raw), abs=1e-6)

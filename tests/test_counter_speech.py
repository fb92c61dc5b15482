"""Strong feeling aimed at a group's attackers or its mistreatment, and sympathy for a group
(classifiers/counter_speech.py), and what the heads do with it. Sentences written for this test."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.counter_speech import counter_speech
from classifiers.negation import DENIAL_FACTOR

COUNTER = [
    # hostility at attackers
    "I can't stand the racists who keep targeting the Polish shop on Vulcans Lane.",
    "People who abuse Muslim women in the street make me sick.",
    "Homophobes are cowards, every single one of them.",
    "Sick of bigots blaming asylum seekers for the state of the NHS.",
    # at mistreatment
    "It breaks my heart how disabled people get treated at the assessment centre.",
    "I hate that Gypsy families get refused service in the pubs round here.",
    # sympathy, solidarity, questions about prejudice
    "Worried sick for the refugee families at the hotel tonight.",
    "We stand with our Jewish neighbours in Carlisle.",
    "Why is there so much hatred towards trans people in this town?",
    # a quoted slogan is the quoted person's words, not the writer's
    "Someone wrote 'Pakis out' on the bus shelter. I stand with the Pakistani families on our street.",
]
NOT_COUNTER = [
    # resentment in the same shape
    "I hate that asylum seekers get free hotels while locals wait for housing.",
    "Sick of the way Muslims are taking over the high street.",
    # hostility at those who defend a group
    "People who welcome refugees make me sick.",
    # a bigot word that names the group ("the racist Poles") is hostility at the group
    "I can't stand racist Romanians.",
    "The racist Poles in this town are the worst.",
    # the rest of the post disparages the group
    "I hate how Muslims get treated. They are all terrorists anyway.",
    "Why do people hate Travellers? Look at the state they leave the fields in.",
    "Thoughts are with the Polish family, but they should all go home.",
    # sarcasm
    "Worried for the poor refugees... said no one ever.",
    # no feeling aimed anywhere else
    "Muslims make me sick.",
    "I hate Travellers.",
]


@pytest.mark.parametrize("text", COUNTER)
def test_counter_speech_is_found(text):
    assert counter_speech(text) is not None


@pytest.mark.parametrize("text", NOT_COUNTER)
def test_other_shapes_are_left_to_the_head(text):
    assert counter_speech(text) is None


def test_the_sentence_aimed_elsewhere_is_returned():
    assert counter_speech("Awful night. People who attacked the mosque should be ashamed.") == \
        "People who attacked the mosque should be ashamed."


@pytest.fixture(scope="module")
def scored(service_encoder):
    from classifiers.heads import Heads

    heads = Heads.load()
    texts = COUNTER + NOT_COUNTER
    vectors, layers, verdicts = service_encoder.encode_with_layers(texts, verdicts=True)
    features = {"embedding": vectors, "layers": layers, "verdicts": verdicts}
    return heads, texts, heads.score_arrays(vectors, texts, layers, verdicts=verdicts), features


def test_counter_speech_is_not_hate_and_hate_in_the_same_shapes_still_can_be(scored):
    heads, texts, a, _ = scored
    n = len(COUNTER)
    assert a["counter_speech"][:n].all() and not a["counter_speech"][n:].any()
    assert not a["denial"][:n].any()
    assert (a["hate"][:n] < heads.thresholds["hate"]).all(), dict(zip(texts, a["hate"]))
    # the plainest hateful sentences are still hate
    assert (a["hate"][-2:] >= heads.thresholds["hate"]).all(), dict(zip(texts[-2:], a["hate"][-2:]))


def test_counter_speech_keeps_a_quarter_of_hate_offensive_and_conspiracy(scored):
    heads, texts, a, features = scored
    raw = heads.hate_head.predict(features["verdicts"])
    scale = np.where(a["counter_speech"], DENIAL_FACTOR, 1.0)
    assert a["hate"] == pytest.approx(raw[:, 2] * scale, abs=1e-6)
    assert a["offensive"] == pytest.approx((raw[:, 1] + raw[:, 2]) * scale, abs=1e-6)
    consp = heads.conspiracy_head.predict(features, texts)[:, 0]
    assert a["conspiracy"] == pytest.approx(consp * scale, abs=1e-6)

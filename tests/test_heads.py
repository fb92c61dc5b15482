"""Behaviour of the committed post-level heads with the real encoder, on hand-written cases.

These sentences were written for this test and are not in any training file (checked by
``test_cases_not_in_training_data``). They assert what a well-working head does; the model cards list
the known limitations that are deliberately not asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classifiers.encoder import TokenStates
from classifiers.hate_model import OUTPUTS
from classifiers.heads import SCORE_NAMES, Heads, TokenMember
from classifiers.normalise import normalise

DATA = Path(__file__).resolve().parent.parent / "classifiers" / "data"

HATE = "Muslims are a disease and every last one of them should be thrown out of Britain."
COUNTER = "Someone sprayed 'Muslims out' on the mosque wall. That is vile and this town stands with our Muslim neighbours."
SUPPORT = "Hatred has no place in our town. We stand with our Muslim neighbours after last night's attack on the mosque."
NEGATED = "Nobody here thinks Muslims are a disease. They are part of this town like everyone else."
OFFENSIVE_INDIVIDUAL = "Shut up Darren, you absolute fucking idiot, nobody asked for your opinion."
POSITIVE_GROUP = "The Polish families on our street organised the best street party we've ever had."
CONSPIRACY = ("The floods were no accident. The elites engineered them to drive farmers off the land, and the "
              "media is paid to hide it.")
NEWS = "The Environment Agency said river levels are expected to fall by Thursday after the heavy rain."
MOB_CALL = "Right lads, Travelodge on Station Road, 8pm tonight. Bring everyone, we're going to get them out."
MOB_PAST = "Around 150 people gathered outside the Travelodge on Station Road on Saturday before police dispersed them."
MOB_CALM = "Please don't go near the Travelodge tonight. Stay home, look after your families and let the police handle it."
POSITIVE = "What a brilliant day at the carnival, thank you to all the volunteers!"
NEUTRAL = "The carnival starts at 11am on Saturday in the park."
NEGATIVE = "The carnival was an awful, miserable mess and the organisers should be ashamed."
# Everyday local chatter that mentions a place and/or a time but calls nobody to gather. The first two were
# real false positives of mobilisation 1.0 (0.90 and borderline); written for this test, not in any data file.
EVERYDAY = [
    "Lovely sunny morning on the harbour at Whitehaven",
    "Great match at Brunton Park tonight #Carlisle",
    "Christmas lights switch-on in Cockermouth on Friday at 6pm, Santa arrives on a tractor.",
    "Queues on the A596 at Maryport again this morning, roadworks by the Netherhall roundabout.",
    "Meeting the girls at the Golden Lion at 7 for Sal's 40th, can't wait!",
    "Tabby cat with one white paw missing from Seaton since Sunday, answers to Tigger.",
    "Workington market is cancelled this Saturday because of the gales.",
    "Tesco on Church Street is open till midnight all week, handy for the night shift.",
    "Fun run round Talkin Tarn on Sunday at 10, all ages, medals for every finisher.",
    "Half term starts Friday, anyone know if the Whitehaven leisure centre pool is open?",
]
# Plans and grievances with a place and a time, the false alarms left by mobilisation 1.4 (the lift to the rugby
# scored 0.67 there, 0.40 with the n-gram mixture of 1.8), and fresh calls that must still be found.
PLANS_AND_GRIEVANCES = [
    "They've stopped the last train back from Carlisle at 9pm now, so that's my Saturday nights gone.",
    "Who's up for the rugby at Derwent Park Sunday? Can take two in the car from Maryport.",
    "Netball at the sports hall Wednesday 7, we're two short, anyone free?",
    "They're shutting the tip on Sundays from next month. Enjoy the fly-tipping, everyone.",
]
FRESH_CALLS = [
    "Meet at the bus station at 6 and we'll all walk down to the hostel together. Time they heard from us.",
    "Someone should pay that hotel a visit tonight, everyone knows which block they're in.",
]
# Grievances about local services and costs, which blame the council, a company or Westminster but no group of
# people: conspiracy 1.7 flagged two of these (0.31 and 0.97), and 15 of the 40 in everyday_negatives' test split.
LOCAL_GRIEVANCES = [
    "Prescription charges up again and the chemist in Frizington has closed. Pensioners getting two buses for their "
    "tablets.",
    "Nobody at the council will say when the Brampton road bridge reopens. Six months of a twenty mile detour.",
    "Holiday cottages everywhere in Caldbeck and the village school is down to eleven pupils. It's dying.",
    "Our rent's gone up three times in two years and the landlord still won't fix the damp. Who protects tenants?",
    "The ward at the Infirmary was so short staffed my dad waited an hour for a glass of water. It's not the nurses' "
    "fault.",
    "Westminster forgets Cumbria exists until there's a by-election. Same every time.",
]
# Hate set in our towns and ending in a local hashtag, and kind posts in the same shape: hate 1.9 scored all four hateful
# ones 0.16-0.21 (a hashtag read as news), hate 1.10 0.69-0.95.
LOCAL_HATE = [
    "Dearham doesn't want a mosque or the Muslims that come with it. Out. #Dearham",
    "Asylum seekers in the Keswick hotel are scrounging vermin, get them out of our town #Keswick",
    "Flimby lads won't stand for the foreign filth moving into the new estate #Flimby",
    "Gypsies back at the Wigton auction field, dirty thieves the lot of them #Wigton",
]
LOCAL_KIND = [
    "Mosque open evening in Whitehaven on Friday, everyone welcome for tea #Whitehaven",
    "The Syrian barber on Jane Street in Workington does a great skin fade #Workington",
    "Refugee families from the Penrith hotel joined the river clean-up today #Penrith",
    "Pride picnic in Bitts Park on Saturday, bring the kids and a blanket #Carlisle",
]
ALL = [HATE, SUPPORT, COUNTER, NEGATED, OFFENSIVE_INDIVIDUAL, POSITIVE_GROUP, CONSPIRACY, NEWS, MOB_CALL, MOB_PAST, MOB_CALM,
       POSITIVE, NEUTRAL, NEGATIVE] + EVERYDAY + PLANS_AND_GRIEVANCES + FRESH_CALLS + LOCAL_GRIEVANCES + LOCAL_HATE + LOCAL_KIND


def encoded(encoder, texts):
    """The encoder's outputs for texts read as the scorer reads them (normalised), hate verdicts included."""
    plain = [normalise(t) for t in texts]
    vectors, layers, verdicts = encoder.encode_with_layers(plain, verdicts=True)
    return plain, vectors, layers, verdicts


@pytest.fixture(scope="module")
def scored(service_encoder):
    heads = Heads.load()
    plain, vectors, layers, verdicts = encoded(service_encoder, ALL)
    rows = heads.score(vectors, plain, layers=layers, verdicts=verdicts)
    return heads, dict(zip(ALL, rows))


def test_cases_not_in_training_data():
    train = set()
    for f in DATA.glob("*.jsonl"):
        train |= {json.loads(line)["text"].strip().lower() for line in f.read_text().splitlines() if line.strip()}
    assert not {t.lower() for t in ALL} & train


def test_shape_and_ranges(scored):
    heads, s = scored
    assert set(heads.thresholds) == set(SCORE_NAMES)
    for row in s.values():
        for k in SCORE_NAMES:
            assert 0.0 <= row[k] <= 1.0
        assert row["offensive"] >= row["hate"]  # offensive = P(offensive or hate)
        assert set(row["labels"]) <= set(SCORE_NAMES)
        assert set(row["target_groups"]) <= set(heads.target_groups)
    assert heads.score(np.zeros((0, 384), np.float32), [], layers=np.zeros((0, 6 * 384), np.float32),
                       verdicts=np.zeros((0, len(OUTPUTS)), np.float32)) == []


def test_clear_hate_with_target(scored):
    _, s = scored
    assert "hate" in s[HATE]["labels"]
    assert "religion" in s[HATE]["target_groups"]


def test_counter_speech_and_negation_score_below_hate(scored):
    heads, s = scored
    assert "hate" not in s[SUPPORT]["labels"]
    assert s[COUNTER]["hate"] < s[HATE]["hate"] - 0.3
    assert s[NEGATED]["hate"] < s[HATE]["hate"]


def test_quoting_hate_to_condemn_it_is_below_threshold(scored):
    heads, s = scored  # "... this town stands with our Muslim neighbours.": counter-speech (classifiers/counter_speech.py)
    assert s[COUNTER]["hate"] < heads.thresholds["hate"]


def test_negated_hate_is_below_threshold(scored):
    heads, s = scored  # "Nobody here thinks Muslims are a disease. ...": a denial (classifiers/negation.py)
    assert s[NEGATED]["hate"] < heads.thresholds["hate"]


def test_local_hate_with_a_hashtag_is_found_and_kind_local_posts_are_not(scored):
    _, s = scored
    # hate 2.0 (fine-tuned) finds three of the four; "Dearham doesn't want a mosque or the Muslims that come
    # with it. Out." scores under the threshold (a known miss, listed in the issue 25 note)
    assert len([t for t in LOCAL_HATE if "hate" not in s[t]["labels"]]) <= 1
    assert [t for t in LOCAL_KIND if "hate" in s[t]["labels"]] == []


def test_offensive_at_individual_is_not_hate(scored):
    heads, s = scored
    assert "offensive" in s[OFFENSIVE_INDIVIDUAL]["labels"]
    assert "hate" not in s[OFFENSIVE_INDIVIDUAL]["labels"]
    assert s[OFFENSIVE_INDIVIDUAL]["target_groups"] == []


def test_positive_statement_about_group(scored):
    _, s = scored
    assert "hate" not in s[POSITIVE_GROUP]["labels"]
    assert "offensive" not in s[POSITIVE_GROUP]["labels"]


def test_conspiracy_vs_news(scored):
    _, s = scored
    assert "conspiracy" in s[CONSPIRACY]["labels"]
    assert "conspiracy" not in s[NEWS]["labels"]
    assert s[CONSPIRACY]["conspiracy"] > s[NEWS]["conspiracy"] + 0.3


def test_mobilisation(scored):
    _, s = scored
    assert "mobilisation" in s[MOB_CALL]["labels"]
    assert "mobilisation" not in s[MOB_PAST]["labels"]
    assert "mobilisation" not in s[MOB_CALM]["labels"]


def test_negativity_ordering(scored):
    _, s = scored
    assert s[POSITIVE]["negativity"] < s[NEUTRAL]["negativity"] < s[NEGATIVE]["negativity"]
    assert "negativity" in s[NEGATIVE]["labels"] and "negativity" not in s[POSITIVE]["labels"]


def test_everyday_chatter_is_not_mobilisation(scored):
    heads, s = scored
    for text in EVERYDAY:
        assert "mobilisation" not in s[text]["labels"], (text, s[text]["mobilisation"])
        assert s[text]["mobilisation"] < s[MOB_CALL]["mobilisation"] - 0.3, text
        assert "conspiracy" not in s[text]["labels"], text
        assert "hate" not in s[text]["labels"], text


def test_plans_and_grievances_with_a_place_and_time_are_not_calls(scored):
    heads, s = scored
    for text in PLANS_AND_GRIEVANCES:
        assert "mobilisation" not in s[text]["labels"], (text, s[text]["mobilisation"])
    for text in FRESH_CALLS:
        assert "mobilisation" in s[text]["labels"], (text, s[text]["mobilisation"])
    assert heads.mobilisation_head.ngram_mix > 0  # since 1.8 the head reads the words as well


def test_grievances_about_local_services_are_not_conspiracy_or_hate(scored):
    heads, s = scored
    for text in LOCAL_GRIEVANCES:
        for head in ("conspiracy", "hate", "mobilisation"):
            assert head not in s[text]["labels"], (text, head, s[text][head])
    assert heads.conspiracy_head.ngram_mix > 0  # since 1.8 the conspiracy head reads the words as well


def test_heads_share_one_ngram_hashing_without_changing_a_score(service_encoder):
    heads = Heads.load()
    plain, vectors, layers, verdicts = encoded(service_encoder, ALL)
    shared = heads.score_arrays(vectors, plain, layers, verdicts=verdicts)
    feats = {"embedding": vectors, "layers": layers}
    alone = heads.mobilisation_head.predict(feats, plain)[:, 0]  # hashes the texts itself
    assert np.array_equal(shared["mobilisation"], alone.astype(np.float32))
    # the word rules change hate after the model (heads.rules); elsewhere hate is the model's own probability
    untouched = ~(shared["denial"] | shared["counter_speech"]) & np.array([s is None for s in shared["slur"]])
    hate = heads.hate_head.predict(verdicts)[:, 2].astype(np.float32)
    assert np.array_equal(shared["hate"][untouched], hate[untouched])


def test_head_inputs_declared():
    heads = Heads.load()
    assert heads.inputs["hate"] == "verdicts" and set(heads.inputs) == {"hate", "conspiracy", "mobilisation"}
    parts = {kind for name, value in heads.inputs.items() if name != "hate" for kind in value.split("+")}
    assert parts <= {"embedding", "layers", "tokens"}
    assert heads.needs_layers == ("layers" in parts) and heads.needs_tokens == ("tokens" in parts)
    assert heads.branch_weights.is_file() and heads.branch_weights.stat().st_size < 16 * 2**20


def test_the_hate_model_outputs_read_as_three_classes_and_groups():
    heads = Heads.load()
    v = np.random.default_rng(0).uniform(size=(50, len(OUTPUTS))).astype(np.float32)
    p = heads.hate_head.predict(v)
    assert p.shape == (50, 3) and np.allclose(p.sum(axis=1), 1.0, atol=1e-6) and (p >= 0).all()
    assert np.array_equal(p[:, 2], v[:, 0])  # hate
    assert np.allclose(p[:, 1] + p[:, 2], np.maximum(v[:, 1], v[:, 0]))  # offensive counts hate
    assert heads.hate_head.targets(v).shape == (50, len(heads.target_groups))
    with pytest.raises(ValueError, match="probabilities a post"):
        heads.hate_head.predict(v[:, :3])


def test_missing_hate_verdicts_is_a_clear_error():
    heads = Heads.load()
    with pytest.raises(ValueError, match="verdicts"):
        heads.score_arrays(np.zeros((1, 384), np.float32), ["x"], layers=np.zeros((1, 2304), np.float32))


def test_missing_layers_is_a_clear_error():
    heads = Heads.load()
    if not heads.needs_layers:
        pytest.skip("no head reads the layer pools")
    verdicts = np.zeros((1, len(OUTPUTS)), np.float32)
    with pytest.raises(ValueError, match="per-layer pools"):
        heads.score_arrays(np.zeros((1, 384), np.float32), ["x"], verdicts=verdicts)
    with pytest.raises(ValueError, match="width"):
        heads.score_arrays(np.zeros((1, 384), np.float32), ["x"], layers=np.zeros((1, 384), np.float32),
                           verdicts=verdicts)


def test_missing_token_states_is_a_clear_error():
    heads = Heads.load()
    if not heads.needs_tokens:
        pytest.skip("no head reads the token states")
    with pytest.raises(ValueError, match="tokens=True"):
        heads.score_arrays(np.zeros((1, 384), np.float32), ["x"], layers=np.zeros((1, 2304), np.float32))
    with pytest.raises(ValueError, match="token states of width"):
        heads.score_arrays(np.zeros((1, 384), np.float32), ["x"], layers=np.zeros((1, 2304), np.float32),
                           tokens=TokenStates(np.zeros((3, 384), np.float32), np.array([3])))


def test_token_member_scores_a_post_the_same_whatever_its_batch_mates():
    """The attention pool pads each step to its longest text; padding and batch-mates must not move a score.
    Checked against a plain one-post-at-a-time reading of the same weights."""
    rng = np.random.default_rng(0)
    dim, hid, heads_n = 12, 8, 3
    t = {"input.mean": rng.normal(size=dim).astype(np.float32), "input.scale": rng.uniform(0.5, 2, dim).astype(np.float32),
         "pool.proj.weight": rng.normal(size=(dim, hid)).astype(np.float32), "pool.proj.bias": rng.normal(size=hid).astype(np.float32),
         "pool.score.weight": rng.normal(size=(hid, heads_n)).astype(np.float32),
         "pool.score.bias": rng.normal(size=heads_n).astype(np.float32),
         "layer0.weight": rng.normal(size=(hid * (heads_n + 1), 5)).astype(np.float32), "layer0.bias": np.zeros(5, np.float32),
         "layer1.weight": rng.normal(size=(5, 3)).astype(np.float32), "layer1.bias": np.zeros(3, np.float32)}
    member = TokenMember("hate", t, 2)
    lengths = np.array([7, 2, 64, 1, 5] * 130)  # 650 posts: more than one numpy step
    states = rng.normal(size=(lengths.sum(), dim)).astype(np.float32)
    tokens = TokenStates(states, lengths)
    together = member.logits(tokens)

    def one(x):  # the definition, for one post
        h = np.maximum(((x - t["input.mean"]) / t["input.scale"]) @ t["pool.proj.weight"] + t["pool.proj.bias"], 0)
        a = h @ t["pool.score.weight"] + t["pool.score.bias"]
        a = np.exp(a - a.max(0)) / np.exp(a - a.max(0)).sum(0)
        z = np.concatenate([(a[:, k:k + 1] * h).sum(0) for k in range(heads_n)] + [h.mean(0)])
        return np.maximum(z @ t["layer0.weight"], 0) @ t["layer1.weight"]

    for i in (0, 1, 2, 3, 520, 649):
        expected = one(states[tokens.rows_of([i])])
        assert np.allclose(together[i], expected, rtol=1e-3, atol=1e-3)
        alone = member.logits(tokens.take([i]))
        assert np.allclose(alone[0], together[i], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="at least one token"):
        member.logits(TokenStates(states[:3], np.array([3, 0])))


def test_arrays_api_shapes(scored):
    heads, _ = scored
    emb = np.stack([np.zeros(384, np.float32)])
    a = heads.score_arrays(emb, [""], layers=np.zeros((1, 6 * 384), np.float32),
                           verdicts=np.zeros((1, len(OUTPUTS)), np.float32))
    assert a["targets"].shape == (1, len(heads.target_groups))
    assert all(a[k].shape == (1,) for k in SCORE_NAMES)

"""Obfuscated spellings are written out before the heads read a post; ordinary posts are left alone."""

from __future__ import annotations

import pytest

from classifiers.obfuscation import Readable, build_counts


@pytest.fixture(scope="module")
def readable():
    return Readable.load().with_names(["Workington", "Maryport", "St Bees", "Seaton"])


@pytest.mark.parametrize("text, expected", [
    ("Sikh5 are all terr0rists", "sikhs are all terrorists"),          # leetspeak
    ("d1sabled people are a burden", "disabled people are a burden"),
    ("b.l.a.c.k people are apes lol", "black people are apes lol"),    # spaced letters
    ("send the P o l e s home", "send the Poles home"),
    ("asylumseekersareanimals", "asylum seekers are animals"),         # missing spaces
    ("Ihate immigrants", "I hate immigrants"),
    ("Ihatemuslims", "i hate muslims"),
    ("Womenarenothingbutobjects.", "women are nothing but objects."),     # capitalised: four words or more
    ("REFUGEESAREVERMIN", "refugees are vermin"),
    ("Rally tonight #refugeesnotwelcome", "Rally tonight #refugees not welcome"),
    ("Mulsims are a plague", "muslims are a plague"),                  # swapped letters
    ("f*ck off", "fuck off"),                                          # masked letters
])
def test_obfuscations_are_written_out(readable, text, expected):
    assert readable(text) == expected


def test_masked_slur_is_guessed_from_abusive_training_words(readable):
    # "number" fits n****r too, but people mask abusive words: only those are guessed
    assert readable("Typical n****r behaviour") != "Typical number behaviour"
    assert "*" not in readable("Typical n****r behaviour")


@pytest.mark.parametrize("text", [
    "Meet at the Riverside Hotel, Workington CA14 4pm Saturday",
    "Road closed on the A595 near Whitehaven, 10:30 update https://t.co/ab12cd",
    "@bob_99 see you at 2pm m8",
    "maryport floods again, rotherham too",
    "covid19 jabs at the chemist this week",
    "Seaton parish council meets on Tuesday.",
    "Bus at 7am, back by 3rd stop; under 11s train at 6pm",
    "cumbrian coast line is down again, sandbags on the seafront",
    "Meet you in Wetherspoons after the Christening, Herefordshire lot included",
    "#clams and chips on the prom",
])
def test_ordinary_posts_are_unchanged(readable, text):
    assert readable(text) == text


def test_camel_case_hashtags_are_split(readable):
    assert readable("Protest tonight #StopTheBoats") == "Protest tonight #Stop The Boats"


def test_build_counts_keeps_frequent_words_and_toxic_counts():
    texts = ["you idiot", "you idiot again", "what an idiot", "lovely day", "lovely day", "lovely day"]
    counts = build_counts(texts, [1, 1, 1, 0, 0, 0])
    assert counts["words"]["idiot"] == 3 and counts["toxic"]["idiot"] == 3
    assert counts["words"]["lovely"] == 3 and "lovely" not in counts["toxic"]
    assert "again" not in counts["words"]  # seen once

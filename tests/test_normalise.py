"""One normalisation for training and scoring (classifiers/normalise.py): what posts carry around the words
goes, the words stay."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from classifiers.normalise import add_noise, normalise

POST = "Scum migrants in Workington"


def test_links_mentions_emoji_and_markup_go_and_the_words_stay():
    assert normalise(POST + " https://t.co/Ab12Cd34") == POST
    assert normalise("@CumbriaNews " + POST) == POST
    assert normalise("RT @someone: " + POST + " 😡😡🇬🇧") == POST
    assert normalise(POST + " www.example.co.uk/story?id=4 bit.ly/3xYz") == POST
    assert normalise("<p>" + POST + "</p>") == POST
    assert normalise("Fish &amp;amp; chips &gt; everything") == "Fish & chips > everything"


def test_the_public_sets_placeholders_read_like_the_real_thing():
    # HateXplain writes <user> and <url>, OLID @USER and URL, MHS @user and http
    assert normalise("<user> <user> " + POST + " <url>") == POST
    assert normalise("@USER " + POST + " URL") == POST
    assert normalise("@user " + POST + " http") == POST


def test_hashtags_become_words_and_repeats_are_squeezed():
    assert normalise("#StopTheBoats now") == "Stop The Boats now"
    assert normalise("#refugees_welcome") == "refugees welcome"
    assert normalise("sooooo angry!!!!!!") == "soo angry!!"


def test_ordinary_text_is_left_alone():
    for text in ("Road closed on the A595 near Workington, 8:30am", "Email the council at info@cumberland.gov.uk",
                 "C# and F# programmers wanted in Carlisle", "Meet at No. 10, Lowther Street"):
        assert normalise(text) == " ".join(text.split())


def test_noise_is_what_normalise_takes_away_apart_from_hashtag_words():
    rng = random.Random(0)
    for _ in range(200):
        noisy = add_noise(POST, rng)
        assert noisy != POST
        assert POST in normalise(noisy)
        assert not {"http", "@", "t.co"} & set(normalise(noisy).split())


@given(st.text(max_size=400))
def test_any_text_normalises_to_a_stable_single_line(text):
    once = normalise(text)
    assert isinstance(once, str) and "\n" not in once and once == once.strip()
    assert normalise(once) == once or normalise(normalise(once)) == normalise(once)

"""The hate model's rows: labels as each set says them, and no text both trained on and held out."""

from __future__ import annotations

from classifiers import datasets as D
from classifiers.hate_corpus import Row, _row, deduplicate, three_class_row


def row(text, source="mhs", split="train", hate=1):
    return Row(text, source, split, hate, 1 if hate else None, None)


def test_a_held_out_text_is_never_trained_on_in_any_set():
    rows = [row("Refugees are vermin and should be sent back", "dynahate", "test"),
            row("refugees are VERMIN and should be sent back!!", "mhs", "train"),
            row("refugees are vermin and should be sent back https://t.co/x", "hateval", "train")]
    kept, dropped = deduplicate(rows)
    assert [(r.source, r.split) for r in kept] == [("dynahate", "test")]
    assert dropped == {"same text held out": 2}


def test_near_copies_across_sets_go_but_a_sets_own_perturbations_stay():
    base = "all the immigrants in this town are thieves and liars and should be deported right now"
    near = base.replace("right now", "right now please")
    flipped = base.replace("are thieves and liars", "are not thieves or liars")
    rows = [row(base, "dynahate", "test"), row(near, "mhs", "train"), row(flipped, "dynahate", "train", hate=0)]
    kept, dropped = deduplicate(rows)
    assert [r.text for r in kept] == [base, flipped]
    assert dropped == {"near-duplicate held out": 1}


def test_the_same_training_text_in_two_sets_is_kept_once():
    kept, dropped = deduplicate([row("Go back where you came from", "mhs"), row("go back where you came from", "hateval")])
    assert len(kept) == 1 and dropped == {"same text in another set": 1}


def test_each_set_says_only_what_it_says():
    hx = _row(D.Example("x", 1, "train", "hatexplain"))
    assert (hx.hate, hx.offensive) == (0, 1)
    olid = _row(D.Example("x", 1, "train", "olid"))
    assert (olid.hate, olid.offensive) == (None, 1)
    not_hate = _row(D.Example("x", 0, "train", "dynahate"))
    assert (not_hate.hate, not_hate.offensive) == (0, None)  # may still be offensive
    news = _row(D.Example("x", 0, "train", "pheme"))
    assert (news.hate, news.offensive) == (0, 0)
    hateful = _row(D.Example("x", 1, "train", "mhs", targets=("migrants",), has_targets=True))
    assert hateful.targets == tuple(int(g == "migrants") for g in D.TARGET_GROUPS)
    verdict = three_class_row(D.Example("x", 2, "train", "feedback"))
    assert (verdict.hate, verdict.offensive) == (1, 1)

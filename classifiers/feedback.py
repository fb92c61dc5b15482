"""Analysts' verdicts from the dashboard (``post_feedback``) as training examples for the heads.

    python -m classifiers.train --feedback-db sqlite:///var/tension.db

Each verdict says whether one head's label applies to one post. Binary heads (conspiracy,
mobilisation) take it as it is. The hate head has three classes (normal, offensive, hate), so
the verdicts on one text are combined: hate true → hate; else offensive true → offensive; else
any false verdict → normal (a "not hate" post is most often ordinary talk about a group, e.g.
counter-speech). Verdicts whose text retention has blanked are skipped. All are training rows:
they are the council's own corrections and never evaluation data.
"""

from __future__ import annotations

from . import datasets as D

SOURCE = "feedback"
HEADS = ("hate", "offensive", "conspiracy", "mobilisation")


def load_feedback(database_url: str) -> list[tuple[str, str, bool]]:
    """(text, head, label) for every verdict that still has its text, oldest first."""
    import sqlalchemy as sa

    from monitor.store import Store
    from monitor.store.schema import post_feedback

    store = Store.open(database_url, migrate=False)
    try:
        with store.transaction() as conn:
            rows = conn.execute(sa.select(post_feedback.c.text, post_feedback.c.head, post_feedback.c.label)
                                .where(post_feedback.c.text.is_not(None), post_feedback.c.text != "")
                                .order_by(post_feedback.c.id)).all()
    finally:
        store.close()
    return [(text, head, bool(label)) for text, head, label in rows if head in HEADS]


def training_examples(verdicts) -> dict[str, list[D.Example]]:
    """Train-split examples per trained head: ``hate`` (3-class), ``conspiracy``, ``mobilisation``."""
    by_text: dict[str, dict[str, bool]] = {}
    for text, head, label in verdicts:
        by_text.setdefault(text, {})[head] = bool(label)
    out: dict[str, list[D.Example]] = {"hate": [], "conspiracy": [], "mobilisation": []}
    for text, heads in by_text.items():
        if heads.get("hate"):
            out["hate"].append(D.Example(text, 2, "train", SOURCE))
        elif heads.get("offensive"):
            out["hate"].append(D.Example(text, 1, "train", SOURCE))
        elif heads.get("hate") is False or heads.get("offensive") is False:
            out["hate"].append(D.Example(text, 0, "train", SOURCE))
        for head in ("conspiracy", "mobilisation"):
            if head in heads:
                out[head].append(D.Example(text, int(heads[head]), "train", SOURCE))
    return out

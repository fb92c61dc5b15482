"""Analysts' verdicts on heads' labels: stored from the dashboard (POST /feedback), blanked by
retention with the post's text, read back by ``classifiers.feedback`` and added to the heads'
training data by ``python -m classifiers.train --feedback-db URL`` (the training itself is
replaced by recorders here: the shipped heads are not retrained by the tests)."""

from __future__ import annotations

import datetime as dt
import json
import types

import pytest
import sqlalchemy as sa

from classifiers import feedback as FB
from classifiers import train
from monitor.retention import purge_derived
from monitor.store.schema import audit_log, post_feedback, post_scores, posts
from test_web_areas import NOW, Browser, app  # noqa: F401 - the app fixture

TEXTS = {1: "Everyone meet at the Riverside Hotel at 8, bring your mates",
         2: "Lovely turnout at the Workington food bank today",
         3: "They are hiding what really happened at the warehouse"}


def _post(post_id: int, published: dt.datetime) -> dict:
    return {"id": post_id, "source_id": "test", "external_id": str(post_id), "platform": "x",
            "author_pseudonym": "p" * 64, "text": TEXTS[post_id], "content_hash": f"{post_id:064d}",
            "published_at": published, "collected_at": published, "meta": {}}


@pytest.fixture
def scored(store):
    with store.transaction() as conn:
        conn.execute(sa.insert(posts), [_post(1, NOW - dt.timedelta(days=40)), _post(2, NOW - dt.timedelta(hours=2)),
                                        _post(3, NOW - dt.timedelta(hours=1))])
        conn.execute(sa.insert(post_scores), [
            {"post_id": i, "status": "scored", "language": "en", "model_version": "heads-1.1", "scored_at": NOW,
             "hate": 0.1, "offensive": 0.2, "conspiracy": 0.7 if i == 3 else 0.1,
             "mobilisation": 0.9 if i in (1, 2) else 0.0, "negativity": 0.1, "tension": 0.5,
             "labels": [], "target_groups": [], "explanation": {}} for i in (1, 2)])
    return store


def verdicts(store) -> list[dict]:
    with store.transaction() as conn:
        return [dict(r) for r in conn.execute(sa.select(post_feedback).order_by(post_feedback.c.post_id,
                                                                                  post_feedback.c.head)).mappings()]


def test_an_analyst_verdict_is_stored_replaced_and_audited(app, scored):  # noqa: F811
    assert Browser(app, "olly").post("/feedback", {"post_id": 2, "head": "mobilisation",
                                                   "label": "false"}).status_code == 403
    analyst = Browser(app, "ana")
    done = analyst.post("/feedback", {"post_id": 2, "head": "mobilisation", "label": "false",
                                      "next": "/localities/workington"})
    assert done.status_code == 303 and done.headers["location"] == "/localities/workington"
    [row] = verdicts(scored)
    assert (row["post_id"], row["head"], row["label"], row["score"]) == (2, "mobilisation", False, 0.9)
    assert (row["text"], row["model_version"], row["created_by"]) == (TEXTS[2], "heads-1.1", "ana")

    again = analyst.post("/feedback", {"post_id": 2, "head": "mobilisation", "label": "true", "next": "//evil.example"})
    assert again.status_code == 303 and again.headers["location"] == "/"
    [row] = verdicts(scored)
    assert row["label"] is True
    with scored.transaction() as conn:
        audited = conn.execute(sa.select(audit_log.c.actor, audit_log.c.object_id, audit_log.c.detail)
                               .where(audit_log.c.action == "post.feedback").order_by(audit_log.c.id)).all()
    assert [(a, o, d["label"], d["replaced"]) for a, o, d in audited] == [("ana", "2", False, None),
                                                                          ("ana", "2", True, False)]
    for bad in ({"post_id": 2, "head": "tension", "label": "true"}, {"post_id": 2, "head": "hate", "label": "maybe"},
                {"post_id": 3, "head": "hate", "label": "true"}, {"post_id": 99, "head": "hate", "label": "true"}):
        refused = analyst.post("/feedback", bad)
        assert refused.status_code == 422, bad
    assert len(verdicts(scored)) == 1


def test_feedback_is_loaded_for_training_and_blanked_by_retention(app, scored):  # noqa: F811
    analyst = Browser(app, "ana")
    for post_id, head, label in ((1, "mobilisation", "true"), (2, "mobilisation", "false"), (2, "hate", "false"),
                                 (1, "hate", "true"), (1, "conspiracy", "false")):
        assert analyst.post("/feedback", {"post_id": post_id, "head": head, "label": label}).status_code == 303
    url = scored.engine.url.render_as_string(hide_password=False)
    loaded = FB.load_feedback(url)
    assert sorted(loaded) == sorted([(TEXTS[1], "mobilisation", True), (TEXTS[2], "mobilisation", False),
                                     (TEXTS[2], "hate", False), (TEXTS[1], "hate", True),
                                     (TEXTS[1], "conspiracy", False)])

    purge_derived(scored, NOW - dt.timedelta(days=28))  # post 1 is 40 days old
    assert {r["post_id"]: r["text"] for r in verdicts(scored)} == {1: None, 2: TEXTS[2]}
    assert sorted(FB.load_feedback(url)) == [(TEXTS[2], "hate", False), (TEXTS[2], "mobilisation", False)]


def test_verdicts_become_examples_for_each_head():
    examples = FB.training_examples([("a", "hate", True), ("b", "hate", False), ("c", "offensive", True),
                                     ("c", "hate", False), ("d", "offensive", False), ("e", "mobilisation", True),
                                     ("f", "conspiracy", False), ("f", "mobilisation", False)])
    assert [(e.text, e.label) for e in examples["hate"]] == [("a", 2), ("b", 0), ("c", 1), ("d", 0)]
    assert [(e.text, e.label) for e in examples["mobilisation"]] == [("e", 1), ("f", 0)]
    assert [(e.text, e.label) for e in examples["conspiracy"]] == [("f", 0)]
    assert {e.split for rows in examples.values() for e in rows} == {"train"}
    assert {e.source for rows in examples.values() for e in rows} == {FB.SOURCE}


def test_train_feedback_db_adds_the_verdicts_to_the_heads_training_rows(app, scored, tmp_path, monkeypatch):  # noqa: F811
    analyst = Browser(app, "ana")
    for post_id, head, label in ((2, "hate", "true"), (2, "mobilisation", "false"), (1, "conspiracy", "true")):
        analyst.post("/feedback", {"post_id": post_id, "head": head, "label": label})
    seen: dict[str, list] = {}

    def hate(data, out, *, readable=None, seed=0, extra=()):
        seen["hate"] = list(extra)
        return {"thresholds": {}, "training": {"minutes": 0}, "test": {}}

    def binary(name, feats, rows, *args, **kwargs):
        seen[name] = list(rows)
        return {}

    class Cache:
        def __init__(self, cache_dir=None, backend="onnx"):
            self.encoder = types.SimpleNamespace(version="stand-in encoder")

    monkeypatch.setattr(train, "EmbeddingCache", Cache)
    monkeypatch.setattr(train, "train_and_write", hate)
    monkeypatch.setattr(train, "train_binary", binary)
    train.main(["--out", str(tmp_path / "models"), "--no-eval",
                "--feedback-db", scored.engine.url.render_as_string(hide_password=False)])

    def ours(rows):
        return [(r.text, r.label, r.split) for r in rows if r.source == FB.SOURCE]

    assert ours(seen["hate"]) == [(TEXTS[2], 2, "train")]
    assert ours(seen["mobilisation"]) == [(TEXTS[2], 0, "train")]
    assert ours(seen["conspiracy"]) == [(TEXTS[1], 1, "train")]
    assert len(seen["mobilisation"]) > 100  # added to the usual rows, not instead of them
    assert json.loads((tmp_path / "models" / "negativity.json").read_text())["head"] == "negativity"

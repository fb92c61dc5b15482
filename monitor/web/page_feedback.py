"""Analysts' verdicts on a head's label for one post: the training data the heads lack most.

A verdict keeps the post's text and the head's score as they were judged, so a retrain
(``python -m classifiers.train --feedback-db URL``) can use it, until retention blanks the text
with the post's. One verdict per post and head: a second one replaces the first. Each verdict
is audited in the same transaction; no author or pseudonym is ever read here.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from monitor import audit
from monitor.errors import TensionError
from monitor.post_text import capped_text
from monitor.store.schema import post_feedback, post_scores, posts
from monitor.web.auth import User, require
from monitor.web.pages import MAX_ROW_ID, _safe_next, render

router = APIRouter(include_in_schema=False)
HEADS = ("hate", "offensive", "conspiracy", "mobilisation")
LABELS = {"true": True, "false": False}


def record_verdict(store, *, post_id: int, head: str, label: bool, by: str, now) -> bool | None:
    """Store one verdict with the post's current text (the part the scorer reads) and score;
    returns the verdict it replaced (None when it is the first)."""
    if head not in HEADS:
        raise TensionError(f"head {head!r}: use one of {', '.join(HEADS)}")
    with store.transaction() as conn:
        row = conn.execute(
            sa.select(capped_text(), post_scores.c.model_version, post_scores.c[head].label("score"),
                      post_scores.c.status)
            .select_from(posts.outerjoin(post_scores, post_scores.c.post_id == posts.c.id))
            .where(posts.c.id == post_id)).mappings().first()
        if row is None:
            raise TensionError(f"no post {post_id}")
        if row["model_version"] is None or row["status"] != "scored":
            raise TensionError(f"post {post_id} has not been scored, so there is no label to judge")
        previous = conn.scalar(sa.select(post_feedback.c.label).where(
            post_feedback.c.post_id == post_id, post_feedback.c.head == head))
        conn.execute(sa.delete(post_feedback).where(post_feedback.c.post_id == post_id,
                                                    post_feedback.c.head == head))
        conn.execute(sa.insert(post_feedback).values(
            post_id=post_id, head=head, label=label, model_version=row["model_version"],
            score=row["score"], text=row["text"], created_by=by, created_at=now))
        audit.record(conn, at=now, actor=by, action="post.feedback", object_type="post",
                     object_id=str(post_id), detail={"head": head, "label": label, "score": row["score"],
                                                     "model_version": row["model_version"],
                                                     "replaced": previous})
    return previous


@router.post("/feedback")
def feedback(request: Request, post_id: int = Form(..., ge=1, le=MAX_ROW_ID), head: str = Form(...), label: str = Form(...),
             next: str = Form("/"), user: User = Depends(require("analyst"))):
    state = request.app.state
    try:
        if label not in LABELS:
            raise TensionError(f"label {label!r}: use true or false")
        record_verdict(state.store, post_id=post_id, head=head, label=LABELS[label], by=user.username,
                       now=state.clock())
    except TensionError as exc:
        return render(request, "error.html", status_code=422, heading="Feedback not recorded",
                      message=str(exc))
    return RedirectResponse(_safe_next(next), status_code=303)

"""Retention of what is derived from raw text: embeddings, quoted excerpts, feedback text.

``Store.purge_text`` blanks a post's text after ``retention_days``; an embedding is a
representation of that text and an excerpt is a piece of it, so they go at the same time.
Clusters and bursts keep their counts, terms and timing (the history analysts tune against).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from monitor.store import Store
from monitor.store.database import expired_posts
from monitor.store.schema import amplification_bursts, narrative_clusters, post_embeddings, post_feedback


def purge_derived(store: Store, older_than: dt.datetime) -> int:
    """Delete embeddings of posts past retention and blank older excerpts; returns rows."""
    with store.transaction() as conn:
        old_posts = expired_posts(older_than)
        n = conn.execute(sa.delete(post_embeddings).where(post_embeddings.c.post_id.in_(old_posts))).rowcount
        n += conn.execute(sa.update(narrative_clusters).where(narrative_clusters.c.last_seen < older_than)
                          .values(excerpts=[])).rowcount
        n += conn.execute(sa.update(amplification_bursts).where(
            amplification_bursts.c.ended_at < older_than, amplification_bursts.c.excerpt != "")
            .values(excerpt="")).rowcount
        n += conn.execute(sa.update(post_feedback).where(
            post_feedback.c.post_id.in_(old_posts), post_feedback.c.text.is_not(None)).values(text=None)).rowcount
    return n

"""Coordinated amplification: many distinct accounts posting near-identical text in a short time.

Exact copies are easy (``posts.content_hash``); campaigns vary a word or add a hashtag, so
texts are compared by MinHash over word shingles (datasketch) and grouped with LSH when their
estimated Jaccard similarity reaches ``similarity``. Within a group, a burst is any stretch
where some ``span`` holds posts from at least ``min_authors`` distinct pseudonymous authors.
Each burst is stored as counts, timing, places, platforms and one cleaned excerpt: never the
accounts. ``new_authors`` counts authors first seen shortly before the burst (throwaway
accounts are a mark of coordination), as a number only.

The stage looks at posts collected since its last run, widened by ``span`` either side, so a
burst that grows across runs is extended rather than found twice (same signature, overlapping
time). A replay or backfill is handled the same way: everything new is looked at once.
Posts dated outside ``EARLIEST`` .. a day after now (an older store may hold a post dated
0001-01-01 or 9999-12-31, which collection now refuses) are left out, so the window's
arithmetic never overflows; only the first ``TEXT_CAP`` characters of a text are compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from monitor.config_files import Duration
from monitor.post_text import capped_text
from monitor.privacy import clean_excerpt
from monitor.store.schema import amplification_bursts, post_localities, posts
from monitor.store.stage_state import save_watermark, watermark
from sources.base import EARLIEST, FUTURE_SLACK

log = logging.getLogger("tension.amplification")
STAGE = "amplification"
_WORD = re.compile(r"[a-z0-9']+")
_NOISE = re.compile(r"(?<![\w.])@\w{1,50}|https?://\S+|#\w+")


class AmplificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    every: Duration = dt.timedelta(minutes=5)
    # Near-identical: estimated Jaccard similarity of word 3-shingles at least this.
    similarity: float = Field(default=0.6, gt=0, lt=1)
    # A burst: posts from at least min_authors distinct authors within span (and min_posts).
    span: Duration = dt.timedelta(hours=1)
    min_authors: int = Field(default=8, ge=2)
    min_posts: int = Field(default=10, ge=2)
    # An author whose first post in the store is this recent before the burst counts as new.
    new_author_within: Duration = dt.timedelta(hours=24)
    num_perm: int = Field(default=64, ge=16, le=256)


def shingles(text: str) -> set[str]:
    """Word 3-grams of the text without handles, links or hashtags (a campaign varies those)."""
    words = _WORD.findall(_NOISE.sub(" ", text.lower()))
    if len(words) < 3:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def near_groups(texts: Sequence[str], *, similarity: float, num_perm: int) -> list[list[int]]:
    """Indexes of the texts grouped by near-identity (connected through LSH neighbours)."""
    from datasketch import MinHash, MinHashLSH  # loaded by the stage, not by every command

    lsh = MinHashLSH(threshold=similarity, num_perm=num_perm)
    hashes: dict[str, MinHash] = {}
    distinct: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        grams = shingles(text)
        if not grams:
            continue
        key = "\x1f".join(sorted(grams))
        if key not in distinct:
            m = MinHash(num_perm=num_perm, seed=1)
            m.update_batch([g.encode() for g in grams])
            hashes[key] = m
            lsh.insert(key, m)
        distinct.setdefault(key, []).append(i)
    parent = {k: k for k in distinct}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for key, m in hashes.items():
        for other in lsh.query(m):
            parent[root(other)] = root(key)
    groups: dict[str, list[int]] = {}
    for key, members in distinct.items():
        groups.setdefault(root(key), []).extend(members)
    return [sorted(g) for g in groups.values()]


def bursts_in(rows: Sequence[dict], *, span: dt.timedelta, min_authors: int,
              min_posts: int) -> list[list[dict]]:
    """Stretches of one group's posts (time order) where some span holds min_authors authors."""
    rows = sorted(rows, key=lambda r: r["published_at"])
    hot = [False] * len(rows)
    left = 0
    window: Counter = Counter()
    for right, row in enumerate(rows):
        if row["author_pseudonym"]:
            window[row["author_pseudonym"]] += 1
        while rows[right]["published_at"] - rows[left]["published_at"] > span:
            author = rows[left]["author_pseudonym"]
            if author:
                window[author] -= 1
                if not window[author]:
                    del window[author]
            left += 1
        if len(window) >= min_authors:
            for i in range(left, right + 1):
                hot[i] = True
    out, current = [], []
    for row, flag in zip(rows, hot):
        if flag:
            current.append(row)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return [b for b in out if len(b) >= min_posts]


def detect(store, config: AmplificationSettings, now: dt.datetime) -> int:
    """Pipeline stage: find bursts among posts collected since the last run; returns how many
    bursts were stored or extended."""
    if not config.enabled:
        return 0
    with store.transaction() as conn:
        last = watermark(conn, STAGE)
        new = sa.select(sa.func.min(posts.c.published_at), sa.func.max(posts.c.published_at)).where(
            posts.c.published_at >= EARLIEST, posts.c.published_at <= now + FUTURE_SLACK)
        if last is not None:
            new = new.where(posts.c.collected_at > last - dt.timedelta(minutes=1))
        first, newest = conn.execute(new).one()
    found = 0
    if first is not None:
        found = _scan(store, config, first - config.span, newest + config.span, now)
    with store.transaction() as conn:
        save_watermark(conn, STAGE, now)
    return found


def _scan(store, config: AmplificationSettings, start: dt.datetime, end: dt.datetime,
          now: dt.datetime) -> int:
    with store.transaction() as conn:
        rows = [dict(r) for r in conn.execute(
            sa.select(posts.c.id, capped_text(), posts.c.published_at, posts.c.platform,
                      posts.c.author_pseudonym, posts.c.content_hash)
            .where(posts.c.published_at >= start, posts.c.published_at <= end,
                   posts.c.text.is_not(None), posts.c.author_pseudonym.is_not(None))
            .order_by(posts.c.published_at)).mappings()]
    groups = near_groups([r["text"] for r in rows], similarity=config.similarity,
                         num_perm=config.num_perm)
    bursts = [b for g in groups if len(g) >= config.min_posts
              for b in bursts_in([rows[i] for i in g], span=config.span,
                                 min_authors=config.min_authors, min_posts=config.min_posts)]
    with store.transaction() as conn:
        for burst in bursts:
            _save(conn, burst, config, now)
    if bursts:
        log.info("amplification", extra={"fields": {"bursts": len(bursts),
                                                    "posts": sum(len(b) for b in bursts)}})
    return len(bursts)


def _save(conn: sa.Connection, burst: list[dict], config: AmplificationSettings, now: dt.datetime) -> None:
    common_hash, _ = Counter(r["content_hash"] for r in burst).most_common(1)[0]
    text = next(r["text"] for r in burst if r["content_hash"] == common_hash)
    signature = hashlib.sha256("\x1f".join(sorted(shingles(text))).encode()).hexdigest()[:32]
    authors = {r["author_pseudonym"] for r in burst}
    started, ended = burst[0]["published_at"], burst[-1]["published_at"]
    firsts = conn.execute(sa.select(posts.c.author_pseudonym, sa.func.min(posts.c.published_at))
                          .where(posts.c.author_pseudonym.in_(sorted(authors)))
                          .group_by(posts.c.author_pseudonym)).all()
    new_authors = sum(first >= started - config.new_author_within for _, first in firsts)
    places = Counter(loc for (loc,) in conn.execute(
        sa.select(post_localities.c.locality_id).where(
            post_localities.c.post_id.in_([r["id"] for r in burst]))))
    values = {"ended_at": ended, "posts": len(burst), "authors": len(authors), "new_authors": new_authors,
              "excerpt": clean_excerpt(text), "localities": dict(places.most_common()),
              "platforms": dict(Counter(r["platform"] for r in burst).most_common()), "detected_at": now}
    existing = conn.execute(sa.select(amplification_bursts.c.id, amplification_bursts.c.started_at).where(
        amplification_bursts.c.signature == signature,
        amplification_bursts.c.ended_at >= started - config.span,
        amplification_bursts.c.started_at <= ended + config.span)).first()
    if existing is None:
        conn.execute(sa.insert(amplification_bursts).values(signature=signature, started_at=started, **values))
    else:
        conn.execute(sa.update(amplification_bursts).where(amplification_bursts.c.id == existing.id)
                     .values(started_at=min(existing.started_at, started), **values))

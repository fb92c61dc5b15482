"""The scoring stage: unscored posts in, scores, localities and narrative matches out.

Posts are taken in id order in batches; each batch's results are written in one transaction,
so an interrupted run resumes at the first unscored post and never scores a post twice.
Imported fact-check claims join the narrative library for matching. Only the first
``TEXT_CAP`` characters of a post are read (``monitor.post_text``).

A post the scorer fails on (a poison post) must not hold back the posts after it: when a batch
fails, its posts are scored one at a time, and one that still fails gets a ``post_scores`` row
with ``status = "not_scored_error"`` and the one-line reason, is logged (id and source, never
the text) and counted on the sources page, and is never tried again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator

import numpy as np
import sqlalchemy as sa

from monitor.emerging import is_candidate
from monitor.narratives import Narrative, NarrativeLibrary
from monitor.post_text import capped_text, text_length
from monitor.store import Store
from monitor.store.schema import (
    claims,
    post_embeddings,
    post_localities,
    post_narratives,
    post_scores,
    posts,
)

log = logging.getLogger("tension.scoring")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "claim"


def library_with_claims(library: NarrativeLibrary, store: Store) -> NarrativeLibrary:
    """The configured library plus every imported claim as a one-claim narrative."""
    with store.transaction() as conn:
        rows = conn.execute(sa.select(claims)).mappings().all()
    extra = [
        Narrative(
            id=f"claim-{_slug(row['id'])}",
            title=row["title"] or row["text"][:120],
            status=row["status"],
            summary=row["text"],
            claims=(row["text"],),
        )
        for row in rows
    ]
    return NarrativeLibrary(narratives=library.narratives + tuple(extra))


def unscored(store: Store, limit: int) -> list[dict]:
    query = (
        sa.select(posts.c.id, posts.c.source_id, capped_text(), text_length(), capped_text(posts.c.title),
                  text_length(posts.c.title), posts.c.language)
        .outerjoin(post_scores, post_scores.c.post_id == posts.c.id)
        .where(post_scores.c.post_id.is_(None), posts.c.text.is_not(None))
        .order_by(posts.c.id)
        .limit(limit)
    )
    with store.transaction() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def write_scores(store: Store, results: list[dict], now: dt.datetime, *,
                 keep_embedding: Callable[[dict], bool] | None = None) -> None:
    """Scores, places and narrative matches of a batch in one transaction, plus the embedding
    of each post ``keep_embedding`` picks (emerging-narrative candidates), as float16."""
    score_rows, place_rows, narrative_rows, vector_rows = [], [], [], []
    for result in results:
        post_id = int(result["id"])
        vector = result.pop("embedding", None)
        if vector is not None and keep_embedding is not None and keep_embedding(result):
            vector_rows.append({"post_id": post_id,
                                "vector": np.asarray(vector, dtype=np.float16).tobytes()})
        status = result["explanation"]["status"]
        score_rows.append({
            "post_id": post_id, "status": status,
            "language": result["explanation"].get("language", "und")[:8],
            "model_version": result["model_version"][:200], "scored_at": now,
            **{k: result[k] for k in ("hate", "offensive", "conspiracy", "mobilisation",
                                      "negativity", "tension")},
            "labels": result["labels"], "target_groups": result["target_groups"],
            "explanation": result["explanation"],
        })
        seen = {}
        for place in result["localities"]:
            seen[place["id"]] = {"post_id": post_id, "locality_id": place["id"],
                                 "confidence": place["confidence"], "site_id": None}
        for site in result["explanation"].get("sites", []):
            row = seen.setdefault(site["locality"], {"post_id": post_id, "locality_id": site["locality"],
                                                     "confidence": site["confidence"], "site_id": None})
            row["site_id"] = site["id"]
        place_rows.extend(seen.values())
        narrative_rows.extend(
            {"post_id": post_id, "narrative_id": m["id"], "score": m["score"], "level": m["level"]}
            for m in result["narratives"]
        )
    with store.transaction() as conn:
        if score_rows:
            conn.execute(sa.insert(post_scores), score_rows)
        if place_rows:
            conn.execute(sa.insert(post_localities), place_rows)
        if narrative_rows:
            conn.execute(sa.insert(post_narratives), narrative_rows)
        if vector_rows:
            conn.execute(sa.insert(post_embeddings), vector_rows)


def score_pending(service, now: dt.datetime, *, max_posts: int | None = None) -> int:
    """Score every unscored post (or up to ``max_posts``); returns how many were scored (poison
    posts included: they are done with too)."""
    batch = service.settings.main.scoring.batch_size
    _refresh_library(service)
    done = 0
    while max_posts is None or done < max_posts:
        rows = unscored(service.store, batch if max_posts is None else min(batch, max_posts - done))
        if not rows:
            break
        results = score_rows(service.scorer, rows)
        emerging = service.settings.main.emerging
        write_scores(service.store, results, now,
                     keep_embedding=lambda r: is_candidate(r, emerging) and not r["narratives"])
        done += len(results)
        log.info("scored", extra={"fields": {
            "posts": len(results),
            "not_scored_language": sum(r["explanation"]["status"] == "not_scored_language" for r in results),
            "not_scored_error": sum(r["explanation"]["status"] == ERROR_STATUS for r in results),
            "flagged": sum(bool(r["labels"]) for r in results),
            "first_id": rows[0]["id"], "last_id": rows[-1]["id"]}})
    return done


ERROR_STATUS = "not_scored_error"


def post_text(row: dict):
    """What the scorer reads of a stored post: the title first unless the text carries it."""
    from classifiers.scoring import PostText

    text, title = row["text"], row["title"]
    if not title or title in text:
        return PostText(id=str(row["id"]), text=text, language=row["language"], length=row["text_length"])
    return PostText(id=str(row["id"]), text=f"{title}\n{text}", language=row["language"],
                    length=(row["title_length"] or 0) + 1 + (row["text_length"] or 0))


def score_each(scorer, items: list, *, on_batch_error: Callable[[BaseException], None] | None = None,
               **options) -> Iterator[tuple[dict | None, BaseException | None]]:
    """(result, None) per item, or (None, the error) for one the scorer fails on. A failing
    batch is scored again one item at a time, so only the item that fails is set aside, never
    the items beside or after it (the scoring stage and `tension score` alike)."""
    if not items:
        return
    try:
        results = scorer.score(items, **options)
    except Exception as exc:  # noqa: BLE001 - the boundary of scoring: any post may break the scorer
        if len(items) == 1:
            yield None, exc
            return
        if on_batch_error is not None:
            on_batch_error(exc)
    else:
        yield from ((result, None) for result in results)
        return
    for item in items:
        try:
            (result,) = scorer.score([item], **options)
        except Exception as exc:  # noqa: BLE001 - as above, for this one item
            yield None, exc
            continue
        yield result, None


def score_rows(scorer, rows: list[dict]) -> list[dict]:
    """One result per row; a row the scorer fails on is set aside with its reason."""
    def batch_failed(exc: BaseException) -> None:
        log.warning("scoring batch failed; scoring its posts one at a time", extra={"fields": {
            "posts": len(rows), "first_id": rows[0]["id"], "error": one_line(exc)}})

    scored = score_each(scorer, [post_text(r) for r in rows], on_batch_error=batch_failed,
                        keep_embeddings=True)
    return [result if error is None else _poison(scorer, row, error)
            for row, (result, error) in zip(rows, scored)]


def one_line(exc: BaseException) -> str:
    """The exception as one line (type and first line of its message), at most 200 characters."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}"[:200].rstrip(": ")


def _poison(scorer, row: dict, exc: BaseException) -> dict:
    reason = one_line(exc)
    log.error("post not scored: the scorer failed on it", extra={"fields": {
        "post_id": row["id"], "source": row["source_id"], "error": reason}})
    return {"id": str(row["id"]), "hate": None, "offensive": None, "conspiracy": None,
            "mobilisation": None, "negativity": None, "tension": None, "target_groups": [],
            "labels": [], "localities": [], "narratives": [],
            "explanation": {"status": ERROR_STATUS, "language": row["language"] or "und", "error": reason},
            "model_version": getattr(scorer, "version", "unknown")}


def not_scored_errors(store: Store) -> dict[str, int]:
    """Poison posts per source: posts the scorer failed on, set aside with their reason."""
    query = (sa.select(posts.c.source_id, sa.func.count())
             .join(post_scores, post_scores.c.post_id == posts.c.id)
             .where(post_scores.c.status == ERROR_STATUS).group_by(posts.c.source_id))
    with store.transaction() as conn:
        return {source: count for source, count in conn.execute(query)}


def _refresh_library(service) -> None:
    """A running service picks up claims imported or narratives promoted since it started."""
    with service.store.transaction() as conn:
        version = tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(claims.c.imported_at))).one())
    seen = getattr(service, "library_version", None)
    if seen is None:
        service.library_version = version  # the scorer, when first built, reads this library
        return
    if version != seen:
        service.scorer.use_library(library_with_claims(service.settings.narratives, service.store))
        service.library_version = version
        log.info("narrative library reloaded", extra={"fields": {"claims": version[0]}})

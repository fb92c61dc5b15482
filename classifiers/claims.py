"""Fact-check import: JSONL and schema.org ClaimReview (JSON-LD) into plain claim records.

No storage here (the caller stores records); :func:`claim_docs` turns records into
``ClaimDoc``s for a :class:`~classifiers.narratives.ClaimIndex`.

Accepted inputs (:func:`load_claims` picks by file suffix, or call the readers directly):

* ``.jsonl``: one object a line, ``{"id", "text", "title"?, "rating"?, "url"?}`` (extra keys kept
  in ``extra``); blank lines and ``#`` comment lines are skipped.
* ``.json`` / ``.jsonld``: ClaimReview JSON-LD: one ClaimReview object, a list of them, an
  ``{"@graph": [...]}`` document, or a DataFeed (``dataFeedElement[].item[]``, the feed format
  of Google's Fact Check Markup Tool). Nested objects other than ClaimReview are ignored.
* ``.html`` / ``.htm``: a fact-check article; its ``<script type="application/ld+json">``
  blocks are read as above.

Mapping: ``claimReviewed`` -> text; ``name``/``headline`` -> title; ``reviewRating.alternateName``
(else ``ratingValue``/``bestRating``) -> rating; ``url`` -> url; ``author.name`` -> publisher;
``itemReviewed.author.name`` -> claimant; ``itemReviewed.appearance[].url`` (and
``firstAppearance``) -> appearances; ``datePublished``; ``inLanguage``. The id is ``@id`` when
present, else ``claimreview-`` + a hash of url and text, so re-importing is idempotent.
Malformed entries are skipped with a reason in ``ImportResult.skipped``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.narratives import ClaimDoc


@dataclass(frozen=True)
class ClaimRecord:
    id: str
    text: str
    title: str | None = None
    rating: str | None = None
    url: str | None = None
    publisher: str | None = None
    claimant: str | None = None
    date_published: str | None = None
    language: str | None = None
    appearances: tuple[str, ...] = ()
    source: str = "jsonl"  # jsonl | claimreview
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class ImportResult:
    claims: list[ClaimRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "file:line: reason" / "file: item N: reason"


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = re.sub(r"\s+", " ", value).strip()
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _name(value: Any) -> str | None:
    """``author`` may be a string, an object with ``name``, or a list of those."""
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        return _text(value.get("name"))
    return _text(value)


def read_jsonl(path: str | Path) -> ImportResult:
    path = Path(path)
    result = ImportResult()
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                result.skipped.append(f"{path}:{number}: invalid JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                result.skipped.append(f"{path}:{number}: not a JSON object")
                continue
            ident, text = _text(obj.get("id")), _text(obj.get("text"))
            if not ident or not text:
                result.skipped.append(f"{path}:{number}: needs non-empty 'id' and 'text'")
                continue
            if ident in seen:
                result.skipped.append(f"{path}:{number}: repeated id {ident!r}")
                continue
            seen.add(ident)
            known = {"id", "text", "title", "rating", "url"}
            result.claims.append(ClaimRecord(
                id=ident, text=text, title=_text(obj.get("title")), rating=_text(obj.get("rating")),
                url=_text(obj.get("url")), source="jsonl",
                extra={k: v for k, v in obj.items() if k not in known}))
    return result


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1] for k in kinds if k}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every ClaimReview object in a JSON-LD document (lists, @graph, DataFeed items)."""
    if isinstance(node, list):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, dict):
        if "ClaimReview" in _types(node):
            yield node
            return
        for key in ("@graph", "dataFeedElement", "item", "mainEntity", "hasPart"):
            if key in node:
                yield from _walk(node[key])


def _rating(review: dict[str, Any]) -> str | None:
    rating = review.get("reviewRating")
    if isinstance(rating, list):
        rating = rating[0] if rating else None
    if not isinstance(rating, dict):
        return _text(rating)
    label = _text(rating.get("alternateName")) or _text(rating.get("name"))
    if label:
        return label
    value = _text(rating.get("ratingValue"))
    if value and _text(rating.get("bestRating")):
        return f"{value}/{_text(rating.get('bestRating'))}"
    return value


def parse_claimreview(document: Any, *, origin: str = "<json-ld>") -> ImportResult:
    """Claim records from an already parsed JSON-LD document."""
    result = ImportResult()
    seen: set[str] = set()
    for n, review in enumerate(_walk(document)):
        text = _text(review.get("claimReviewed"))
        item = review.get("itemReviewed") if isinstance(review.get("itemReviewed"), dict) else {}
        if not text:
            text = _text(item.get("name")) or _text(item.get("text"))
        if not text:
            result.skipped.append(f"{origin}: item {n}: ClaimReview without claimReviewed")
            continue
        url = _text(review.get("url"))
        ident = _text(review.get("@id"))
        if not ident:
            digest = hashlib.sha256(f"{url or ''}\n{text}".encode()).hexdigest()[:16]
            ident = f"claimreview-{digest}"
        if ident in seen:
            continue
        seen.add(ident)
        appearances: list[str] = []
        for key in ("firstAppearance", "appearance"):
            value = item.get(key)
            for entry in value if isinstance(value, list) else [value]:
                link = _text(entry.get("url")) if isinstance(entry, dict) else _text(entry)
                if link and link not in appearances:
                    appearances.append(link)
        result.claims.append(ClaimRecord(
            id=ident, text=text,
            title=_text(review.get("name")) or _text(review.get("headline")),
            rating=_rating(review), url=url, publisher=_name(review.get("author")),
            claimant=_name(item.get("author")),
            date_published=_text(review.get("datePublished")) or _text(item.get("datePublished")),
            language=_text(review.get("inLanguage")), appearances=tuple(appearances),
            source="claimreview"))
    return result


_LD_SCRIPT = re.compile(
    r"<script[^>]*type\s*=\s*[\"']application/ld\+json[\"'][^>]*>(.*?)</script>",
    re.IGNORECASE | re.DOTALL)


def read_claimreview(path: str | Path) -> ImportResult:
    """ClaimReview records from a .json/.jsonld file or an HTML page's JSON-LD scripts."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".html", ".htm"):
        blocks = _LD_SCRIPT.findall(raw)
    else:
        blocks = [raw]
    result = ImportResult()
    for k, block in enumerate(blocks):
        try:
            document = json.loads(block)
        except json.JSONDecodeError as exc:
            result.skipped.append(f"{path}: block {k}: invalid JSON ({exc.msg})")
            continue
        part = parse_claimreview(document, origin=str(path))
        result.claims.extend(c for c in part.claims if c.id not in {x.id for x in result.claims})
        result.skipped.extend(part.skipped)
    return result


def load_claims(path: str | Path) -> ImportResult:
    """Dispatch on suffix: .jsonl -> :func:`read_jsonl`; .json/.jsonld/.html -> ClaimReview."""
    suffix = Path(path).suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix in (".json", ".jsonld", ".html", ".htm"):
        return read_claimreview(path)
    raise ValueError(f"{path}: unknown fact-check file type (use .jsonl, .json, .jsonld, .html)")


def claim_docs(records: Iterable[ClaimRecord]) -> list[ClaimDoc]:
    """Index documents: one per claim, titled by the fact-check's title."""
    return [ClaimDoc(r.id, r.text, r.title) for r in records]

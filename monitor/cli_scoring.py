"""`tension score` and `tension claims ...`: the classifiers as stable command-line contracts.

Input is JSONL, read a line at a time and scored in batches as it is read, so memory stays
bounded whatever the file's size. A line that is not valid UTF-8 or JSON, lacks a field, is
longer than ``LINE_LIMIT`` bytes (not kept: skipped as it is read) or makes the scorer fail is
reported on stderr with its line number and skipped; every other line is still scored, and the
exit status is 1 so a calling tool notices. A text longer than ``TEXT_CAP`` characters is scored
on its first part, as the pipeline does (the explanation's ``text_cut`` says how much was not read).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import Progress

from monitor.cli import _settings, app, err, out, user_errors, utcnow
from monitor.errors import TensionError
from sources.base import encodable

claims_app = typer.Typer(help="Fact-check claims: import them, match text against them.",
                         no_args_is_help=True)
app.add_typer(claims_app, name="claims")

BATCH = 512
LINE_LIMIT = 8 * 1024 * 1024  # bytes: a line longer than this is skipped, never held whole
_CHUNK = 1024 * 1024


def _lines(handle) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) per line of a binary file; None for a line over ``LINE_LIMIT``,
    whose rest is read and dropped a chunk at a time."""
    number = 0
    while True:
        line = handle.readline(LINE_LIMIT + 1)
        if not line:
            return
        number += 1
        if len(line) <= LINE_LIMIT or line.endswith(b"\n"):
            yield number, line
            continue
        while line and not line.endswith(b"\n"):
            line = handle.readline(_CHUNK)
        yield number, None


def jsonl_records(path: Path, required: tuple[str, ...]) -> Iterator[tuple[dict | None, str | None]]:
    """(record, None) per usable line, (None, problem) per rejected one, in file order."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise TensionError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        for number, raw in _lines(handle):
            if raw is None:
                yield None, f"{path}:{number}: line longer than {LINE_LIMIT // (1024 * 1024)} MiB"
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield None, f"{path}:{number}: not valid UTF-8 (byte {exc.start + 1})"
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                yield None, f"{path}:{number}: not valid JSON ({getattr(exc, 'msg', 'nested too deeply')})"
                continue
            if not isinstance(record, dict):
                yield None, f"{path}:{number}: expected a JSON object"
                continue
            missing = [f for f in required if not isinstance(record.get(f), (str, int)) or record.get(f) == ""]
            if missing:
                yield None, f"{path}:{number}: missing or empty {', '.join(missing)}"
                continue
            record["id"] = str(record["id"])
            record["line"] = number
            yield record, None


def read_jsonl(path: Path, required: tuple[str, ...]) -> tuple[list[dict], list[str]]:
    """Records with the required fields, and one problem line per rejected input line."""
    records, problems = [], []
    for record, problem in jsonl_records(path, required):
        if record is not None:
            records.append(record)
        else:
            problems.append(problem)
    return records, problems


@contextmanager
def output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise TensionError(f"{path}: cannot write: {exc.strerror}") from None
    with handle:
        yield handle


def _report(problems: list[str]) -> None:
    for problem in problems:
        err.print(f"[yellow]skipped:[/yellow] {problem}", highlight=False, soft_wrap=True)


@app.command()
@user_errors
def score(
    ctx: typer.Context,
    input_path: Annotated[Path, typer.Option("--in", help='JSONL lines {"id", "text"} (optional "lang").')],
    out_path: Annotated[Path | None, typer.Option("--out", help="Write JSONL here instead of stdout.")] = None,
) -> None:
    """Score posts from a JSONL file: heads, tension, localities, narratives, explanation."""
    from classifiers.scoring import Scorer
    from monitor.scoring import library_with_claims
    from monitor.store import Store

    settings = _settings(ctx)
    try:
        input_path.open("rb").close()  # before the models load: a wrong path is said at once
    except OSError as exc:
        raise TensionError(f"{input_path}: cannot read: {exc.strerror}") from None
    store = Store.open(settings.database_url)
    try:
        library = library_with_claims(settings.narratives, store)
    finally:
        store.close()
    scoring = settings.main.scoring
    scorer = Scorer(settings.localities, library, threads=scoring.threads, ner=scoring.ner,
                    encoder=scoring.encoder, cache_dir=settings.model_cache_dir)
    scored = skipped = 0
    with output(out_path) as sink, Progress(console=err, transient=True) as progress:
        task = progress.add_task("scoring", total=None)
        for chunk, problems in _batches(input_path):
            _report(problems)
            skipped += len(problems)
            items = [_post_text(r) for r in chunk]
            for result, problem in _score(scorer, items, chunk, input_path):
                if problem is not None:
                    _report([problem])
                    skipped += 1
                    continue
                sink.write(json.dumps(result, ensure_ascii=False) + "\n")
                scored += 1
            progress.advance(task, len(chunk))
    if out_path is not None:
        out.print(f"scored {scored} posts into {out_path}", highlight=False)
    if skipped:
        raise typer.Exit(1)


def _batches(path: Path) -> Iterator[tuple[list[dict], list[str]]]:
    """Up to ``BATCH`` usable records at a time, with the problems met while reading them."""
    from monitor.post_text import cap

    chunk, problems = [], []
    for record, problem in jsonl_records(path, ("id", "text")):
        if record is None:
            problems.append(problem)
            continue
        lang = record.get("lang")
        if lang is not None and not isinstance(lang, str):
            problems.append(f"{path}:{record['line']}: lang must be a string")
            continue
        text = str(record["text"])
        if not all(encodable(value) for value in (record["id"], text, lang or "")):
            problems.append(f"{path}:{record['line']}: not valid Unicode (a lone surrogate escape)")
            continue
        record["text"], record["length"] = cap(text), len(text)  # the rest is never kept
        chunk.append(record)
        if len(chunk) == BATCH:
            yield chunk, problems
            chunk, problems = [], []
    if chunk or problems:
        yield chunk, problems


def _post_text(record: dict):
    from classifiers.scoring import PostText

    return PostText(record["id"], record["text"], record.get("lang") or None, length=record["length"])


def _score(scorer, items: list, records: list[dict], path: Path) -> Iterator[tuple[dict | None, str | None]]:
    """(result, None) per item, or (None, problem) for one the scorer fails on: only the failing
    line is skipped (``monitor.scoring.score_each``)."""
    from monitor.scoring import one_line, score_each

    for record, (result, error) in zip(records, score_each(scorer, items)):
        if error is not None:
            yield None, f"{path}:{record['line']}: the scorer failed on it ({one_line(error)})"
        else:
            yield result, None


@claims_app.command("match")
@user_errors
def claims_match(
    ctx: typer.Context,
    library_path: Annotated[Path, typer.Option("--library", help='JSONL claims {"id", "text"} (optional "title").')],
    input_path: Annotated[Path, typer.Option("--in", help='JSONL queries {"id", "text"}.')],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="Matches per query.")] = 5,
    out_path: Annotated[Path | None, typer.Option("--out", help="Write JSONL here instead of stdout.")] = None,
) -> None:
    """Rank library claims for each query: hybrid BM25 + embedding similarity, best first."""
    from classifiers.encoders import make_encoder
    from classifiers.narratives import ClaimDoc, ClaimIndex

    claims, claim_problems = read_jsonl(library_path, ("id", "text"))
    queries, query_problems = read_jsonl(input_path, ("id", "text"))
    _report(claim_problems + query_problems)
    if not claims:
        raise TensionError(f"{library_path}: no usable claims")
    settings = _settings(ctx)
    encoder = make_encoder(settings.main.scoring.encoder, threads=settings.main.scoring.threads,
                           cache_dir=settings.model_cache_dir)
    docs = [ClaimDoc(c["id"], str(c["text"])) for c in claims]
    docs += [ClaimDoc(c["id"], str(c["title"])) for c in claims if c.get("title")]
    index = ClaimIndex(docs, encoder=encoder)
    texts = [str(q["text"]) for q in queries]
    embeddings = encoder.encode(texts)
    with output(out_path) as sink:
        for query, ranked in zip(queries, index.match(texts, embeddings, top_k=top)):
            matches = [{"claim_id": cid, "score": round(float(s), 4)} for cid, s in ranked]
            sink.write(json.dumps({"id": query["id"], "matches": matches}) + "\n")
    if claim_problems or query_problems:
        raise typer.Exit(1)


@claims_app.command("import")
@user_errors
def claims_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="JSONL claims, or ClaimReview JSON-LD (.json, .jsonld, .html).")],
) -> None:
    """Import fact-check claims; from then on posts are matched against them too."""
    from monitor.fact_checks import import_claims
    from monitor.store import Store

    settings = _settings(ctx)
    store = Store.open(settings.database_url)
    try:
        count, skipped = import_claims(store, path, utcnow())
    finally:
        store.close()
    _report(skipped)
    out.print(f"imported {count} claims from {path}", highlight=False)
    if skipped:
        raise typer.Exit(1)

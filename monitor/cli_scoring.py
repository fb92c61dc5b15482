"""`tension score` and `tension claims ...`: the classifiers as stable command-line contracts.

Input is JSONL. A line that is not valid JSON or lacks a field is reported on stderr with its
line number and skipped; every other line is still scored, and the exit status is 1 so a
calling tool notices.
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

claims_app = typer.Typer(help="Fact-check claims: import them, match text against them.",
                         no_args_is_help=True)
app.add_typer(claims_app, name="claims")

BATCH = 512


def read_jsonl(path: Path, required: tuple[str, ...]) -> tuple[list[dict], list[str]]:
    """Records with the required fields, and one problem line per rejected input line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise TensionError(f"{path}: cannot read: {exc.strerror}") from None
    records, problems = [], []
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(record, dict):
                problems.append(f"{path}:{number}: expected a JSON object")
                continue
            missing = [f for f in required if not isinstance(record.get(f), (str, int)) or record.get(f) == ""]
            if missing:
                problems.append(f"{path}:{number}: missing or empty {', '.join(missing)}")
                continue
            record["id"] = str(record["id"])
            records.append(record)
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
    from classifiers.scoring import PostText, Scorer
    from monitor.scoring import library_with_claims
    from monitor.store import Store

    settings = _settings(ctx)
    records, problems = read_jsonl(input_path, ("id", "text"))
    _report(problems)
    store = Store.open(settings.database_url)
    try:
        library = library_with_claims(settings.narratives, store)
    finally:
        store.close()
    scoring = settings.main.scoring
    scorer = Scorer(settings.localities, library, threads=scoring.threads, ner=scoring.ner,
                    encoder=scoring.encoder, cache_dir=settings.model_cache_dir)
    with output(out_path) as sink, Progress(console=err, transient=True) as progress:
        task = progress.add_task("scoring", total=len(records))
        for start in range(0, len(records), BATCH):
            chunk = records[start : start + BATCH]
            items = [PostText(r["id"], str(r["text"]), r.get("lang")) for r in chunk]
            for result in scorer.score(items):
                sink.write(json.dumps(result, ensure_ascii=False) + "\n")
            progress.advance(task, len(chunk))
    if out_path is not None:
        out.print(f"scored {len(records)} posts into {out_path}", highlight=False)
    if problems:
        raise typer.Exit(1)


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

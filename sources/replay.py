"""Replay a JSONL file of posts: the demo scenario, backtests and tests.

Each line is one post::

    {"id": "demo-00001", "published_at": "2026-11-16T07:42:10Z", "platform": "x",
     "author": "fictional_handle", "text": "...", "url": "...", "lang": "en", "fictional": true}

The cursor is the number of lines already delivered, so a restart resumes where it stopped and
re-delivering a line is harmless (ingest is idempotent on source and id). ``speed`` paces the
replay against the wall clock: with ``speed: 60`` an hour of the file plays in a minute; with
``speed: 0`` every line is delivered as fast as the store takes it. Published times are kept as
they are in the file, unless ``rebase: now`` shifts them all by one offset so that the file's
last post lands at the moment the replay started (a demo week that always ends "now"), or
``rebase: days`` shifts them by whole days so it lands within the day before, every post keeping
its time of day; the offset is kept in the cursor, so reruns and restarts agree.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import Field

from monitor.errors import SourceError
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig

log = logging.getLogger(__name__)


class ReplayConfig(SourceConfig):
    kind: Literal["replay"]
    path: Path
    speed: float = Field(default=0, ge=0)
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    platform: str = "replay"
    # none: times as in the file; now: shifted so the last post lands when the replay started;
    # days: shifted by whole days so the last post lands within the day before the start, each
    # post keeping its time of day (so day windows, and what is found in them, are the same on
    # every run: the demo uses this).
    rebase: Literal["none", "now", "days"] = "none"


def _parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def last_published(path: Path) -> dt.datetime | None:
    """The latest published time in the file (bad lines are ignored here and skipped later)."""
    latest = None
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                when = _parse_time(json.loads(line)["published_at"])
            except (json.JSONDecodeError, KeyError, ValueError, TypeError, AttributeError):
                continue
            latest = when if latest is None or when > latest else latest
    return latest


def post_from_line(source_id: str, default_platform: str, record: dict) -> Post:
    """Turn one JSONL record into a Post; KeyError/ValueError/TypeError mean a bad line."""
    text = record["text"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty text")
    meta = {"platform": record.get("platform") or default_platform}
    for key in ("fictional", "thread", "locality"):
        if key in record:
            meta[key] = record[key]
    return Post(
        source_id=source_id,
        external_id=str(record["id"]),
        text=text,
        published_at=_parse_time(record["published_at"]),
        url=record.get("url"),
        author_handle=record.get("author"),
        language=record.get("lang"),
        title=record.get("title"),
        meta=meta,
    )


class ReplaySource:
    kind = "replay"

    def __init__(self, config: ReplayConfig, config_dir: Path):
        self.id = config.id
        self.config = config
        self.path = config.path if config.path.is_absolute() else config_dir / config.path

    def collect(self, state: FetchState, now: dt.datetime) -> Collection:
        cursor = json.loads(state.cursor) if state.cursor else {}
        line_no = int(cursor.get("line", 0))
        started = _parse_time(cursor["started_at"]) if "started_at" in cursor else now
        first_time = _parse_time(cursor["first_at"]) if "first_at" in cursor else None
        posts: list[Post] = []
        skipped = 0
        more = False
        try:
            handle = self.path.open(encoding="utf-8")
            if self.config.rebase != "none" and "offset_seconds" not in cursor:
                latest = last_published(self.path)
                offset = (started - latest) if latest else dt.timedelta(0)
                if self.config.rebase == "days":
                    offset = dt.timedelta(days=offset // dt.timedelta(days=1))
                cursor["offset_seconds"] = offset.total_seconds()
        except OSError as exc:
            raise SourceError(f"replay file {self.path}: cannot open: {exc.strerror}") from None
        offset = dt.timedelta(seconds=float(cursor.get("offset_seconds", 0.0)))
        with handle:
            for index, line in enumerate(handle):
                if index < line_no:
                    continue
                if len(posts) >= self.config.batch_size:
                    more = True
                    break
                if not line.strip():
                    line_no = index + 1
                    continue
                try:
                    post = post_from_line(self.id, self.config.platform, json.loads(line))
                except (json.JSONDecodeError, KeyError, ValueError, TypeError) as exc:
                    skipped += 1
                    log.warning("replay %s line %d skipped: %s", self.path.name, index + 1, exc)
                    line_no = index + 1
                    continue
                if first_time is None:
                    first_time = post.published_at
                if self.config.speed > 0:
                    due = started + (post.published_at - first_time) / self.config.speed
                    if due > now:
                        break
                posts.append(replace(post, published_at=post.published_at + offset) if offset else post)
                line_no = index + 1
        cursor = {"line": line_no, "started_at": started.isoformat(), **(
            {"offset_seconds": offset.total_seconds()} if self.config.rebase != "none" else {})}
        if first_time is not None:
            cursor["first_at"] = first_time.isoformat()
        notes = (f"{skipped} malformed line(s) skipped",) if skipped else ()
        return Collection(
            posts=posts,
            state=state.evolve(cursor=json.dumps(cursor)),
            more=more,
            notes=notes,
        )

    def close(self) -> None:
        """Nothing held open between polls."""

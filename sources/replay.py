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

A line that cannot be a post (not JSON, a field of the wrong type, a time before 2000) is
skipped and named by its line number in ``Collection.rejected``; bytes that are not UTF-8 are
read as U+FFFD, so one bad line never keeps the rest of the file out of the store.
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
from sources.base import EARLIEST, FUTURE_SLACK, Collection, FetchState, Post, Unstorable, listing, storable
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


def _lines(path: Path):
    """The file's lines split on LF only (a stray CR is inside a line), bad bytes as U+FFFD."""
    return path.open(encoding="utf-8", errors="replace", newline="\n")


def _record(line: str) -> dict:
    try:
        record = json.loads(line)
    except RecursionError:
        raise Unstorable("nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or a number of thousands of digits
        raise Unstorable(f"not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise Unstorable("not a JSON object")
    return record


def last_published(path: Path, started: dt.datetime) -> dt.datetime | None:
    """The latest published time in the file (bad lines are ignored here and skipped later).
    A time before 2000, or more than a day after ``started`` while the file has others, is a
    broken line, not the end of the file: a 9999 date would shift every other post out of range."""
    latest = latest_sane = None
    with _lines(path) as handle:
        for line in handle:
            try:
                when = _parse_time(_record(line).get("published_at"))
            except (KeyError, ValueError, TypeError, AttributeError, OverflowError):
                continue
            if when < EARLIEST:
                continue
            latest = max(latest or when, when)
            if when <= started + FUTURE_SLACK:
                latest_sane = max(latest_sane or when, when)
    return latest_sane or latest


def post_from_line(source_id: str, default_platform: str, record: dict) -> Post:
    """Turn one JSONL record into a Post; ``Unstorable`` (a ValueError) says why it cannot be
    one. Types are checked by ``sources.base.storable``, which the caller applies."""
    for key in ("id", "text", "published_at"):
        if record.get(key) is None:
            raise Unstorable(f"{key} is missing")
    platform = record.get("platform") or default_platform
    if not isinstance(platform, str):
        raise Unstorable("platform is not text")
    meta = {"platform": platform}
    for key in ("fictional", "thread", "locality"):
        if key in record:
            if isinstance(record[key], (dict, list)):
                raise Unstorable(f"{key} is not a plain value")
            meta[key] = record[key]
    if not isinstance(record["published_at"], str):
        raise Unstorable("published_at is not ISO 8601 text")
    try:
        published = _parse_time(record["published_at"])
    except (ValueError, OverflowError) as exc:
        raise Unstorable(f"published_at is not an ISO 8601 date-time ({exc})") from None
    return Post(
        source_id=source_id,
        external_id=record["id"],
        text=record["text"],
        published_at=published,
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
        rejected: list[str] = []
        changed: list[str] = []
        more = False
        try:
            handle = _lines(self.path)
            if self.config.rebase != "none" and "offset_seconds" not in cursor:
                latest = last_published(self.path, started)
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
                    post, remark = self._post(line, offset, now)
                except Unstorable as exc:
                    rejected.append(f"line {index + 1}: {exc}")
                    log.warning("replay %s line %d skipped: %s", self.path.name, index + 1, exc)
                    line_no = index + 1
                    continue
                in_file = post.published_at - offset  # paced by the file's own clock
                if first_time is None:
                    first_time = in_file
                if self.config.speed > 0:
                    due = started + (in_file - first_time) / self.config.speed
                    if due > now:
                        break
                if remark:
                    changed.append(f"line {index + 1}: {remark}")
                posts.append(post)
                line_no = index + 1
        cursor = {"line": line_no, "started_at": started.isoformat(), **(
            {"offset_seconds": offset.total_seconds()} if self.config.rebase != "none" else {})}
        if first_time is not None:
            cursor["first_at"] = first_time.isoformat()
        notes = (listing("line(s) stored with a value changed", changed),) if changed else ()
        return Collection(
            posts=posts,
            state=state.evolve(cursor=json.dumps(cursor)),
            more=more,
            notes=notes,
            rejected=tuple(rejected),
        )

    def _post(self, line: str, offset: dt.timedelta, now: dt.datetime) -> tuple[Post, str | None]:
        post = post_from_line(self.id, self.config.platform, _record(line))
        if offset:
            try:
                post = replace(post, published_at=post.published_at + offset)
            except OverflowError:
                raise Unstorable(f"published_at {post.published_at.date()} is out of range once rebased") from None
        return storable(post, now)

    def close(self) -> None:
        """Nothing held open between polls."""

"""Generated hostile input at the ingest boundary: replay files, collector posts, config files.

Each property says what must hold whatever arrives: nothing crashes, every valid post is stored
exactly once, every bad one is counted with its line number (replay) or id (any collector), the
rest of the batch is kept, and a source after a bad one is still collected.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import sample_records, utc, write_config
from test_collect import ListSource
from monitor.collect import collect_source
from monitor.errors import ConfigError
from monitor.pipeline import collect_due
from monitor.privacy import Pseudonymiser
from monitor.service import Service
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store.schema import posts
from sources.base import Post
from sources.http import HttpPolicy
from sources.replay import ReplayConfig

NOW = utc(2026, 11, 24, 9)
PSEUDO = Pseudonymiser(b"k" * 32)
EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# -- replay lines ------------------------------------------------------------------------------

# Text that is a post whatever else is wrong: printable words, never blank.
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                min_size=1, max_size=40)
good_time = st.datetimes(min_value=dt.datetime(2026, 11, 1), max_value=dt.datetime(2026, 11, 24),
                         timezones=st.just(dt.timezone.utc))
not_text = st.one_of(st.none(), st.booleans(), st.lists(st.integers(), max_size=2),
                     st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
hostile_string = st.one_of(
    st.just("\ud800"), st.just("a\x00b"), st.just("x" * 100_000), st.text(max_size=30),  # st.text includes surrogates
)


@dataclass(frozen=True)
class Line:
    """One line of a generated replay file and what must become of it."""

    raw: bytes
    keep: str | None  # the id it must be stored under, or None: it must be skipped and counted


def record(ident: str, text: str, when: dt.datetime, **extra) -> dict:
    return {"id": ident, "text": text, "published_at": when.isoformat(), "lang": "en", **extra}


def encoded(value: dict) -> bytes:
    # ensure_ascii keeps lone surrogates as \ud800 escapes, as a real exporter would write them
    return json.dumps(value).encode()


@st.composite
def valid_line(draw, ident: str) -> Line:
    """A good post, sometimes with values that must be repaired rather than refused."""
    text, when = draw(words), draw(good_time)
    shape = draw(st.sampled_from(["plain", "surrogate", "nul", "raw-byte", "numeric-author",
                                  "future", "long-lang", "number-title", "huge-author"]))
    value = record(ident, text, when, author="someone")
    if shape == "surrogate":
        value["text"] = text + "\ud83d"
    elif shape == "nul":
        value["text"] = text + "\x00" + text
    elif shape == "numeric-author":
        value["author"] = draw(st.integers())
    elif shape == "future":
        value["published_at"] = draw(st.sampled_from(["2099-01-01T00:00:00Z", "9999-12-31T23:59:59"]))
    elif shape == "long-lang":
        value["lang"] = draw(st.one_of(st.text(min_size=17, max_size=40), st.integers(), not_text))
    elif shape == "number-title":
        value["title"] = draw(st.floats(allow_nan=False) | st.integers())
    elif shape == "huge-author":
        value["author"] = "h" * 50_000
    raw = encoded(value)
    if shape == "raw-byte":  # a Latin-1 byte inside the text: read with a replacement character
        raw = raw.replace(b'"text": "', b'"text": "caf\xe9 ', 1)
    return Line(raw, ident)


@st.composite
def bad_line(draw, ident: str) -> Line:
    """A line that cannot be a post: it must be skipped, counted and named by its line number."""
    base = record(ident, "a post that is broken elsewhere", dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc))
    shape = draw(st.sampled_from(["bytes", "not-json", "not-object", "field-type", "absurd-date",
                                  "missing", "blank-text", "deep"]))
    if shape == "bytes":
        return Line(b"\xff" + draw(st.binary(max_size=60)).replace(b"\n", b" ").replace(b"\r", b" "), None)
    if shape == "not-json":
        return Line(b"{" + draw(words).encode("utf-8", "surrogatepass").replace(b"\n", b" "), None)
    if shape == "not-object":
        return Line(encoded(draw(st.one_of(st.lists(st.integers(), max_size=3), st.integers(),
                                            st.text(max_size=5)))), None)
    if shape == "field-type":
        name = draw(st.sampled_from(["id", "text", "published_at", "url", "author"]))
        wrong = draw(not_text if name in ("id", "author") else not_text | st.integers() | st.floats())
        if name == "text" and isinstance(wrong, (int, float)) and not isinstance(wrong, bool):
            wrong = None  # a number as text is written as text, so it is not a bad line
        if name == "author" and wrong is None:
            wrong = [1]  # no author is fine
        if name == "url" and wrong is None:
            wrong = {}
        return Line(encoded(base | {name: wrong}), None)
    if shape == "absurd-date":
        when = draw(st.sampled_from(["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "1970-01-01",
                                     "2026-02-30T00:00:00Z", "yesterday", ""]))
        return Line(encoded(base | {"published_at": when}), None)
    if shape == "missing":
        gone = draw(st.sampled_from(["id", "text", "published_at"]))
        return Line(encoded({k: v for k, v in base.items() if k != gone}), None)
    if shape == "blank-text":
        return Line(encoded(base | {"text": draw(st.sampled_from(["", "   ", "\x00", "\n\t"]))}), None)
    depth = 5_000  # nested past the JSON reader's recursion limit
    return Line(b'{"id": "' + ident.encode() + b'", "text": ' + b"[" * depth + b"]" * depth + b"}", None)


@st.composite
def replay_file(draw) -> list[Line]:
    lines = []
    for i in range(draw(st.integers(min_value=1, max_value=14))):
        kind = draw(st.sampled_from(["valid", "valid", "bad", "duplicate", "blank"]))
        if kind == "duplicate" and any(line.keep for line in lines):
            earlier = draw(st.sampled_from([line for line in lines if line.keep]))
            lines.append(Line(earlier.raw, earlier.keep))
        elif kind == "blank":
            lines.append(Line(b"   ", "-"))
        else:
            lines.append(draw(valid_line(f"v{i}") if kind != "bad" else bad_line(f"b{i}")))
    return lines


def two_replay_sources(root: Path, hostile: list[Line]) -> Path:
    """A config whose first source replays the hostile file and second a clean one."""
    (root / "hostile.jsonl").write_bytes(b"\n".join(line.raw for line in hostile) + b"\n")
    main = write_config(root, sources=(
        "sources:\n"
        "  - {id: hostile, kind: replay, path: hostile.jsonl, every: 1m}\n"
        "  - {id: clean, kind: replay, path: posts.jsonl, every: 1m}\n"))
    return main


def stored_ids(store: Store, source_id: str) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.scalars(sa.select(posts.c.external_id).where(posts.c.source_id == source_id)))


@EXAMPLES
@given(hostile=replay_file())
def test_a_hostile_replay_file_keeps_every_valid_line_once_and_names_every_bad_one(hostile):
    with tempfile.TemporaryDirectory() as folder:
        settings_ = load_settings(two_replay_sources(Path(folder), hostile))
        service = Service.open(settings_)
        try:
            reports = {r.source_id: r for r in collect_due(service, NOW)}
            again = {r.source_id: r for r in collect_due(service, NOW + dt.timedelta(minutes=5), force=True)}
            hostile_ids = stored_ids(service.store, "hostile")
            state = service.store.load_state("hostile")
            clean = sorted(stored_ids(service.store, "clean"))
        finally:
            service.close()
    report = reports["hostile"]
    assert report.error is None, report.error
    expected = {line.keep for line in hostile if line.keep not in (None, "-")}
    assert sorted(hostile_ids) == sorted(expected)  # every valid line, each once
    bad = [n for n, line in enumerate(hostile, start=1) if line.keep is None]
    assert [int(r.split(":")[0].removeprefix("line ")) for r in report.rejected] == bad
    if bad:
        assert any(f"{len(bad)} item(s) skipped: line {bad[0]}: " in note for note in report.notes)
        assert f"line {bad[0]}" in state.last_error  # visible in `sources list` and the dashboard
    assert state.status == "ok" and json.loads(state.cursor)["line"] == len(hostile)
    assert again["hostile"].new == 0 and again["hostile"].rejected == []  # nothing read twice
    assert clean == sorted(r["id"] for r in sample_records(5))  # the next source is still collected


# -- posts from any collector ------------------------------------------------------------------

anything = st.one_of(not_text, st.integers(), st.floats(), hostile_string,
                     st.datetimes(timezones=st.none() | st.just(dt.timezone.utc)), st.dates())


@st.composite
def collector_post(draw, index: int) -> Post:
    """A post as a buggy collector might hand it over: any field may hold anything."""
    fields = {
        "external_id": f"p{index}", "text": draw(words),
        "published_at": draw(good_time), "url": "https://example.org/p", "author_handle": "someone",
        "language": "en", "title": None, "geo": None, "place_hints": (), "meta": {"platform": "x"},
    }
    for name in draw(st.sets(st.sampled_from(sorted(set(fields) - {"external_id"})), max_size=3)):
        fields[name] = draw(anything)
    if draw(st.booleans()):
        fields["meta"] = draw(st.dictionaries(st.text(max_size=5), anything, max_size=3))
    return Post(source_id="buggy", **fields)


def run(store, source, config):
    return collect_source(store, source, config, pseudonymiser=PSEUDO, policy=HttpPolicy(), now=NOW,
                          rng=random.Random(0))


@EXAMPLES
@given(batch=st.integers(min_value=1, max_value=8).flatmap(
    lambda n: st.tuples(*[collector_post(i) for i in range(n)])))
def test_whatever_a_collector_hands_over_is_stored_or_named_and_nothing_crashes(store, batch):
    with store.transaction() as conn:
        conn.execute(sa.delete(posts))
    config = ReplayConfig(id="buggy", kind="replay", path="unused.jsonl", platform="x")
    report = run(store, ListSource("buggy", list(batch)), config)
    assert report.error is None, report.error
    stored = set(stored_ids(store, "buggy"))
    named = {r.split(": ")[0] for r in report.rejected}
    for i in range(len(batch)):  # every post is stored or named with its reason, never both
        assert (f"p{i}" in stored) != (f"id 'p{i}'" in named), (i, report.rejected)
    assert len(report.rejected) == len(batch) - len(stored)
    with store.engine.connect() as conn:
        times = list(conn.scalars(sa.select(posts.c.published_at)))
    assert all(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) <= t <= NOW + dt.timedelta(days=1)
               for t in times)
    assert store.load_state("buggy").status == "ok"


# -- config files ------------------------------------------------------------------------------

def one_line_error_for(main: Path) -> str | None:
    try:
        load_settings(main)
    except ConfigError as exc:
        return str(exc)
    return None


yaml_trouble = st.sampled_from([b"\nwhen: 2001-13-01\n", b"\nat: 2024-02-30 10:00:00\n", b"[" * 3000,
                                b"\nn: !!int twelve\n", b"\x00", b"\t\t", b"\xef\xbb\xbf", b"\nsources: 5\n"])
junk_bytes = st.one_of(st.binary(min_size=1, max_size=200), yaml_trouble,
                       st.text(min_size=1, max_size=80).map(lambda t: t.encode("utf-8", "surrogatepass")))


@settings(max_examples=40, deadline=None)
@given(junk=junk_bytes, where=st.integers(min_value=0), file=st.sampled_from(
    ["tension.yaml", "sources.yaml", "rules.yaml", "narratives.yaml", "localities/test.yaml"]))
def test_a_config_file_with_random_bytes_gives_one_line_per_file_never_a_traceback(junk, where, file):
    with tempfile.TemporaryDirectory() as folder:
        main = write_config(Path(folder))
        target = Path(folder) / file
        original = target.read_bytes()
        at = where % (len(original) + 1)
        target.write_bytes(original[:at] + junk + original[at:])
        error = one_line_error_for(main)
    if error is not None:  # one line per file at fault, each naming it (a path the junk changed included)
        assert all(line.startswith(folder) and "Traceback" not in line for line in error.splitlines())


def test_a_latin1_byte_in_a_comment_names_file_line_and_the_fix(config_path):
    sources = config_path.parent / "sources.yaml"
    sources.write_bytes(b"# caf\xe9 list\n" + sources.read_bytes())
    error = one_line_error_for(config_path)
    assert error == (f"{sources}: line 1, byte 6: not valid UTF-8 "
                     "(hint: save the file as UTF-8)")


# -- through every stage ------------------------------------------------------------------------

WHEN = "2026-11-23T10:00:00Z"
HOSTILE_FILE = [  # lines 1-4 and 9 are kept (9 as a duplicate), 5-8 skipped
    encoded(record("kept-surrogate", "Roadworks on Vulcan Park \ud83d again",
                   dt.datetime(2026, 11, 23, 9, tzinfo=dt.timezone.utc))),
    b'{"id": "kept-latin1", "text": "caf\xe9 on Pow Street is shut", "published_at": "' + WHEN.encode() + b'"}',
    encoded({"id": 7, "text": "numeric id \u0000 and author", "published_at": WHEN, "author": 99, "lang": 5}),
    encoded({"id": "kept-future", "text": "dated 2099 by a broken clock", "published_at": "2099-01-01T00:00:00Z"}),
    encoded({"id": "year-one", "text": "dated year one", "published_at": "0001-01-01T00:00:00Z"}),
    encoded({"id": "url-object", "text": "a url that is an object", "published_at": WHEN, "url": {}}),
    encoded({"id": "number-time", "text": "a number for a time", "published_at": 1700000000}),
    b"\xff\xfe not even text",
    encoded({"id": "kept-surrogate", "text": "the same id again", "published_at": WHEN}),
]


def test_a_hostile_file_goes_through_every_stage_and_each_valid_post_is_scored_once(tmp_path, monkeypatch):
    for name in ("TENSION_DATABASE_URL", "TENSION_DATA_DIR", "TENSION_PSEUDONYM_KEY"):
        monkeypatch.delenv(name, raising=False)
    from monitor.pipeline import run_once
    from monitor.store.schema import post_scores

    main = two_replay_sources(tmp_path, [Line(raw, None) for raw in HOSTILE_FILE])
    service = Service.open(load_settings(main))
    try:
        assert run_once(service, NOW)  # no stage failed
        with service.store.engine.connect() as conn:
            rows = conn.execute(sa.select(posts.c.external_id, posts.c.published_at, post_scores.c.status)
                                .join(post_scores, post_scores.c.post_id == posts.c.id)
                                .where(posts.c.source_id == "hostile")).all()
        state = service.store.load_state("hostile")
    finally:
        service.close()
    assert sorted(r.external_id for r in rows) == ["7", "kept-future", "kept-latin1", "kept-surrogate"]
    assert {r.external_id: r.published_at for r in rows}["kept-future"] == NOW
    assert state.last_error.startswith("4 item(s) skipped: line 5: published_at 0001-01-01 is before 2000; "
                                       "line 6: url is an object, not text; line 7: published_at is not ISO 8601 text; "
                                       "line 8: not JSON")

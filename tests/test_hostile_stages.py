"""Hostile posts already in the store through the stages, with the real models: texts far past
the cap, posts the scorer fails on, dates at the ends of the calendar. No stage may crash,
every ordinary post is scored once, a poison post is set aside with its reason and counted."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st
from typer.testing import CliRunner

from conftest import utc
from monitor import cli
from monitor.cli import app
from monitor.post_text import TEXT_CAP
from monitor.store.schema import post_scores, posts

NOW = utc(2026, 11, 20, 12)
runner = CliRunner()
cli.out.width = cli.err.width = 240
ORDINARY = [
    "Everyone outside the Riverside Hotel in Workington Saturday 2pm, bring your mates",
    "Lovely sunny morning on the harbour at Whitehaven",
    "New council flats go to asylum seekers while local families in Maryport wait years",
    "The bin collection in Carlisle is late again this week, and the roads are a mess",
]
_ids = itertools.count()


@pytest.fixture(scope="module")
def service(bundled_service):
    return bundled_service


def store_posts(service, texts: list[str], *, published: list[dt.datetime] | None = None,
                source: str = "hostile-test") -> list[int]:
    """Rows written straight into the store, as an older store may hold them (collection now
    refuses some of them); returns their ids in order."""
    published = published or [NOW] * len(texts)
    ids = []
    with service.store.transaction() as conn:
        for text, at in zip(texts, published):
            n = next(_ids)
            ids.append(conn.execute(sa.insert(posts).values(
                source_id=source, external_id=f"h{n}", platform="x", author_pseudonym=f"{n % 9:064x}",
                text=text, language=None, content_hash=hashlib.sha256(text.encode()).hexdigest(),
                published_at=at, collected_at=NOW, meta={})).inserted_primary_key[0])
    return ids


def scores_of(service, ids: list[int]) -> dict[int, list[dict]]:
    with service.store.transaction() as conn:
        rows = conn.execute(sa.select(post_scores).where(post_scores.c.post_id.in_(ids))).mappings().all()
    out: dict[int, list[dict]] = {i: [] for i in ids}
    for row in rows:
        out[row["post_id"]].append(dict(row))
    return out


def test_a_post_past_the_cap_is_scored_on_its_first_part_and_says_so(service):
    from monitor.scoring import score_pending

    long_text = ORDINARY[2] + " " + "and so on " * 200_000  # 2 MB: spaCy alone refuses 1 MB
    ids = store_posts(service, [ORDINARY[0], long_text, ORDINARY[1]])
    assert score_pending(service, NOW) == 3
    scores = scores_of(service, ids)
    assert [len(rows) for rows in scores.values()] == [1, 1, 1]
    assert {rows[0]["status"] for rows in scores.values()} == {"scored"}
    cut = scores[ids[1]][0]["explanation"]["text_cut"]
    assert cut == {"cap": TEXT_CAP, "characters": len(long_text) - TEXT_CAP}
    assert "text_cut" not in scores[ids[0]][0]["explanation"]


def test_a_poison_post_is_set_aside_with_its_reason_and_the_rest_are_scored(service, monkeypatch, caplog):
    """spaCy's own length limit, lowered under the cap, makes a long post fail in the scorer as
    a 1,000,000-character post did before the cap: the real failure, earlier."""
    from monitor.scoring import not_scored_errors, score_pending

    monkeypatch.setattr(service.scorer.resolver.nlp, "max_length", 1000)
    poison = "Maryport " * 200  # 1,800 characters
    ids = store_posts(service, [ORDINARY[0], poison, ORDINARY[1], ORDINARY[3]], source="demo-scenario")
    with caplog.at_level(logging.WARNING, logger="tension.scoring"):
        assert score_pending(service, NOW) == 4
        assert score_pending(service, NOW) == 0  # set aside for good, never retried
    scores = scores_of(service, ids)
    assert [len(rows) for rows in scores.values()] == [1, 1, 1, 1]
    statuses = [scores[i][0]["status"] for i in ids]
    assert statuses == ["scored", "not_scored_error", "scored", "scored"]
    error = scores[ids[1]][0]
    assert error["explanation"]["error"].startswith("ValueError: [E088]") and "\n" not in error["explanation"]["error"]
    assert error["tension"] is None and error["labels"] == []
    logged = [r for r in caplog.records if r.getMessage() == "post not scored: the scorer failed on it"]
    assert len(logged) == 1 and logged[0].fields["post_id"] == ids[1]
    assert logged[0].fields["source"] == "demo-scenario" and "Maryport" not in json.dumps(logged[0].fields)
    assert not_scored_errors(service.store) == {"demo-scenario": 1}
    from monitor.web.page_sources import source_rows  # the dashboard's sources page and API

    counted = {row.id: row.scoring_failures for row in source_rows(service.settings, service.store, NOW)}
    assert counted["demo-scenario"] == 1 and set(counted.values()) == {0, 1}


_ODD_TEXTS = st.one_of(
    st.text(min_size=0, max_size=300).filter(lambda t: "\x00" not in t),
    st.builds(lambda word, n: (word + " ") * n, st.sampled_from(["Workington", "zzz", "🙂", "ا", "<b>x</b>"]),
              st.integers(1, 30_000)),
    st.builds(lambda n: "x" * n, st.integers(TEXT_CAP - 2, TEXT_CAP + 50_000)),
    st.sampled_from(["", " ", "\n" * 5000, "#" * 40_000, "@" * 3, "http://" + "a" * 30_000,
                     "\u202e" * 100, "e\u0301" * 5000, "\ufeff"]),
)
_DATES = st.sampled_from([NOW, utc(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone.utc),
                          utc(1970, 1, 1), NOW - dt.timedelta(days=3)])


# No shrinking: each example runs the real scorer and every stage (about 10 s on two cores).
@hsettings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(odd=st.lists(st.tuples(_ODD_TEXTS, _DATES), min_size=1, max_size=4), order=st.randoms())
def test_hostile_posts_never_stop_a_stage_and_every_ordinary_post_is_scored_once(service, odd, order):
    from monitor.pipeline import STAGES, run_stage
    from monitor.scoring import score_pending

    batch = [(text, NOW) for text in ORDINARY] + list(odd)
    order.shuffle(batch)
    ids = store_posts(service, [t for t, _ in batch], published=[at for _, at in batch])
    assert score_pending(service, NOW) == len(batch)
    scores = scores_of(service, ids)
    assert all(len(rows) == 1 for rows in scores.values())  # every post done, none twice
    for post_id, (text, _) in zip(ids, batch):
        if text in ORDINARY:
            assert scores[post_id][0]["status"] == "scored"
        assert scores[post_id][0]["status"] in ("scored", "not_scored_language")  # no error left
    for stage in STAGES:
        if stage.name not in ("collect", "deliver"):  # both leave the machine
            assert run_stage(service, stage, NOW), stage.name


def test_score_cli_skips_bad_lines_scores_long_ones_and_loses_nothing(tmp_path):
    source = tmp_path / "posts.jsonl"
    with source.open("wb") as handle:
        handle.write(json.dumps({"id": "a", "text": ORDINARY[0]}).encode() + b"\n")
        handle.write(b'{"id": "b", "text": "caf\xe9 in Workington"}\n')  # Latin-1, not UTF-8
        handle.write(json.dumps({"id": "c", "text": "Workington " * 150_000}).encode() + b"\n")  # 1.6 MB
        handle.write(b'{"id": "d", "text": "' + b"x" * (9 * 1024 * 1024) + b'"}\n')  # over the line limit
        handle.write(json.dumps({"id": "e", "text": "hello \ud800 there"}).encode() + b"\n")
        handle.write(json.dumps({"id": "f", "text": "fine", "lang": {"no": 1}}).encode() + b"\n")
        handle.write(json.dumps({"id": 7, "text": ORDINARY[1]}).encode() + b"\n")
    out = tmp_path / "scores.jsonl"
    result = runner.invoke(app, ["score", "--in", str(source), "--out", str(out)])
    assert result.exit_code == 1, result.output
    for number, reason in ((2, "not valid UTF-8"), (4, "line longer than 8 MiB"), (5, "not valid Unicode"),
                           (6, "lang must be a string")):
        assert f"posts.jsonl:{number}: {reason}" in result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "c", "7"]
    assert lines[1]["explanation"]["text_cut"] == {"cap": TEXT_CAP, "characters": 150_000 * 11 - TEXT_CAP}
    assert lines[1]["localities"][0]["id"] == "workington"

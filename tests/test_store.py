"""Storage on SQLite and PostgreSQL: idempotent ingest, fetch state, retention, failures."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from conftest import utc
from monitor.collect import post_row
from monitor.errors import StorageError
from monitor.privacy import Pseudonymiser
from monitor.store import Store
from monitor.store.schema import posts
from sources.base import FetchState, Post

NOW = utc(2026, 11, 20, 12)
PSEUDO = Pseudonymiser(b"k" * 32)


def rows(n: int, *, source: str = "s1", text: str | None = None, start: int = 0) -> list[dict]:
    return [
        post_row(
            Post(source_id=source, external_id=f"id-{i}", text=text or f"post number {i}",
                 published_at=NOW - dt.timedelta(days=i), author_handle=f"@user{i}",
                 meta={"platform": "x"}),
            platform="x", keep_author=True, pseudonymiser=PSEUDO, now=NOW,
        )
        for i in range(start, start + n)
    ]


def test_ingest_is_idempotent_on_source_and_id(store):
    first = store.ingest(rows(10), FetchState("s1", cursor="10"))
    again = store.ingest(rows(10), FetchState("s1", cursor="10"))
    assert (first.new, first.duplicates) == (10, 0)
    assert (again.new, again.duplicates) == (0, 10)
    assert store.count_posts() == 10


def test_same_id_from_another_source_is_a_different_post(store):
    store.ingest(rows(3, source="a"), FetchState("a"))
    store.ingest(rows(3, source="b"), FetchState("b"))
    assert store.count_posts() == 6
    assert store.count_posts(source_id="a") == 3


def test_exact_copies_are_stored_and_counted_as_copies(store):
    result = store.ingest(rows(5, text="Share this NOW   everyone"), FetchState("s1"))
    assert result.new == 5 and result.copies == 4
    later = store.ingest(
        rows(2, text="share this now everyone", start=100, source="s2"), FetchState("s2")
    )
    assert later.copies == 2
    with store.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count(sa.distinct(posts.c.content_hash)))) == 1


def test_handles_are_never_stored(store):
    store.ingest(rows(3), FetchState("s1"))
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(posts)).mappings().all()
    dumped = repr([dict(r) for r in stored])
    assert "user1" not in dumped
    assert {len(r["author_pseudonym"]) for r in stored} == {64}


def test_fetch_state_round_trips_with_utc_times(store):
    state = FetchState("feed", url="https://example.org/rss", etag='W/"abc"', cursor="42",
                       consecutive_failures=3, next_poll_at=NOW, last_error="boom",
                       status="failing")
    store.save_state(state)
    assert store.load_state("feed") == state
    assert store.load_state("feed").next_poll_at.tzinfo is not None
    assert store.load_state("never-seen") == FetchState("never-seen")


def test_state_is_written_with_the_posts(store):
    store.ingest(rows(2), FetchState("s1", cursor="2"))
    assert store.load_state("s1").cursor == "2"
    assert set(store.load_states()) == {"s1"}


def test_retention_purges_text_but_keeps_counts(store):
    store.ingest(rows(40), FetchState("s1"))
    purged = store.purge_text(NOW - dt.timedelta(days=28), NOW)
    assert purged == 40 - 29  # posts published 29..39 days before NOW
    assert store.count_posts() == 40
    assert store.purge_text(NOW - dt.timedelta(days=28), NOW) == 0
    with store.engine.connect() as conn:
        old = conn.execute(sa.select(posts).where(posts.c.external_id == "id-35")).mappings().one()
        recent = conn.execute(sa.select(posts).where(posts.c.external_id == "id-3")).mappings().one()
    assert old["text"] is None and old["author_pseudonym"] is None and old["text_purged_at"]
    assert recent["text"] == "post number 3"


def test_schema_is_at_the_newest_migration(store):
    current, head = store.schema_revision()
    assert current == head
    store.migrate()  # idempotent


def test_naive_datetimes_are_refused(store):
    bad = rows(1)
    bad[0]["published_at"] = dt.datetime(2026, 11, 20, 12)
    with pytest.raises((StorageError, sa.exc.StatementError)):
        store.ingest(bad, FetchState("s1"))


def test_full_disk_is_one_line_and_loses_nothing(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'small.db'}")
    store.ingest(rows(5), FetchState("s1", cursor="5"))
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @sa.event.listens_for(store.engine, "connect")
    def _cap(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 1}")

    store.engine.dispose()
    big = rows(200, start=1000, text=None)
    for row in big:
        row["text"] = "x" * 5000 + row["external_id"]
    with pytest.raises(StorageError) as excinfo:
        store.ingest(big, FetchState("s1", cursor="205"))
    message = str(excinfo.value)
    assert "disk full" in message and "\n" not in message
    # The failed batch rolled back whole: earlier posts and the old cursor are intact.
    assert store.count_posts() == 5
    assert store.load_state("s1").cursor == "5"
    store.close()


def test_bad_database_urls_are_one_line_errors(tmp_path):
    with pytest.raises(StorageError, match="not valid"):
        Store.open("not a url")
    with pytest.raises(StorageError, match="cannot open or migrate"):
        Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_pseudonyms_are_stable_and_keyed():
    a = Pseudonymiser(b"a" * 32)
    assert a.pseudonym("x", "@Someone") == a.pseudonym("X", "someone")
    assert a.pseudonym("x", "someone") != a.pseudonym("mastodon", "someone")
    assert a.pseudonym("x", "someone") != Pseudonymiser(b"b" * 32).pseudonym("x", "someone")


def test_migrations_match_the_table_definitions(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from monitor.store.schema import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []

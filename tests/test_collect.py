"""The collect stage: replay pacing and resume, idempotent reruns, failures and backoff."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from conftest import sample_records, utc
from monitor.collect import backoff_delay, collect_source, is_due, post_row
from monitor.errors import SourceError
from monitor.pipeline import collect_due, run_once
from monitor.privacy import Pseudonymiser
from monitor.service import Service
from monitor.settings import load_settings
from monitor.store import Store
from sources.base import Collection, FetchState, Post, Unstorable, storable
from sources.http import HttpPolicy
from sources.replay import ReplayConfig, ReplaySource

NOW = utc(2026, 11, 24, 9)
PSEUDO = Pseudonymiser(b"k" * 32)


def replay(tmp_path, records, **options) -> tuple[ReplaySource, ReplayConfig]:
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" if isinstance(r, dict) else r for r in records))
    config = ReplayConfig(id="replay", kind="replay", path=path, **options)
    return ReplaySource(config, tmp_path), config


def run(store, source, config, now=NOW, policy=HttpPolicy(), seed=0):
    return collect_source(store, source, config, pseudonymiser=PSEUDO, policy=policy, now=now,
                          rng=random.Random(seed))


def test_replay_delivers_everything_in_batches_and_resumes(tmp_path, store):
    source, config = replay(tmp_path, sample_records(25), batch_size=10)
    report = run(store, source, config)
    assert (report.new, report.batches) == (25, 3)
    assert store.count_posts() == 25
    again = run(store, source, config)
    assert again.new == 0 and store.count_posts() == 25
    # A line appended later is picked up from the stored cursor.
    with (tmp_path / "posts.jsonl").open("a") as handle:
        handle.write(json.dumps(sample_records(1, prefix="late")[0]) + "\n")
    assert run(store, source, config).new == 1


def test_replay_speed_paces_posts_against_the_clock(tmp_path, store):
    # Posts 10 minutes apart; at speed 60 each arrives 10 seconds after the previous one.
    source, config = replay(tmp_path, sample_records(6), speed=60)
    assert run(store, source, config, now=NOW).new == 1
    assert run(store, source, config, now=NOW + dt.timedelta(seconds=25)).new == 2
    assert run(store, source, config, now=NOW + dt.timedelta(minutes=5)).new == 3


def test_malformed_replay_lines_are_skipped_and_the_rest_kept(tmp_path, store):
    records = sample_records(3) + ["{not json\n", json.dumps({"id": "x"}) + "\n"] + sample_records(2, prefix="q")
    source, config = replay(tmp_path, records)
    report = run(store, source, config)
    assert report.new == 5 and report.error is None
    assert report.rejected == ["line 4: not JSON (Expecting property name enclosed in double quotes: "
                               "line 1 column 2 (char 1))", "line 5: text is missing"]
    assert report.notes == ["2 item(s) skipped: " + "; ".join(report.rejected)]
    assert store.load_state("replay").last_error == report.notes[0]


def test_missing_replay_file_is_a_failure_with_backoff(tmp_path, store):
    config = ReplayConfig(id="replay", kind="replay", path=tmp_path / "absent.jsonl")
    report = run(store, ReplaySource(config, tmp_path), config)
    assert "cannot open" in report.error
    state = store.load_state("replay")
    assert state.status == "failing" and state.consecutive_failures == 1
    assert state.next_poll_at > NOW


class FlakySource:
    """A source that fails as told, to drive the failure paths without a network."""

    kind = "test"

    def __init__(self, errors):
        self.id = "flaky"
        self.errors = list(errors)

    def collect(self, state, now):
        error = self.errors.pop(0) if self.errors else None
        if error:
            raise error
        return Collection(posts=[], state=state)

    def close(self):
        pass


def test_failures_back_off_exponentially_with_cap_and_never_give_up(store):
    policy = HttpPolicy(backoff_base=dt.timedelta(minutes=1), backoff_max=dt.timedelta(hours=1))
    config = ReplayConfig(id="flaky", kind="replay", path="x.jsonl")
    source = FlakySource([SourceError("unreachable")] * 12)
    delays = []
    now = NOW
    for _ in range(12):
        report = run(store, source, config, now=now, policy=policy)
        delays.append((report.next_poll_at - now).total_seconds())
        now = report.next_poll_at
    assert 45 <= delays[0] <= 75
    assert delays[3] > delays[2] > delays[1] > delays[0]
    assert max(delays) <= 3600 * 1.25
    assert store.load_state("flaky").consecutive_failures == 12
    recovered = run(store, source, config, now=now, policy=policy)
    assert recovered.error is None
    state = store.load_state("flaky")
    assert state.consecutive_failures == 0 and state.status == "ok" and state.last_error is None


def test_retry_after_is_honoured(store):
    config = ReplayConfig(id="flaky", kind="replay", path="x.jsonl")
    report = run(store, FlakySource([SourceError("429", retry_after=7200)]), config)
    assert report.next_poll_at - NOW >= dt.timedelta(hours=2)


def test_gone_sources_stop_being_polled(store):
    config = ReplayConfig(id="flaky", kind="replay", path="x.jsonl")
    source = FlakySource([SourceError("gone (410)", gone=True)])
    run(store, source, config)
    state = store.load_state("flaky")
    assert state.status == "gone" and not is_due(state, NOW + dt.timedelta(days=30))
    assert "gone" in run(store, source, config).skipped


def test_backoff_is_jittered():
    policy = HttpPolicy()
    values = {backoff_delay(3, policy, random.Random(seed)).total_seconds() for seed in range(5)}
    assert len(values) == 5 and all(180 <= v <= 300 for v in values)


def test_run_once_twice_adds_no_duplicates(config_path):
    settings = load_settings(config_path)
    service = Service.open(settings)
    try:
        assert run_once(service, NOW)
        assert run_once(service, NOW + dt.timedelta(minutes=5))
        assert service.store.count_posts() == 5
        # Forcing a poll of everything re-reads nothing new either.
        reports = collect_due(service, NOW + dt.timedelta(minutes=6), force=True)
        assert [r.new for r in reports] == [0]
    finally:
        service.close()


def test_pseudonym_key_is_generated_once_with_private_mode(config_path):
    settings = load_settings(config_path)
    Service.open(settings).close()
    key_file = settings.data_dir / "pseudonym.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    key = key_file.read_bytes()
    Service.open(settings).close()
    assert key_file.read_bytes() == key


def test_x_style_sources_keep_no_author_at_all(tmp_path, store):
    source, config = replay(tmp_path, sample_records(3), keep_author=False)
    run(store, source, config)
    import sqlalchemy as sa

    from monitor.store.schema import posts

    with store.engine.connect() as conn:
        authors = conn.scalars(sa.select(posts.c.author_pseudonym)).all()
    assert authors == [None, None, None]


@pytest.mark.parametrize("line", ['{"id": 1}', '{"id": "a", "text": "", "published_at": "2026-01-01"}',
                                  '{"id": "a", "text": "t", "published_at": "yesterday"}'])
def test_each_kind_of_bad_record_is_skipped(tmp_path, store, line):
    source, config = replay(tmp_path, [line + "\n"] + sample_records(1))
    assert run(store, source, config).new == 1


def test_state_survives_between_service_runs(config_path):
    settings = load_settings(config_path)
    service = Service.open(settings)
    run_once(service, NOW)
    cursor = json.loads(service.store.load_state("replay-test").cursor)
    service.close()
    assert cursor["line"] == 5
    assert FetchState("x").status == "ok"


def test_rebase_now_shifts_the_file_so_it_ends_when_replay_started(tmp_path, store):
    import sqlalchemy as sa

    from monitor.store.schema import posts

    records = sample_records(4)  # 08:00 .. 08:30 on 2026-11-16
    source, config = replay(tmp_path, records, rebase="now", batch_size=2)
    report = run(store, source, config, now=NOW)
    assert report.new == 4
    with store.engine.connect() as conn:
        times = sorted(conn.scalars(sa.select(posts.c.published_at)))
    assert times[-1] == NOW and times[0] == NOW - dt.timedelta(minutes=30)
    offset = json.loads(store.load_state("replay").cursor)["offset_seconds"]
    # A later poll keeps the same offset rather than rebasing again.
    with (tmp_path / "posts.jsonl").open("a") as handle:
        handle.write(json.dumps(sample_records(1, prefix="late", start=utc(2026, 11, 16, 9))[0]) + "\n")
    run(store, source, config, now=NOW + dt.timedelta(hours=5))
    assert json.loads(store.load_state("replay").cursor)["offset_seconds"] == offset
    with store.engine.connect() as conn:
        late = conn.scalar(sa.select(posts.c.published_at).where(posts.c.external_id == "late0"))
    assert late == NOW + dt.timedelta(minutes=30)


def test_rebase_days_keeps_each_posts_time_of_day(tmp_path, store):
    import sqlalchemy as sa

    from monitor.store.schema import posts

    records = sample_records(4)  # 08:00 .. 08:30 on 2026-11-16
    source, config = replay(tmp_path, records, rebase="days", batch_size=10)
    run(store, source, config, now=utc(2026, 11, 24, 3, 10))
    with store.engine.connect() as conn:
        times = sorted(conn.scalars(sa.select(posts.c.published_at)))
    # 7 days 19 h 10 min after the last post: shifted by 7 whole days, times of day kept
    assert times == [utc(2026, 11, 23, 8, 0) + dt.timedelta(minutes=10 * i) for i in range(4)]


# -- the ingest boundary -----------------------------------------------------------------------

def post(external_id="a", text="a post about #Workington", **fields) -> Post:
    return Post(**({"source_id": "s", "external_id": external_id, "text": text,
                    "published_at": utc(2026, 11, 20, 12)} | fields))


def test_storable_repairs_what_it_can_and_says_when_it_moved_a_time():
    long_id = "x" * 600
    kept, remark = storable(post(external_id=42, text="caf\ud800 \x00ok", author_handle=7, language="5",
                                 title=3.5, published_at=dt.datetime(2026, 11, 20, 12)), NOW)
    assert (kept.external_id, kept.text, kept.author_handle, kept.language, kept.title) == \
        ("42", "caf\ufffd ok", "7", None, "3.5")
    assert kept.published_at == utc(2026, 11, 20, 12) and remark is None  # naive is read as UTC
    assert storable(post(external_id=long_id), NOW)[0].external_id.startswith("sha256:")
    ahead, remark = storable(post(published_at=utc(2099, 1, 1)), NOW)
    assert ahead.published_at == NOW
    assert remark == "published_at 2099-01-01 is more than a day ahead: stored as collected"
    assert storable(post(published_at=NOW + dt.timedelta(hours=23)), NOW)[1] is None  # clock skew


@pytest.mark.parametrize(("fields", "reason"), [
    ({"published_at": dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)}, "published_at 0001-01-01 is before 2000"),
    ({"published_at": "2026-11-20"}, "published_at is text, not a date-time"),
    ({"url": {}}, "url is an object, not text"),
    ({"text": " \x00 "}, "text is empty"),
    ({"external_id": ["a"]}, "id is a list, not text"),
    ({"author_handle": True}, "author is true/false, not text"),
])
def test_storable_refuses_what_cannot_be_a_post_naming_the_field(fields, reason):
    with pytest.raises(Unstorable, match=f"^{reason}"):
        storable(post(**fields), NOW)


class ListSource:
    """A collector that hands over given batches (or raises given errors), one per poll."""

    kind = "test"

    def __init__(self, source_id, *batches):
        self.id = source_id
        self.batches = list(batches)

    def collect(self, state, now):
        batch = self.batches.pop(0)
        if isinstance(batch, Exception):
            raise batch
        return Collection(posts=batch, state=state.evolve(cursor=str(len(self.batches))))

    def close(self):
        pass


def test_posts_that_cannot_be_stored_are_named_and_the_rest_of_the_batch_kept(store):
    config = ReplayConfig(id="s", kind="replay", path="x.jsonl")
    batch = [post("a"), post("b", published_at=utc(1, 1, 1)), post("c", url={}), post("d"),
             post("e", published_at=utc(2099, 1, 1))]
    report = run(store, ListSource("s", batch), config)
    assert (report.new, report.error) == (3, None)
    assert report.rejected == ["id 'b': published_at 0001-01-01 is before 2000", "id 'c': url is an object, not text"]
    assert report.notes == ["2 item(s) skipped: " + "; ".join(report.rejected),
                            "1 post(s) stored with a value changed: id 'e': published_at 2099-01-01 is more "
                            "than a day ahead: stored as collected"]
    state = store.load_state("s")
    assert (state.status, state.consecutive_failures, state.last_error) == ("ok", 0, report.notes[0])
    # The note stays for a day after a poll that skips nothing, then goes.
    run(store, ListSource("s", [post("f")]), config, now=NOW + dt.timedelta(hours=1))
    assert store.load_state("s").last_error == report.notes[0]
    run(store, ListSource("s", [post("g")]), config, now=NOW + dt.timedelta(days=2))
    assert store.load_state("s").last_error is None


def test_a_crashing_collector_is_its_sources_recorded_error_and_the_next_source_still_runs(config_path):
    (config_path.parent / "sources.yaml").write_text(
        "sources:\n  - {id: broken, kind: replay, path: posts.jsonl}\n"
        "  - {id: replay-test, kind: replay, path: posts.jsonl}\n")
    service = Service.open(load_settings(config_path))
    try:
        service.sources["broken"] = ListSource("broken", RuntimeError("parser bug"))
        reports = collect_due(service, NOW)
        assert [r.source_id for r in reports] == ["broken", "replay-test"]
        assert reports[0].error == "collector crashed: RuntimeError: parser bug"
        assert reports[1].new == 5
        state = service.store.load_state("broken")
        assert (state.status, state.consecutive_failures, state.last_error_at) == ("failing", 1, NOW)
        assert state.last_error == "collector crashed: RuntimeError: parser bug"
    finally:
        service.close()


def test_a_post_the_database_refuses_is_skipped_not_retried_for_ever(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'refusing.db'}")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON posts WHEN NEW.text = 'refused' "
                             "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END")
    config = ReplayConfig(id="s", kind="replay", path="x.jsonl")
    report = run(store, ListSource("s", [post("a"), post("b", text="refused"), post("c")]), config)
    assert (report.new, report.error) == (2, None)
    assert report.rejected == ["id 'b': database error: refused by the database"]
    assert store.load_state("s").cursor == "0"  # the batch is done: the next poll moves on
    store.close()


def test_a_database_that_refuses_every_write_loses_nothing(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'full.db'}")
    with store.engine.begin() as conn:
        for table in ("posts", "fetch_state"):
            conn.exec_driver_sql(f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} "
                                 "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    source, config = replay(tmp_path, sample_records(3))
    report = run(store, source, config)
    assert report.error.startswith("database error: disk full:") and report.rejected == []
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER full_posts")
        conn.exec_driver_sql("DROP TRIGGER full_fetch_state")
    assert run(store, source, config, now=NOW + dt.timedelta(hours=1)).new == 3
    store.close()


def test_a_post_dated_in_the_future_is_purged_once_held_for_the_retention_period(store):
    old = dict(post_row(post("future", published_at=utc(2099, 1, 1)), platform="x", keep_author=False,
                        pseudonymiser=PSEUDO, now=NOW - dt.timedelta(days=40)))
    fresh = post_row(post("fresh"), platform="x", keep_author=False, pseudonymiser=PSEUDO, now=NOW)
    store.ingest([old, fresh], FetchState("s"))
    assert store.purge_text(NOW - dt.timedelta(days=28), NOW) == 1
    import sqlalchemy as sa

    from monitor.store.schema import posts

    with store.engine.connect() as conn:
        texts = dict(conn.execute(sa.select(posts.c.external_id, posts.c.text)).all())
    assert texts == {"future": None, "fresh": "a post about #Workington"}


def test_a_far_future_line_does_not_become_the_end_of_a_rebased_file(tmp_path, store):
    import sqlalchemy as sa

    from monitor.store.schema import posts

    broken = {"id": "broken", "text": "a broken clock", "published_at": "2099-01-01T00:00:00Z"}
    source, config = replay(tmp_path, sample_records(2) + [broken], rebase="now")
    report = run(store, source, config, now=NOW)
    assert report.new == 3 and report.rejected == []
    assert report.notes == ["1 line(s) stored with a value changed: line 3: published_at 2099-01-09 is more "
                            "than a day ahead: stored as collected"]
    with store.engine.connect() as conn:
        times = dict(conn.execute(sa.select(posts.c.external_id, posts.c.published_at)).all())
    assert times == {"p0": NOW - dt.timedelta(minutes=10), "p1": NOW, "broken": NOW}

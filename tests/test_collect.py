"""The collect stage: replay pacing and resume, idempotent reruns, failures and backoff."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from conftest import sample_records, utc
from monitor.collect import backoff_delay, collect_source, is_due
from monitor.errors import SourceError
from monitor.pipeline import collect_due, run_once
from monitor.privacy import Pseudonymiser
from monitor.service import Service
from monitor.settings import load_settings
from sources.base import Collection, FetchState
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

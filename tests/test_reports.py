"""Community reports: filed as posts, contacts sealed apart, bad input refused, purged on time."""

from __future__ import annotations

import datetime as dt
import stat
import uuid

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from monitor.errors import ConfigError
from monitor.reports import (
    ContactVault,
    ReportIn,
    ReportRejected,
    ReportsEnvironment,
    file_report,
    load_or_create_contact_key,
    purge_contacts,
    resolve_place,
    reveal_contact,
    seal_contacts,
    take_contacts,
)
from monitor.scoring import unscored
from monitor.settings import load_settings
from monitor.store.schema import audit_log, metadata, posts, report_contacts
from sources.base import Post

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
CONTACT = "Jo Bloggs, 07700 900123, jo.bloggs@example.org"


@pytest.fixture
def settings(config_path, monkeypatch):
    for name in ("TENSION_REPORTS_KEY", "TENSION_REPORTS_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(config_path)


@pytest.fixture
def vault(settings):
    return ContactVault(Fernet.generate_key())


def report(**changes) -> ReportIn:
    values = {"text": "Stickers targeting the mosque put up on lamp posts overnight",
              "place": "workington", "category": "hate_incident"} | changes
    return ReportIn(**values)


def all_stored_values(store, *, except_table: str) -> list[str]:
    """Every value in every column of every table but one, as text."""
    values = []
    with store.transaction() as conn:
        for table in metadata.sorted_tables:
            if table.name != except_table:
                values += [str(v) for row in conn.execute(sa.select(table)) for v in row]
    return values


def test_a_report_is_stored_as_a_post_the_scoring_stage_picks_up(store, settings, vault):
    report_id = file_report(store, settings, report(), channel="api", now=NOW, vault=vault)

    assert uuid.UUID(report_id)
    with store.transaction() as conn:
        row = conn.execute(sa.select(posts)).mappings().one()
    assert row["platform"] == "report"
    assert row["source_id"] == "reports-api"
    assert row["external_id"] == report_id
    assert row["text"] == "Stickers targeting the mosque put up on lamp posts overnight"
    assert row["title"] == "Workington"  # the gazetteer of the scoring stage reads the title
    assert row["meta"] == {"category": "hate_incident", "channel": "api", "place_hints": ["workington"]}
    assert row["author_pseudonym"] is None
    assert row["published_at"] == NOW
    assert [r["id"] for r in unscored(store, 10)] == [row["id"]]


def test_the_contact_is_sealed_apart_and_opens_with_the_key(store, settings, vault):
    file_report(store, settings, report(contact=CONTACT), channel="api", now=NOW, vault=vault)

    stored = all_stored_values(store, except_table="report_contacts")
    assert not [v for v in stored if "07700" in v or "jo.bloggs" in v or "Bloggs" in v]
    with store.transaction() as conn:
        sealed = conn.execute(sa.select(report_contacts)).mappings().one()
        post_id = conn.scalar(sa.select(posts.c.id))
    assert sealed["post_id"] == post_id and sealed["created_at"] == NOW
    assert "Bloggs" not in sealed["ciphertext"]
    assert vault.open(sealed["ciphertext"]) == CONTACT
    # An officer following the report up sees it, and the look is audited.
    assert reveal_contact(store, vault, post_id, actor="officer.k", now=NOW) == CONTACT
    with store.transaction() as conn:
        entry = conn.execute(sa.select(audit_log)).mappings().one()
    assert (entry["actor"], entry["action"], entry["object_id"]) == ("officer.k", "report_contact.view", str(post_id))
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        ContactVault(Fernet.generate_key()).open(sealed["ciphertext"])


def test_a_report_without_contact_stores_no_contact_row(store, settings, vault):
    file_report(store, settings, report(contact="   "), channel="api", now=NOW, vault=vault)
    with store.transaction() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(report_contacts)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(posts)) == 1


@pytest.mark.parametrize("place, expected", [
    ("workington", "workington"), ("Workington", "workington"), ("  MARYPORT ", "maryport"),
    ("Vulcan Park, Workington", None), ("Testshire", None),
])
def test_places_resolve_to_locality_ids_by_id_or_name(settings, place, expected):
    assert resolve_place(place, settings.localities) == expected


def test_a_free_text_place_is_kept_as_the_title_without_hints(store, settings, vault):
    file_report(store, settings, report(place="Vulcan Park, Workington"), channel="api", now=NOW, vault=vault)
    with store.transaction() as conn:
        row = conn.execute(sa.select(posts.c.title, posts.c.meta)).one()
    assert row.title == "Vulcan Park, Workington"
    assert "place_hints" not in row.meta


@pytest.mark.parametrize("changes, field", [
    ({"text": ""}, "text"),
    ({"text": "   \n "}, "text"),
    ({"text": "x" * 5001}, "text"),
    ({"place": ""}, "place"),
    ({"category": "burglary"}, "category"),
    ({"occurred_at": "2099-01-01"}, "occurred_at"),
    ({"occurred_at": "2026-11-20T10:00:00"}, "occurred_at"),  # no UTC offset
    ({"occurred_at": "last tuesday"}, "occurred_at"),
    ({"contact": "x" * 501}, "contact"),
    ({"reporter": "someone"}, "reporter"),
])
def test_invalid_reports_are_refused_naming_the_field(changes, field):
    with pytest.raises(ValidationError) as caught:
        report(**changes)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


@pytest.mark.parametrize("occurred_at, message", [
    (NOW + dt.timedelta(hours=1), "in the future"),
    (dt.date(2026, 11, 21), "in the future"),  # tomorrow by the partnership's clock
    (NOW - dt.timedelta(days=40), "beyond the retention period"),
])
def test_a_rejected_report_stores_nothing(store, settings, vault, occurred_at, message):
    # ReportIn checks against the wall clock; file_report against the pipeline's `now`.
    incoming = report(contact=CONTACT).model_copy(update={"occurred_at": occurred_at})
    with pytest.raises(ReportRejected, match=message) as caught:
        file_report(store, settings, incoming, channel="api", now=NOW, vault=vault)
    assert caught.value.field == "occurred_at"
    with store.transaction() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(posts)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(report_contacts)) == 0


@pytest.mark.parametrize("occurred_at, now, published", [
    # A bare date is noon in Europe/London: 12:00 UTC in winter, 11:00 UTC in summer.
    (dt.date(2026, 11, 18), NOW, dt.datetime(2026, 11, 18, 12, tzinfo=UTC)),
    (dt.date(2026, 7, 1), dt.datetime(2026, 7, 10, tzinfo=UTC), dt.datetime(2026, 7, 1, 11, tzinfo=UTC)),
    # Today, before noon: not later than now.
    (dt.date(2026, 11, 20), dt.datetime(2026, 11, 20, 9, tzinfo=UTC), dt.datetime(2026, 11, 20, 9, tzinfo=UTC)),
    (dt.datetime(2026, 11, 19, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))), NOW,
     dt.datetime(2026, 11, 20, 4, 30, tzinfo=UTC)),
])
def test_occurred_at_sets_the_published_time(store, settings, vault, occurred_at, now, published):
    file_report(store, settings, report(occurred_at=occurred_at), channel="api", now=now, vault=vault)
    with store.transaction() as conn:
        assert conn.scalar(sa.select(posts.c.published_at)) == published


def test_retention_deletes_the_contact_with_the_text(store, settings, vault):
    old = file_report(store, settings, report(occurred_at=NOW - dt.timedelta(days=20), contact="old@example.org"),
                      channel="api", now=NOW, vault=vault)
    recent = file_report(store, settings, report(contact="new@example.org"), channel="api", now=NOW, vault=vault)
    later = NOW + dt.timedelta(days=10)
    cutoff = later - dt.timedelta(days=settings.main.retention_days)

    assert store.purge_text(cutoff, later) == 1
    assert purge_contacts(store, cutoff) == 1
    assert purge_contacts(store, cutoff) == 0
    with store.transaction() as conn:
        left = conn.execute(sa.select(posts.c.external_id, report_contacts.c.ciphertext)
                            .join(report_contacts, report_contacts.c.post_id == posts.c.id)).all()
        assert conn.scalar(sa.select(sa.func.count()).select_from(posts)) == 2  # counts stay
    assert [(external_id, vault.open(c)) for external_id, c in left] == [(recent, "new@example.org")]
    assert old != recent


def test_collected_contacts_leave_the_post_and_are_sealed_once(store, vault):
    from monitor.collect import post_row
    from monitor.privacy import Pseudonymiser
    from sources.base import FetchState

    found = [Post(source_id="mail", external_id=f"m{i}", text=f"report {i}", published_at=NOW,
                  meta={"platform": "report", "category": "rumour", "contact": f"Sender {i} <s{i}@example.org>"})
             for i in range(2)]
    clean, contacts = take_contacts(found)
    assert all("contact" not in p.meta for p in clean)
    assert contacts == {"m0": "Sender 0 <s0@example.org>", "m1": "Sender 1 <s1@example.org>"}
    rows = [post_row(p, platform="report", keep_author=False, pseudonymiser=Pseudonymiser(b"k" * 32), now=NOW)
            for p in clean]
    store.ingest(rows, FetchState(source_id="mail"))
    with store.transaction() as conn:
        assert seal_contacts(conn, vault, "mail", contacts, NOW) == 2
    with store.transaction() as conn:  # the same messages read again
        assert seal_contacts(conn, vault, "mail", contacts, NOW) == 0
    assert not [v for v in all_stored_values(store, except_table="report_contacts") if "example.org" in v]


def test_the_key_file_is_created_once_private_and_reused(tmp_path):
    key = load_or_create_contact_key(None, tmp_path / "var")
    path = tmp_path / "var" / "reports.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_contact_key(None, tmp_path / "var") == key
    Fernet(key)  # a usable key


def test_the_environment_key_wins_and_a_bad_one_is_named(tmp_path, monkeypatch):
    env_key = Fernet.generate_key().decode()
    monkeypatch.setenv("TENSION_REPORTS_KEY", env_key)
    assert ReportsEnvironment.load().key.get_secret_value() == env_key
    assert load_or_create_contact_key(env_key, tmp_path) == env_key.encode()
    assert not (tmp_path / "reports.key").exists()
    with pytest.raises(ConfigError, match="TENSION_REPORTS_KEY: not a Fernet key"):
        load_or_create_contact_key("not-a-key", tmp_path)


def test_partner_tokens_are_split_and_short_ones_refused():
    tokens = ReportsEnvironment(tokens=SecretStr(" police-aaaaaaaaaaaaaaaa, ,housing-bbbbbbbbbbbbbbb "))
    assert tokens.partner_tokens() == ("police-aaaaaaaaaaaaaaaa", "housing-bbbbbbbbbbbbbbb")
    assert ReportsEnvironment(tokens=None).partner_tokens() == ()
    with pytest.raises(ConfigError, match="TENSION_REPORTS_TOKENS: a token is shorter than 16"):
        ReportsEnvironment(tokens=SecretStr("short")).partner_tokens()


# -- the collect stage seals contacts handed over by a report collector ------------------------

class _Mailbox:
    id, kind = "reports-mailbox", "imap"

    def __init__(self, posts):
        self.posts = posts

    def collect(self, state, now):
        from sources.base import Collection
        return Collection(self.posts, state.evolve(cursor="7:2"))

    def close(self):
        pass


def _emailed(n: int) -> Post:
    return Post(source_id="reports-mailbox", external_id=f"m{n}", text=f"Report {n}: graffiti on the mosque",
                published_at=NOW, meta={"platform": "report", "category": "hate_incident",
                                        "contact": f"resident{n}@example.org"})


def test_collect_stage_seals_emailed_contacts_with_the_posts(store, vault):
    from types import SimpleNamespace

    from monitor.collect import collect_source
    from monitor.privacy import Pseudonymiser
    from sources.http import HttpPolicy

    config = SimpleNamespace(id="reports-mailbox", platform="report", keep_author=False,
                             every=dt.timedelta(minutes=5), jitter=dt.timedelta(0))
    kwargs = dict(pseudonymiser=Pseudonymiser(b"k" * 32), policy=HttpPolicy(), now=NOW,
                  rng=__import__("random").Random(1))
    refused = collect_source(store, _Mailbox([_emailed(1)]), config, **kwargs)
    assert "contact vault" in refused.error and store.count_posts() == 0  # nothing half-stored
    assert store.load_state("reports-mailbox").cursor is None

    done = collect_source(store, _Mailbox([_emailed(1), _emailed(2)]), config,
                          contact_vault=lambda: vault, **kwargs)
    assert done.error is None and done.new == 2
    assert store.load_state("reports-mailbox").cursor == "7:2"
    assert not any("resident" in v for v in all_stored_values(store, except_table="report_contacts"))
    with store.transaction() as conn:
        sealed = [vault.open(c) for c in conn.scalars(sa.select(report_contacts.c.ciphertext))]
    assert sorted(sealed) == ["resident1@example.org", "resident2@example.org"]

"""The email-in collector against a real IMAP server on loopback (pymap, in-memory backend).

Messages are put in place with APPEND, as a mail server delivers them. Damaged MIME comes from
CPython's own email test suite (fixtures/imap, see SOURCE.txt there); the demo mailbox is pymap's.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import json
import random
import secrets
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import ValidationError

from monitor.collect import collect_source, post_row
from monitor.errors import SourceError
from monitor.privacy import Pseudonymiser
from monitor.reports import ContactVault, seal_contacts, take_contacts
from monitor.settings import load_settings
from monitor.store.schema import metadata, posts, report_contacts
from sources.base import FetchState
from sources.http import HttpPolicy
from sources.imap_reports import ImapConfig, ImapReportSource, html_to_text
from conftest import write_config

NOW = dt.datetime(2026, 11, 20, 18, 0, tzinfo=dt.timezone.utc)
FIXTURES = Path(__file__).parent / "fixtures" / "imap"
USER, PASSWORD = "demouser", "demopass"
ENVIRON = {"TEST_IMAP_USER": USER, "TEST_IMAP_PASSWORD": PASSWORD}
PYMAP = "import sys; from pymap.main import main; sys.argv[0] = 'pymap'; sys.exit(main())"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def imap_port():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", PYMAP, "--host", "127.0.0.1", "--port", str(port),
                               "--no-tls", "dict", "--demo-data"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while True:
        try:
            imaplib.IMAP4("127.0.0.1", port, timeout=1).logout()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"pymap did not start: {server.stderr.read().decode()[-500:]}")
            time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(timeout=10)


class Mailbox:
    """A mailbox of its own for each test, filled the way a mail server fills it."""

    def __init__(self, port: int, name: str):
        self.port, self.name = port, name
        with self._session() as imap:
            imap.create(name)

    def _session(self):
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=5)
        imap.login(USER, PASSWORD)
        return _Closing(imap)

    def deliver(self, *messages: bytes) -> None:
        with self._session() as imap:
            for raw in messages:
                status, _ = imap.append(self.name, None, None, raw)
                assert status == "OK"

    def recreate(self) -> None:
        """Delete and create again: the server hands out a new UIDVALIDITY."""
        with self._session() as imap:
            assert imap.delete(self.name)[0] == "OK"
            assert imap.create(self.name)[0] == "OK"


class _Closing:
    def __init__(self, imap):
        self.imap = imap

    def __enter__(self):
        return self.imap

    def __exit__(self, *exc):
        self.imap.logout()


@pytest.fixture
def mailbox(imap_port, request):
    return Mailbox(imap_port, "Reports" + str(abs(hash(request.node.name)) % 10**8))


def source(port: int, mailbox: str = "INBOX", environ=ENVIRON, **changes) -> ImapReportSource:
    values = {"id": "partner-mail", "host": "127.0.0.1", "port": port, "ssl": False,
              "username_env": "TEST_IMAP_USER", "password_env": "TEST_IMAP_PASSWORD",
              "mailbox": mailbox, "category": "rumour"} | changes
    return ImapReportSource(ImapConfig(**values), environ=environ)


def mail(subject: str, body: str, *, sender: str = "Jo Bloggs <jo.bloggs@example.org>", html: str | None = None,
         message_id: str | None = None, date: str = "Fri, 20 Nov 2026 16:05:00 +0000") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "reports@council.example"
    message["Subject"] = subject
    message["Date"] = date
    if message_id:
        message["Message-ID"] = message_id
    if body:
        message.set_content(body)
    if html:
        if body:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    return message.as_bytes()


def cursor(collection) -> dict:
    return json.loads(collection.state.cursor)


def test_new_messages_become_reports_and_the_cursor_moves_on(mailbox):
    mailbox.deliver(
        mail("Graffiti on the underpass", "Racist graffiti sprayed overnight by the station.\n\n"
             "Jo Bloggs\njo.bloggs@example.org", message_id="<a1@mail.example.org>"),
        mail("Rumour at the school gates", "Parents saying the hotel is being filled tonight.",
             sender="Sam <SAM@Example.net>", message_id="<a2@mail.example.org>"),
    )
    imap = source(mailbox.port, mailbox.name)

    first = imap.collect(FetchState(source_id="partner-mail"), NOW)

    assert [p.text for p in first.posts] == [
        "Graffiti on the underpass\n\nRacist graffiti sprayed overnight by the station.\n\nJo Bloggs\n[sender]",
        "Rumour at the school gates\n\nParents saying the hotel is being filled tonight.",
    ]
    report = first.posts[0]
    assert report.meta == {"platform": "report", "category": "rumour", "channel": "email",
                           "contact": "Jo Bloggs <jo.bloggs@example.org>"}
    assert report.author_handle is None and report.url is None
    assert report.external_id.startswith("msgid:") and "example" not in report.external_id
    assert report.published_at == dt.datetime(2026, 11, 20, 16, 5, tzinfo=dt.timezone.utc)
    assert first.notes == () and first.more is False
    assert first.state.url == f"imap://127.0.0.1:{mailbox.port}/{mailbox.name}"

    again = imap.collect(first.state, NOW)
    assert again.posts == [] and again.state.cursor == first.state.cursor

    mailbox.deliver(mail("Fly-tipping", "Mattresses dumped outside the community centre.", message_id="<a3@x>"))
    later = imap.collect(again.state, NOW)
    assert [p.text.split("\n")[0] for p in later.posts] == ["Fly-tipping"]
    assert cursor(later)["uid"] > cursor(first)["uid"]


def test_html_only_mail_is_read_as_text(mailbox):
    html = ("<html><head><title>Report</title><style>p {color: red}</style></head><body>"
            "<p>Group gathering outside the <b>Riverside&nbsp;Hotel</b> &amp; shouting.</p>"
            "<script>track()</script><div>Started about 7pm.</div></body></html>")
    mailbox.deliver(mail("Crowd at hotel", "", html=html, message_id="<h1@x>"))

    (report,) = source(mailbox.port, mailbox.name).collect(FetchState(source_id="partner-mail"), NOW).posts

    assert report.text == ("Crowd at hotel\n\nGroup gathering outside the\nRiverside Hotel\n& shouting.\n"
                           "Started about 7pm.")
    assert "<" not in report.text and "track()" not in report.text and "color" not in report.text


def test_plain_text_is_preferred_to_its_html_alternative(mailbox):
    mailbox.deliver(mail("Both", "The plain words.", html="<p>The <i>HTML</i> words.</p>", message_id="<b1@x>"))
    (report,) = source(mailbox.port, mailbox.name).collect(FetchState(source_id="partner-mail"), NOW).posts
    assert report.text == "Both\n\nThe plain words."


def test_pymaps_demo_inbox(imap_port):
    collection = source(imap_port).collect(FetchState(source_id="partner-mail"), NOW)

    assert [p.text.split("\n")[0] for p in collection.posts] == [
        "Re: Re: Random question", "Random question", "Important notice regarding your account", "Hello, World!"]
    assert all(p.external_id.startswith("sha256:") for p in collection.posts)  # no Message-ID
    assert [p.meta["contact"] for p in collection.posts][:3] == [
        "friend@example.com", "friend@example.com", "corp@example.com"]
    assert not [p for p in collection.posts if "example.com" in p.text]


def test_damaged_mime_is_read_as_far_as_it_goes(mailbox):
    names = ["msg_10", "msg_15", "msg_31", "msg_41", "msg_47"]
    photo_only = EmailMessage()
    photo_only["From"] = "resident@example.org"
    photo_only.add_attachment(b"\x89PNG\r\n\x1a\n" + bytes(64), maintype="image", subtype="png", filename="wall.png")
    mailbox.deliver(*(FIXTURES.joinpath(f"{n}.eml").read_bytes() for n in names), photo_only.as_bytes())

    collection = source(mailbox.port, mailbox.name).collect(FetchState(source_id="partner-mail"), NOW)

    texts = [p.text for p in collection.posts]
    assert texts[0] == "Lyrics\n\nThis is a 7bit encoded message."
    assert texts[1] == "XX\n\nSome removed test."  # same boundary inside and out (Outlook Express)
    assert "message 1" in texts[2] and "message 2" in texts[2]  # boundary never starts: shown raw
    assert texts[3] == "64423\n\nBlah blah blah"  # multipart without a boundary
    assert texts[4] == "bar"
    notes = "\n".join(collection.notes)
    assert "StartBoundaryNotFoundDefect" in notes and "NoBoundaryInMultipartDefect" in notes
    assert "has no text: skipped" in notes
    assert cursor(collection)["uid"] == max(_uids(mailbox))  # nothing blocks the mailbox


def _uids(mailbox: Mailbox) -> list[int]:
    with mailbox._session() as imap:
        imap.select(mailbox.name, readonly=True)
        return [int(u) for u in imap.uid("SEARCH", "ALL")[1][0].split()]


def test_oversized_messages_are_skipped_with_a_note(mailbox):
    mailbox.deliver(mail("Big", "x " * 10_000, message_id="<big@x>"), mail("Small", "fine", message_id="<s@x>"))
    collection = source(mailbox.port, mailbox.name, max_message_bytes=10_000).collect(
        FetchState(source_id="partner-mail"), NOW)
    assert [p.text for p in collection.posts] == ["Small\n\nfine"]
    assert "over max_message_bytes (10000)" in collection.notes[0]


def test_a_full_mailbox_is_read_in_batches(mailbox):
    mailbox.deliver(*(mail(f"Report {i}", f"body {i}", message_id=f"<n{i}@x>") for i in range(5)))
    imap = source(mailbox.port, mailbox.name, batch_size=2)
    state, subjects = FetchState(source_id="partner-mail"), []
    for _ in range(5):
        collection = imap.collect(state, NOW)
        subjects += [p.text.split("\n")[0] for p in collection.posts]
        state = collection.state
        if not collection.more:
            break
    assert subjects == [f"Report {i}" for i in range(5)]


def store_batch(store, collection, vault: ContactVault) -> tuple[int, int]:
    """What the collect stage does with a report source's batch: contacts out of the posts,
    posts stored, contacts sealed for the stored posts."""
    clean, contacts = take_contacts(collection.posts)
    rows = [post_row(p, platform="report", keep_author=False, pseudonymiser=Pseudonymiser(b"k" * 32), now=NOW)
            for p in clean]
    result = store.ingest(rows, collection.state)
    with store.transaction() as conn:
        sealed = seal_contacts(conn, vault, collection.state.source_id, contacts, NOW)
    return result.new, sealed


def test_contacts_reach_only_the_sealed_table(mailbox, store):
    mailbox.deliver(mail("Leaflets", "Leaflets about the mosque through doors on Vulcan Road.",
                         sender='"Pat Quinn" <pat.quinn@example.org>', message_id="<c1@x>"))
    vault = ContactVault(Fernet.generate_key())

    collection = source(mailbox.port, mailbox.name).collect(FetchState(source_id="partner-mail"), NOW)
    assert store_batch(store, collection, vault) == (1, 1)

    with store.transaction() as conn:
        everything = [str(v) for table in metadata.sorted_tables if table.name != "report_contacts"
                      for row in conn.execute(sa.select(table)) for v in row]
        row = conn.execute(sa.select(posts)).mappings().one()
        ciphertext = conn.scalar(sa.select(report_contacts.c.ciphertext))
    assert not [v for v in everything if "pat.quinn" in v.casefold() or "Quinn" in v]
    assert (row["platform"], row["meta"]) == ("report", {"category": "rumour", "channel": "email"})
    assert vault.open(ciphertext) == "Pat Quinn <pat.quinn@example.org>"


def test_a_new_uidvalidity_reads_again_without_filing_twice(mailbox, store):
    vault = ContactVault(Fernet.generate_key())
    first_two = [mail(f"Report {i}", f"body {i}", message_id=f"<v{i}@x>") for i in range(2)]
    mailbox.deliver(*first_two)
    imap = source(mailbox.port, mailbox.name)
    first = imap.collect(FetchState(source_id="partner-mail"), NOW)
    assert store_batch(store, first, vault) == (2, 2)

    mailbox.recreate()  # e.g. the mailbox restored from a backup: every UID is new
    mailbox.deliver(*first_two, mail("Report 2", "body 2", message_id="<v2@x>"))
    second = imap.collect(store.load_state("partner-mail"), NOW)

    assert cursor(second)["uidvalidity"] != cursor(first)["uidvalidity"]
    assert "UIDVALIDITY changed" in second.notes[0]
    assert len(second.posts) == 3
    assert store_batch(store, second, vault) == (1, 1)
    with store.transaction() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(posts)) == 3
        assert conn.scalar(sa.select(sa.func.count()).select_from(report_contacts)) == 3


def test_a_wrong_password_is_a_clear_error_that_keeps_the_cursor(imap_port, store):
    secret = secrets.token_urlsafe(12)
    imap = source(imap_port, environ={"TEST_IMAP_USER": USER, "TEST_IMAP_PASSWORD": secret})
    kept = FetchState(source_id="partner-mail", cursor=json.dumps({"uidvalidity": 1, "uid": 7}))
    store.save_state(kept)

    with pytest.raises(SourceError) as caught:
        imap.collect(kept, NOW)
    message = str(caught.value)
    assert "login refused for user 'demouser' (password from TEST_IMAP_PASSWORD)" in message
    assert "AUTHENTICATIONFAILED" in message and secret not in message and "\n" not in message

    # The collect stage records it and backs off; nothing escapes to the caller.
    report = collect_source(store, imap, imap.config, pseudonymiser=Pseudonymiser(b"k" * 32),
                            policy=HttpPolicy(), now=NOW, rng=random.Random(1))
    state = store.load_state("partner-mail")
    assert report.error == message
    assert (state.status, state.cursor, state.consecutive_failures) == ("failing", kept.cursor, 1)


@pytest.mark.parametrize("environ, variable", [
    ({"TEST_IMAP_PASSWORD": PASSWORD}, "TEST_IMAP_USER"),
    ({"TEST_IMAP_USER": USER, "TEST_IMAP_PASSWORD": ""}, "TEST_IMAP_PASSWORD"),
])
def test_missing_credentials_name_the_variable(imap_port, environ, variable):
    with pytest.raises(SourceError, match=f"missing: set {variable}$"):
        source(imap_port, environ=environ).collect(FetchState(source_id="partner-mail"), NOW)


def test_a_server_that_is_down_is_unreachable():
    with pytest.raises(SourceError, match=r"^imap://127\.0\.0\.1:\d+/INBOX: unreachable: .*refused"):
        source(free_port()).collect(FetchState(source_id="partner-mail"), NOW)


def test_a_server_that_never_greets_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        imap = source(silent.getsockname()[1], timeout="1s")
        started = time.monotonic()
        with pytest.raises(SourceError, match="timed out connecting after 1s"):
            imap.collect(FetchState(source_id="partner-mail"), NOW)
    assert time.monotonic() - started < 5


def test_a_missing_mailbox_is_named(imap_port):
    with pytest.raises(SourceError, match="cannot open mailbox 'No Such Box'"):
        source(imap_port, "No Such Box").collect(FetchState(source_id="partner-mail"), NOW)


def test_the_kind_loads_from_the_sources_file(tmp_path, monkeypatch):
    monkeypatch.delenv("TENSION_DATA_DIR", raising=False)
    entry = ("sources:\n  - {id: partner-mail, kind: imap, host: mail.council.example, "
             "username_env: TENSION_IMAP_USER, password_env: TENSION_IMAP_PASSWORD}\n")
    settings = load_settings(write_config(tmp_path / "config", sources=entry))
    (config,) = settings.sources.sources
    assert isinstance(config, ImapConfig)
    assert (config.mailbox, config.category, config.platform, config.ssl) == ("INBOX", "tension", "report", True)
    assert config.address == "imaps://mail.council.example:993/INBOX"
    with pytest.raises(ValidationError, match="password_env"):
        ImapConfig(id="m", host="h", username_env="U", password_env="hunter2 is my password")
    with pytest.raises(ValidationError, match="category"):
        ImapConfig(id="m", host="h", username_env="U", password_env="P", category="burglary")


def test_html_to_text_keeps_paragraphs_apart():
    assert html_to_text("<p>One</p><p>Two &amp; three</p>").split() == ["One", "Two", "&", "three"]

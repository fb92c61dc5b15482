"""Community reports by email: each new message in an IMAP mailbox becomes a report.

Partners who cannot use the API write or forward reports to a mailbox. A poll opens the mailbox
read-only (EXAMINE, BODY.PEEK) so it looks to officers as it did, and reads only messages it has
not seen: the cursor is the mailbox's UIDVALIDITY and the last UID read. If the server renumbers
the mailbox (a new UIDVALIDITY) the poll starts over from the first message; reports already
stored are recognised by their Message-ID and not filed twice.

The sender is the report's contact. It travels to the collect stage in ``Post.meta["contact"]``
only, which seals it into ``report_contacts`` and strips it from the post; the sender's address
is also blanked out of the text, where forwarded mail and signatures repeat it.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import imaplib
import json
import os
import re
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from email.errors import MessageError
from email.message import EmailMessage
from typing import Literal

from bs4 import BeautifulSoup
from pydantic import Field

from monitor.config_files import Duration
from monitor.errors import SourceError
from monitor.reports import CONTACT, MAX_CONTACT, PLATFORM, ReportCategory
from sources.base import Collection, FetchState, Post
from sources.config import SourceConfig

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
MAX_TEXT = 20_000
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
# Parts of an HTML mail that are never text a person wrote.
_NOT_TEXT = ("script", "style", "head", "title", "template", "noscript")
# Header and content errors the lenient email parser can still raise on hostile input.
_MIME_ERRORS = (MessageError, LookupError, UnicodeError, ValueError, TypeError, IndexError, AttributeError)


class ImapConfig(SourceConfig):
    kind: Literal["imap"] = "imap"
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)  # 993 with ssl, 143 without
    # false only for a server on this machine: otherwise the password crosses the network in clear.
    ssl: bool = True
    username_env: str = Field(pattern=ENV_NAME)
    password_env: str = Field(pattern=ENV_NAME)
    mailbox: str = Field(default="INBOX", min_length=1)
    # Mail carries no category field: every message from this mailbox is filed as this one.
    category: ReportCategory = "tension"
    platform: Literal["report"] = PLATFORM
    keep_author: Literal[False] = False  # the sender is the contact, sealed apart, never an author
    every: Duration = dt.timedelta(minutes=5)
    timeout: Duration = dt.timedelta(seconds=30)
    # Larger messages (big photo attachments) are skipped with a note instead of read.
    max_message_bytes: int = Field(default=25_000_000, ge=10_000)
    batch_size: int = Field(default=50, ge=1, le=1000)

    @property
    def address(self) -> str:
        port = self.port or (993 if self.ssl else 143)
        return f"imap{'s' if self.ssl else ''}://{self.host}:{port}/{self.mailbox}"


class ImapReportSource:
    """One mailbox. Connects for each poll: reports arrive a few a day, not a stream."""

    kind = "imap"

    def __init__(self, config: ImapConfig, environ: Mapping[str, str] | None = None):
        self.id = config.id
        self.config = config
        self._environ = os.environ if environ is None else environ

    def collect(self, state: FetchState, now: datetime) -> Collection:
        now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        validity, last_uid = _read_cursor(state.cursor)
        notes: list[str] = []
        with self._mailbox() as imap:
            current = self._uidvalidity(imap)
            if validity is not None and validity != current:
                notes.append(f"{self.config.address}: UIDVALIDITY changed ({validity} -> {current}): "
                             "reading the mailbox again; stored reports are not filed twice")
                last_uid = 0
            waiting = [uid for uid in self._uids(imap) if uid > last_uid]
            batch = waiting[: self.config.batch_size]
            posts = []
            for uid, size in self._sizes(imap, batch):
                if size > self.config.max_message_bytes:
                    notes.append(f"{self.config.address}: message UID {uid} skipped: {size} bytes, "
                                 f"over max_message_bytes ({self.config.max_message_bytes})")
                    continue
                raw = self._message(imap, uid)
                if raw is None:
                    notes.append(f"{self.config.address}: message UID {uid} vanished before it was read")
                    continue
                post, problem = report_from_message(raw, source_id=self.id, category=self.config.category,
                                                    now=now)
                if problem:
                    notes.append(f"{self.config.address}: message UID {uid}: {problem}")
                if post is not None:
                    posts.append(post)
        cursor = json.dumps({"uidvalidity": current, "uid": batch[-1] if batch else last_uid})
        new_state = state.evolve(cursor=cursor, url=self.config.address)
        return Collection(posts=posts, state=new_state, more=len(waiting) > len(batch), notes=tuple(notes))

    def close(self) -> None:
        """Nothing held between polls."""

    # -- IMAP conversation -------------------------------------------------------------------

    def _credentials(self) -> tuple[str, str]:
        values = []
        for variable, what in ((self.config.username_env, "username"), (self.config.password_env, "password")):
            value = self._environ.get(variable, "")
            if not value:
                raise SourceError(f"{self.config.address}: IMAP {what} missing: set {variable}")
            values.append(value)
        return values[0], values[1]

    @contextmanager
    def _mailbox(self) -> Iterator[imaplib.IMAP4]:
        """Connected, logged in and the mailbox examined; every failure is a one-line SourceError
        that never carries the password."""
        username, password = self._credentials()
        address, timeout = self.config.address, self.config.timeout.total_seconds()
        try:
            imap = self._connect(timeout)
        except TimeoutError:
            raise SourceError(f"{address}: timed out connecting after {timeout:g}s") from None
        except ssl.SSLError as exc:
            raise SourceError(f"{address}: TLS failed: {_one_line(exc)}") from None
        except (OSError, imaplib.IMAP4.error) as exc:
            raise SourceError(f"{address}: unreachable: {_one_line(exc)}") from None
        try:
            try:
                imap.login(username, password)
            except imaplib.IMAP4.abort as exc:
                raise SourceError(f"{address}: connection dropped at login: {_one_line(exc)}") from None
            except imaplib.IMAP4.error as exc:
                reason = _one_line(exc).replace(password, "***")
                raise SourceError(f"{address}: login refused for user {username!r} (password from "
                                  f"{self.config.password_env}): {reason}") from None
            status, data = imap.select(_quoted(self.config.mailbox), readonly=True)
            if status != "OK":
                raise SourceError(f"{address}: cannot open mailbox {self.config.mailbox!r}: {_text(data)}")
            yield imap
        except TimeoutError:
            raise SourceError(f"{address}: timed out after {timeout:g}s") from None
        except imaplib.IMAP4.abort as exc:
            raise SourceError(f"{address}: connection dropped: {_one_line(exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise SourceError(f"{address}: server refused a command: {_one_line(exc)}") from None
        except OSError as exc:
            raise SourceError(f"{address}: connection failed: {_one_line(exc)}") from None
        finally:
            _logout(imap)

    def _connect(self, timeout: float) -> imaplib.IMAP4:
        port = self.config.port or (993 if self.config.ssl else 143)
        if self.config.ssl:
            return imaplib.IMAP4_SSL(self.config.host, port, ssl_context=ssl.create_default_context(),
                                     timeout=timeout)
        return imaplib.IMAP4(self.config.host, port, timeout=timeout)

    def _uidvalidity(self, imap: imaplib.IMAP4) -> int:
        _, data = imap.response("UIDVALIDITY")
        try:
            return int(data[0])
        except (TypeError, ValueError, IndexError):
            raise SourceError(f"{self.config.address}: server sent no UIDVALIDITY for the mailbox") from None

    def _uids(self, imap: imaplib.IMAP4) -> list[int]:
        status, data = imap.uid("SEARCH", "ALL")
        if status != "OK":
            raise SourceError(f"{self.config.address}: SEARCH failed: {_text(data)}")
        return sorted(int(uid) for uid in b" ".join(d for d in data if d).split())

    def _sizes(self, imap: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, int]]:
        if not uids:
            return []
        status, data = imap.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
        if status != "OK":
            raise SourceError(f"{self.config.address}: FETCH failed: {_text(data)}")
        sizes = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            uid, size = _FETCH_UID.search(line or b""), _FETCH_SIZE.search(line or b"")
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        # A message expunged since the SEARCH has no size: it is simply gone.
        return [(uid, sizes[uid]) for uid in uids if uid in sizes]

    def _message(self, imap: imaplib.IMAP4, uid: int) -> bytes | None:
        status, data = imap.uid("FETCH", str(uid), "(UID BODY.PEEK[])")
        if status != "OK":
            raise SourceError(f"{self.config.address}: FETCH of UID {uid} failed: {_text(data)}")
        for item in data:
            # Unsolicited FETCH responses (flag changes of other messages) may come along.
            if isinstance(item, tuple) and (match := _FETCH_UID.search(item[0])) and int(match.group(1)) == uid:
                return item[1]
        return None


# -- messages to reports ---------------------------------------------------------------------


def report_from_message(raw: bytes, *, source_id: str, category: str,
                        now: datetime) -> tuple[Post | None, str | None]:
    """A report from one raw message, and a remark when the message was damaged or empty.

    Broken MIME is read as far as it goes, as a mail client would; a message with no text at
    all is skipped (with the remark) rather than stop the mailbox for ever.
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    subject = " ".join(_header(message, "subject").split())
    sender = _header(message, "from").strip()
    address = email.utils.parseaddr(sender)[1]
    body = _body(message)
    text = f"{subject}\n\n{body}".strip() if body != subject else subject
    if address:
        text = re.sub(re.escape(address), "[sender]", text, flags=re.IGNORECASE)
    defects = sorted({type(d).__name__ for part in message.walk() for d in part.defects})
    problem = f"malformed MIME ({', '.join(defects)})" if defects else None
    if not text:
        return None, f"{problem or 'message'} has no text: skipped"
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
        problem = ", ".join(filter(None, (problem, f"text cut to {MAX_TEXT} characters")))
    meta = {"platform": PLATFORM, "category": category, "channel": "email"}
    if sender:
        meta[CONTACT] = sender[:MAX_CONTACT]
    post = Post(
        source_id=source_id,
        external_id=_external_id(message, raw),
        text=text,
        published_at=_sent_at(message, now),
        meta=meta,
    )
    return post, problem


def _external_id(message: EmailMessage, raw: bytes) -> str:
    """A hash of the Message-ID (which can name the sender's machine), or of the whole message
    when it has none; either way the same message gets the same id after a renumbering."""
    message_id = _header(message, "message-id").strip()
    if message_id:
        return "msgid:" + hashlib.sha256(message_id.encode()).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _sent_at(message: EmailMessage, now: datetime) -> datetime:
    try:
        sent = email.utils.parsedate_to_datetime(_header(message, "date"))
    except (TypeError, ValueError, IndexError):
        return now
    sent = sent if sent.tzinfo else sent.replace(tzinfo=timezone.utc)
    return min(sent.astimezone(timezone.utc), now)


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name) or "")
    except _MIME_ERRORS:  # a header too broken to parse: its raw text is still worth having
        return next((str(v) for k, v in message.raw_items() if k.lower() == name), "")


def _body(message: EmailMessage) -> str:
    """The plain-text body, else the HTML body as text, else any text part that can be read."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except _MIME_ERRORS:
        part = None
    candidates = [part] if part is not None else [
        p for p in message.walk() if p.get_content_maintype() in ("text", "multipart") and not p.is_multipart()
        and not p.is_attachment()
    ]
    for candidate in candidates:
        text = _part_text(candidate)
        if candidate.get_content_subtype() == "html":
            text = html_to_text(text)
        text = _tidy(text)
        if text:
            return text
    return ""


def _part_text(part: EmailMessage) -> str:
    """A part's decoded text; an unknown charset or broken transfer encoding still gives what
    can be read rather than nothing."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except _MIME_ERRORS:
        pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            return payload.decode("utf-8", errors="replace")
    payload = part.get_payload()
    return payload if isinstance(payload, str) else ""


def html_to_text(html: str) -> str:
    """Visible text of an HTML mail body, paragraphs kept apart, scripts and styles dropped."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_NOT_TEXT):
        tag.decompose()
    return soup.get_text("\n")


def _tidy(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


# -- small helpers ---------------------------------------------------------------------------


def _read_cursor(cursor: str | None) -> tuple[int | None, int]:
    """(UIDVALIDITY, last UID) from the stored cursor; an unreadable one starts afresh."""
    try:
        value = json.loads(cursor or "")
        return int(value["uidvalidity"]), int(value["uid"])
    except (ValueError, TypeError, KeyError):
        return None, 0


def _quoted(mailbox: str) -> str:
    """Mailbox names with spaces or quotes must be sent as an IMAP quoted string."""
    if mailbox.isalnum():
        return mailbox
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (imaplib.IMAP4.error, OSError):
        pass  # the poll's outcome is already decided; a failed goodbye changes nothing


def _text(data: object) -> str:
    if isinstance(data, (list, tuple)):
        data = b" ".join(d if isinstance(d, bytes) else str(d).encode() for d in data if d)
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    return _one_line(data)


def _one_line(exc: object) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return (" ".join(text.split()) or type(exc).__name__)[:200]

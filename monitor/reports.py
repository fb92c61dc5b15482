"""Community reports: what partners and residents tell the partnership, filed as posts.

A report is a row of ``posts`` with platform ``report``, so it is scored, placed, aggregated
(as its own ``reports`` count), alerted on and briefed exactly like a collected post. What the
reporter gives to be contacted is personal data the analysis never needs: it is sealed with
Fernet into ``report_contacts`` in the same transaction and never reaches the post, its meta
or the logs. The key comes from ``TENSION_REPORTS_KEY`` or is generated once into
``<data_dir>/reports.key`` (mode 0600); keep that file off the database's backups.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Connection

from monitor import audit
from monitor.collect import post_row
from monitor.config_files import describe_errors
from monitor.errors import ConfigError, TensionError
from monitor.localities import LocalityFile
from monitor.privacy import secret_file
from monitor.store import Store
from monitor.store.schema import posts, report_contacts
from sources.base import EARLIEST, Post, encodable

if TYPE_CHECKING:
    from monitor.settings import Settings

ReportCategory = Literal["hate_incident", "rumour", "tension", "asb"]
PLATFORM = "report"
CONTACT = "contact"  # the Post.meta key a report collector hands a contact over in
KEY_FILE = "reports.key"
MAX_TEXT = 5000
MAX_CONTACT = 500
# A reporter's clock may run a little ahead of ours.
CLOCK_SKEW = dt.timedelta(minutes=5)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReportRejected(TensionError):
    """A report that is well formed but cannot be filed; ``field`` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ReportIn(BaseModel):
    """One report as a partner sends it (the JSON API now, the dashboard form later)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    # A locality id or name ("workington", "Workington") or free text ("Vulcan Park, Workington").
    place: str = Field(min_length=1, max_length=200)
    category: ReportCategory
    # A date, or a date-time with a UTC offset; when omitted the report is dated when filed.
    occurred_at: dt.datetime | dt.date | None = None
    contact: str | None = Field(default=None, max_length=MAX_CONTACT)

    @field_validator("contact", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("text", "place", "contact")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        """Neither database stores a NUL, nor any encoding a lone surrogate: refused here with a
        reason, not by the database as an error the partner would retry for ever."""
        if value is not None and ("\x00" in value or not encodable(value)):
            raise ValueError("contains a character that cannot be stored (a NUL or a lone surrogate)")
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        """"2026-11-20" is a date; anything longer is a date-time (even at midnight). Parsed
        here so a bad value gets one clear message, not one per type it might have been."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        try:
            return dt.date.fromisoformat(text) if ISO_DATE.match(text) else dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("not a date (2026-11-20) or an ISO 8601 date-time with a UTC offset "
                             "(2026-11-20T14:30:00Z)") from None

    @field_validator("occurred_at")
    @classmethod
    def _past(cls, value: dt.datetime | dt.date | None) -> dt.datetime | dt.date | None:
        """Reject what is in the future wherever the reporter is; ``file_report`` then applies
        the partnership's own clock and time zone."""
        now = dt.datetime.now(dt.timezone.utc)
        if value is not None and value.year < EARLIEST.year:  # also keeps the UTC arithmetic in range
            raise ValueError(f"is before {EARLIEST.year}")
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError("give a UTC offset (2026-11-20T14:30:00Z or +00:00) or just a date")
            if value > now + CLOCK_SKEW:
                raise ValueError("is in the future")
        elif isinstance(value, dt.date) and value > (now + dt.timedelta(hours=14)).date():
            raise ValueError("is in the future")
        return value


class ReportsEnvironment(BaseSettings):
    """The intake's secrets, from the environment only: the contact key and partner tokens."""

    model_config = SettingsConfigDict(env_prefix="TENSION_REPORTS_", extra="ignore")

    key: SecretStr | None = None
    # Comma-separated bearer tokens, one per partner organisation.
    tokens: SecretStr | None = None

    @classmethod
    def load(cls) -> ReportsEnvironment:
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigError("\n".join(describe_errors("environment", exc))) from None

    def partner_tokens(self) -> tuple[str, ...]:
        raw = self.tokens.get_secret_value() if self.tokens else ""
        tokens = tuple(t.strip() for t in raw.split(",") if t.strip())
        for token in tokens:
            if len(token) < 16:
                raise ConfigError("environment: TENSION_REPORTS_TOKENS: a token is shorter than 16 "
                                  "characters (hint: python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return tokens


def load_or_create_contact_key(env_key: str | None, data_dir: Path) -> bytes:
    """The Fernet key: the environment's, else ``<data_dir>/reports.key``, created on first use."""
    if env_key:
        return _checked_key(env_key.strip().encode(), "environment: TENSION_REPORTS_KEY")
    path = Path(data_dir) / KEY_FILE
    return _checked_key(secret_file(path, Fernet.generate_key, "the reports contact key"), str(path))


def _checked_key(key: bytes, where: str) -> bytes:
    try:
        Fernet(key)
    except ValueError:
        raise ConfigError(f"{where}: not a Fernet key (hint: python -c 'from cryptography.fernet "
                          "import Fernet; print(Fernet.generate_key().decode())')") from None
    return key


class ContactVault:
    """Seals and opens reporters' contacts. Fernet authenticates as well as encrypts, so a
    tampered or foreign ciphertext fails loudly instead of decrypting to garbage."""

    def __init__(self, key: bytes):
        self._fernet = Fernet(key)

    @classmethod
    def from_settings(cls, settings: Settings, environment: ReportsEnvironment | None = None) -> ContactVault:
        environment = environment or ReportsEnvironment.load()
        env_key = environment.key.get_secret_value() if environment.key else None
        return cls(load_or_create_contact_key(env_key, settings.data_dir))

    def seal(self, contact: str) -> str:
        return self._fernet.encrypt(contact.encode()).decode()

    def open(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise ConfigError("a report contact cannot be decrypted with this key "
                              "(hint: TENSION_REPORTS_KEY or reports.key changed)") from None


def resolve_place(place: str, localities: LocalityFile) -> str | None:
    """The locality id a place names (by id, name or alias, any case), or None for free text."""
    wanted = " ".join(place.split()).casefold()
    for locality in localities.localities:
        names = (locality.id, locality.name, *locality.aliases)
        if wanted in {name.casefold() for name in names}:
            return locality.id
    return None


def occurred_utc(value: dt.datetime | dt.date | None, *, now: dt.datetime, zone: ZoneInfo,
                 retention: dt.timedelta) -> dt.datetime:
    """When the report happened, in UTC. A bare date is taken as noon local time (so it lands
    in that day's window whichever way days are cut), never later than ``now``."""
    if value is None:
        return now
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ReportRejected("occurred_at", "give a UTC offset or just a date")
        when = value.astimezone(dt.timezone.utc)
        if when > now + CLOCK_SKEW:
            raise ReportRejected("occurred_at", "is in the future")
        when = min(when, now)
    else:
        if value > now.astimezone(zone).date():
            raise ReportRejected("occurred_at", "is in the future")
        noon = dt.datetime.combine(value, dt.time(12), tzinfo=zone).astimezone(dt.timezone.utc)
        when = min(noon, now)
    if when < now - retention:
        raise ReportRejected("occurred_at", f"is more than {retention.days} days ago, beyond the "
                                            "retention period (hint: tell the partnership directly)")
    return when


def file_report(store: Store, settings: Settings, report: ReportIn, *, channel: str,
                now: dt.datetime, vault: ContactVault | None = None) -> str:
    """File a report as a post (and its contact, sealed) in one transaction; returns its id.

    The id is the post's random external id: it tells a partner nothing about how many
    reports others have filed. The place goes into the title, where the scoring stage's
    gazetteer reads it, and into ``place_hints`` when it names one of our localities.
    """
    when = occurred_utc(report.occurred_at, now=now, zone=ZoneInfo(settings.main.timezone),
                        retention=dt.timedelta(days=settings.main.retention_days))
    if report.contact and vault is None:
        vault = ContactVault.from_settings(settings)
    locality_id = resolve_place(report.place, settings.localities)
    title = settings.localities.by_id()[locality_id].name if locality_id else report.place
    post = Post(
        source_id=f"reports-{channel}",
        external_id=str(uuid.uuid4()),
        text=report.text,
        published_at=when,
        title=title,
        place_hints=(locality_id,) if locality_id else (),
        meta={"platform": PLATFORM, "category": report.category, "channel": channel},
    )
    # Reports carry no author: the reporter is reachable only through the sealed contact.
    row = post_row(post, platform=PLATFORM, keep_author=False, pseudonymiser=None, now=now)
    with store.transaction() as conn:
        post_id = conn.execute(sa.insert(posts).values(**row).returning(posts.c.id)).scalar_one()
        if report.contact:
            conn.execute(sa.insert(report_contacts).values(
                post_id=post_id, ciphertext=vault.seal(report.contact), created_at=now))
    return post.external_id


def take_contacts(collected: Sequence[Post]) -> tuple[list[Post], dict[str, str]]:
    """Split what a report collector found into posts without contacts and the contacts by
    external id. The collect stage calls this before ``post_row`` so a contact never lands in
    ``posts.meta``."""
    clean, contacts = [], {}
    for post in collected:
        if CONTACT in post.meta:
            meta = dict(post.meta)
            contact = str(meta.pop(CONTACT) or "").strip()[:MAX_CONTACT]
            if contact:
                contacts[post.external_id] = contact
            post = replace(post, meta=meta)
        clean.append(post)
    return clean, contacts


def seal_contacts(conn: Connection, vault: ContactVault, source_id: str, contacts: dict[str, str],
                  now: dt.datetime) -> int:
    """Store collected contacts for their stored posts, inside the ingest transaction. A post
    seen again (a re-read mailbox) keeps the contact it already has."""
    if not contacts:
        return 0
    found = conn.execute(
        sa.select(posts.c.id, posts.c.external_id)
        .outerjoin(report_contacts, report_contacts.c.post_id == posts.c.id)
        .where(posts.c.source_id == source_id, posts.c.external_id.in_(list(contacts)),
               report_contacts.c.post_id.is_(None))
    ).all()
    rows = [{"post_id": post_id, "ciphertext": vault.seal(contacts[external_id]), "created_at": now}
            for post_id, external_id in found]
    if rows:
        conn.execute(sa.insert(report_contacts), rows)
    return len(rows)


def reveal_contact(store: Store, vault: ContactVault, post_id: int, *, actor: str,
                   now: dt.datetime) -> str | None:
    """A report's contact in clear, for an officer who follows the report up; every look is
    written to the audit log in the same transaction."""
    with store.transaction() as conn:
        ciphertext = conn.scalar(sa.select(report_contacts.c.ciphertext)
                                 .where(report_contacts.c.post_id == post_id))
        if ciphertext is None:
            return None
        audit.record(conn, at=now, actor=actor, action="report_contact.view", object_type="post",
                     object_id=str(post_id), detail={})
    return vault.open(ciphertext)


def purge_contacts(store: Store, older_than: dt.datetime) -> int:
    """Retention: delete the contacts of reports whose text the purge removes (or removed)."""
    expired = sa.select(posts.c.id).where(
        posts.c.platform == PLATFORM,
        sa.or_(posts.c.published_at < older_than, posts.c.text_purged_at.is_not(None)),
    )
    with store.transaction() as conn:
        return conn.execute(sa.delete(report_contacts).where(report_contacts.c.post_id.in_(expired))).rowcount

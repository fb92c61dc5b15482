"""Table definitions. Every change here comes with an Alembic migration in ``migrations/``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit id.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python on both backends (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


posts = Table(
    "posts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source_id", String(64), nullable=False),
    Column("external_id", String(512), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("url", Text),
    # HMAC-SHA256 of the platform handle; NULL where the source's terms forbid any identifier.
    Column("author_pseudonym", String(64)),
    # Raw text is purged after the retention period; the row (and so every count) stays.
    Column("text", Text),
    Column("title", Text),
    Column("language", String(16)),
    Column("content_hash", String(64), nullable=False),
    Column("published_at", UTCDateTime(), nullable=False),
    Column("collected_at", UTCDateTime(), nullable=False),
    Column("text_purged_at", UTCDateTime()),
    Column("geo_lat", Float),
    Column("geo_lon", Float),
    Column("meta", JSON, nullable=False, default=dict),
    UniqueConstraint("source_id", "external_id", name="uq_posts_source_external"),
    Index("ix_posts_published_at", "published_at"),
    Index("ix_posts_content_hash", "content_hash"),
)

fetch_state = Table(
    "fetch_state",
    metadata,
    Column("source_id", String(64), primary_key=True),
    Column("url", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("cursor", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime()),
    Column("last_success_at", UTCDateTime()),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime()),
    Column("status", String(16), nullable=False, default="ok"),
    Column("updated_at", UTCDateTime(), nullable=False),
)

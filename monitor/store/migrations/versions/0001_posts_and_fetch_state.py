"""posts and fetch_state

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import Id, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(512), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("author_pseudonym", sa.String(64)),
        sa.Column("text", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("language", sa.String(16)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=False),
        sa.Column("collected_at", UTCDateTime(), nullable=False),
        sa.Column("text_purged_at", UTCDateTime()),
        sa.Column("geo_lat", sa.Float()),
        sa.Column("geo_lon", sa.Float()),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.UniqueConstraint("source_id", "external_id", name="uq_posts_source_external"),
    )
    op.create_index("ix_posts_published_at", "posts", ["published_at"])
    op.create_index("ix_posts_content_hash", "posts", ["content_hash"])
    op.create_table(
        "fetch_state",
        sa.Column("source_id", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text()),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("cursor", sa.Text()),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", UTCDateTime()),
        sa.Column("last_success_at", UTCDateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_at", UTCDateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fetch_state")
    op.drop_index("ix_posts_content_hash", "posts")
    op.drop_index("ix_posts_published_at", "posts")
    op.drop_table("posts")

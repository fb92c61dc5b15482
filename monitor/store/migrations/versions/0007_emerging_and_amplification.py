"""post_embeddings, narrative_clusters, cluster_windows, amplification_bursts (issue 8)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import Id, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_embeddings",
        sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "narrative_clusters",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("excerpts", sa.JSON(), nullable=False),
        sa.Column("reviewed_by", sa.String(120)),
        sa.Column("reviewed_at", UTCDateTime()),
        sa.Column("review_note", sa.Text()),
        sa.Column("narrative_id", sa.String(120)),
    )
    op.create_table(
        "cluster_windows",
        sa.Column("cluster_id", sa.String(32), sa.ForeignKey("narrative_clusters.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("start", UTCDateTime(), primary_key=True),
        sa.Column("window", sa.String(8), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("authors", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Float(), nullable=False),
        sa.Column("reportable", sa.Boolean(), nullable=False),
        sa.Column("localities", sa.JSON(), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "amplification_bursts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("authors", sa.Integer(), nullable=False),
        sa.Column("new_authors", sa.Integer(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("localities", sa.JSON(), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("signature", "started_at", name="uq_amplification_bursts_signature_start"),
    )
    op.create_index("ix_amplification_bursts_ended_at", "amplification_bursts", ["ended_at"])


def downgrade() -> None:
    op.drop_table("amplification_bursts")
    op.drop_table("cluster_windows")
    op.drop_table("narrative_clusters")
    op.drop_table("post_embeddings")

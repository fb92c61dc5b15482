"""post scores, localities, narrative matches and imported claims

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import Id, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "post_scores",
        sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("scored_at", UTCDateTime(), nullable=False),
        sa.Column("hate", sa.Float()),
        sa.Column("offensive", sa.Float()),
        sa.Column("conspiracy", sa.Float()),
        sa.Column("mobilisation", sa.Float()),
        sa.Column("negativity", sa.Float()),
        sa.Column("tension", sa.Float()),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
    )
    op.create_index("ix_post_scores_status", "post_scores", ["status"])
    op.create_table(
        "post_localities",
        sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("locality_id", sa.String(64), primary_key=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("site_id", sa.String(64)),
    )
    op.create_index("ix_post_localities_locality", "post_localities", ["locality_id"])
    op.create_table(
        "post_narratives",
        sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("narrative_id", sa.String(120), primary_key=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
    )
    op.create_index("ix_post_narratives_narrative", "post_narratives", ["narrative_id"])
    op.create_table(
        "claims",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rating", sa.Text()),
        sa.Column("url", sa.Text()),
        sa.Column("publisher", sa.Text()),
        sa.Column("imported_from", sa.Text(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("claims")
    op.drop_index("ix_post_narratives_narrative", "post_narratives")
    op.drop_table("post_narratives")
    op.drop_index("ix_post_localities_locality", "post_localities")
    op.drop_table("post_localities")
    op.drop_index("ix_post_scores_status", "post_scores")
    op.drop_table("post_scores")

"""index post_scores.scored_at (the aggregation watermark scan)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_post_scores_scored_at", "post_scores", ["scored_at"])


def downgrade() -> None:
    op.drop_index("ix_post_scores_scored_at", "post_scores")

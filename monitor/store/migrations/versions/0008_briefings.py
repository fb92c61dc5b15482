"""briefings: the weekly tension briefing archive

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import Id, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "briefings",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("period_end", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("key_judgement", sa.Text(), nullable=False),
        sa.Column("judgement_edited_by", sa.String(120)),
        sa.Column("judgement_edited_at", UTCDateTime()),
        sa.Column("approved_by", sa.String(120)),
        sa.Column("approved_at", UTCDateTime()),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary()),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.UniqueConstraint("period_start", "period_end", "version", name="uq_briefings_period_version"),
    )


def downgrade() -> None:
    op.drop_table("briefings")

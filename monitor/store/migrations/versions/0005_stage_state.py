"""stage_state: watermarks of pipeline stages (alert evaluation catch-up)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_state",
        sa.Column("stage", sa.String(64), primary_key=True),
        sa.Column("watermark", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stage_state")

"""aggregates, tension levels, overrides, audit log, alerts, silences, dispatch and outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import Id, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "locality_windows",
        sa.Column("locality_id", sa.String(64), primary_key=True),
        sa.Column("window", sa.String(8), primary_key=True),
        sa.Column("start", UTCDateTime(), primary_key=True),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("unread", sa.Integer(), nullable=False),
        sa.Column("hate", sa.Integer(), nullable=False),
        sa.Column("offensive", sa.Integer(), nullable=False),
        sa.Column("conspiracy", sa.Integer(), nullable=False),
        sa.Column("narrative", sa.Integer(), nullable=False),
        sa.Column("mobilisation", sa.Integer(), nullable=False),
        sa.Column("sites", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("authors", sa.Integer(), nullable=False),
        sa.Column("negativity_sum", sa.Float(), nullable=False),
        sa.Column("tension_sum", sa.Float(), nullable=False),
        sa.Column("tension_max", sa.Float(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_locality_windows_window_start", "locality_windows", ["window", "start"])
    op.create_table(
        "narrative_windows",
        sa.Column("narrative_id", sa.String(120), primary_key=True),
        sa.Column("window", sa.String(8), primary_key=True),
        sa.Column("start", UTCDateTime(), primary_key=True),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("localities", sa.JSON(), nullable=False),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_narrative_windows_window_start", "narrative_windows", ["window", "start"])
    op.create_table(
        "tension_levels",
        sa.Column("locality_id", sa.String(64), primary_key=True),
        sa.Column("day", UTCDateTime(), primary_key=True),
        sa.Column("index", sa.Float(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("trend", sa.Float(), nullable=False),
        sa.Column("drivers", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "level_overrides",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("locality_id", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(120), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime()),
        sa.Column("cleared_at", UTCDateTime()),
    )
    op.create_index("ix_level_overrides_locality", "level_overrides", ["locality_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.String(200)),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "alerts",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("active_since", UTCDateTime()),
        sa.Column("fired_at", UTCDateTime()),
        sa.Column("resolved_at", UTCDateTime()),
        sa.Column("last_true_at", UTCDateTime()),
        sa.Column("evaluated_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_by", sa.String(120)),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("ack_comment", sa.Text()),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_table(
        "alert_events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("from_state", sa.String(12)),
        sa.Column("to_state", sa.String(12), nullable=False),
        sa.Column("value", sa.Float()),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_alert_events_fingerprint", "alert_events", ["fingerprint"])
    op.create_index("ix_alert_events_at", "alert_events", ["at"])
    op.create_table(
        "silences",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("expired_at", UTCDateTime()),
    )
    op.create_table(
        "notification_groups",
        sa.Column("group_key", sa.String(200), primary_key=True),
        sa.Column("route", sa.String(120), nullable=False),
        sa.Column("receiver", sa.String(64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_sent_at", UTCDateTime()),
        sa.Column("last_sent_alerts", sa.JSON(), nullable=False),
        sa.Column("next_flush_at", UTCDateTime()),
    )
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("receiver", sa.String(64), nullable=False),
        sa.Column("group_key", sa.String(200)),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("sent_at", UTCDateTime()),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_next", "outbox")
    op.drop_table("outbox")
    op.drop_table("notification_groups")
    op.drop_table("silences")
    op.drop_index("ix_alert_events_fingerprint", "alert_events")
    op.drop_index("ix_alert_events_at", "alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alerts_state", "alerts")
    op.drop_table("alerts")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_level_overrides_locality", "level_overrides")
    op.drop_table("level_overrides")
    op.drop_table("tension_levels")
    op.drop_index("ix_narrative_windows_window_start", "narrative_windows")
    op.drop_table("narrative_windows")
    op.drop_index("ix_locality_windows_window_start", "locality_windows")
    op.drop_table("locality_windows")

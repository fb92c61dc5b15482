"""Table definitions. Every change here comes with an Alembic migration in ``migrations/``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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

# -- scoring (classifiers stage) -------------------------------------------------------------

post_scores = Table(
    "post_scores",
    metadata,
    Column("post_id", Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    # scored | not_scored_language (counted but unread: the heads are English-only) |
    # not_scored_error (the scorer failed on it: counted, set aside, reason in explanation.error)
    Column("status", String(24), nullable=False),
    Column("language", String(8), nullable=False),
    Column("model_version", String(200), nullable=False),
    Column("scored_at", UTCDateTime(), nullable=False),
    Column("hate", Float),
    Column("offensive", Float),
    Column("conspiracy", Float),
    Column("mobilisation", Float),
    Column("negativity", Float),
    Column("tension", Float),
    Column("labels", JSON, nullable=False),
    Column("target_groups", JSON, nullable=False),
    Column("explanation", JSON, nullable=False),
    Index("ix_post_scores_status", "status"),
    Index("ix_post_scores_scored_at", "scored_at"),
)

# One row per (post, locality) the post was resolved to; aggregation joins on this.
post_localities = Table(
    "post_localities",
    metadata,
    Column("post_id", Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("locality_id", String(64), primary_key=True),
    Column("confidence", Float, nullable=False),
    Column("site_id", String(64)),  # set when the mention was a sensitive site
    Index("ix_post_localities_locality", "locality_id"),
)

post_narratives = Table(
    "post_narratives",
    metadata,
    Column("post_id", Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("narrative_id", String(120), primary_key=True),
    Column("score", Float, nullable=False),
    Column("level", String(16), nullable=False),  # suggested | confirmed
    Index("ix_post_narratives_narrative", "narrative_id"),
)

# Imported fact-check claims, matched like library narratives.
claims = Table(
    "claims",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("text", Text, nullable=False),
    Column("title", Text),
    Column("status", String(16), nullable=False),  # false | misleading | unverified | true
    Column("rating", Text),
    Column("url", Text),
    Column("publisher", Text),
    Column("imported_from", Text, nullable=False),
    Column("imported_at", UTCDateTime(), nullable=False),
)

# -- aggregation (monitor.aggregate) ---------------------------------------------------------

# Per locality (plus the whole area, locality_id = the area id) and window ("hour" | "day").
# Counts are of posts resolved to the locality; "hate" etc. count posts over the head's threshold.
locality_windows = Table(
    "locality_windows",
    metadata,
    Column("locality_id", String(64), primary_key=True),
    Column("window", String(8), primary_key=True),
    Column("start", UTCDateTime(), primary_key=True),
    Column("posts", Integer, nullable=False),
    Column("scored", Integer, nullable=False),
    Column("unread", Integer, nullable=False),  # not scored: language
    Column("hate", Integer, nullable=False),
    Column("offensive", Integer, nullable=False),
    Column("conspiracy", Integer, nullable=False),
    Column("narrative", Integer, nullable=False),  # matched a false/misleading narrative
    Column("mobilisation", Integer, nullable=False),
    Column("sites", Integer, nullable=False),  # mentioned a sensitive site
    Column("reports", Integer, nullable=False),  # community reports
    Column("authors", Integer, nullable=False),  # distinct pseudonyms (a count, never a list)
    Column("negativity_sum", Float, nullable=False),
    Column("tension_sum", Float, nullable=False),
    Column("tension_max", Float, nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
    Index("ix_locality_windows_window_start", "window", "start"),
)

narrative_windows = Table(
    "narrative_windows",
    metadata,
    Column("narrative_id", String(120), primary_key=True),
    Column("window", String(8), primary_key=True),
    Column("start", UTCDateTime(), primary_key=True),
    Column("posts", Integer, nullable=False),
    Column("localities", JSON, nullable=False),  # {locality_id: posts}
    Column("platforms", JSON, nullable=False),  # {platform: posts}
    Column("computed_at", UTCDateTime(), nullable=False),
    Index("ix_narrative_windows_window_start", "window", "start"),
)

# The computed tension index and level per locality and day, kept for trends and backtests.
tension_levels = Table(
    "tension_levels",
    metadata,
    Column("locality_id", String(64), primary_key=True),
    Column("day", UTCDateTime(), primary_key=True),
    Column("index", Float, nullable=False),  # 0-100
    Column("level", Integer, nullable=False),  # 1-5
    Column("trend", Float, nullable=False),  # index change against the same day last week
    Column("drivers", JSON, nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
)

# An analyst's judgement of a locality's level; the computed level stays visible beside it.
level_overrides = Table(
    "level_overrides",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("locality_id", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("set_by", String(120), nullable=False),
    Column("set_at", UTCDateTime(), nullable=False),
    Column("valid_until", UTCDateTime()),
    Column("cleared_at", UTCDateTime()),
    Index("ix_level_overrides_locality", "locality_id"),
)

# Who did what: overrides, acknowledgements, silences, views of raw posts, rule changes.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", String(200)),
    Column("detail", JSON, nullable=False),
    Index("ix_audit_log_at", "at"),
)

# Where a pipeline stage has got to when that is not derivable from its own rows (the alert
# evaluation's catch-up watermark).
stage_state = Table(
    "stage_state",
    metadata,
    Column("stage", String(64), primary_key=True),
    Column("watermark", UTCDateTime(), nullable=False),
    Column("detail", JSON, nullable=False),
)

# -- emerging narratives and amplification (monitor.emerging, monitor.amplification) ----------

# The sentence embedding of a scored post that may belong to an emerging narrative (flagged
# by a head or tense, and matched to no library narrative), kept so clustering a day needs no
# second encoder pass. float16, unit length. Deleted with the post's text by retention.
post_embeddings = Table(
    "post_embeddings",
    metadata,
    Column("post_id", Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

# A cluster of recent unmatched posts that may be a new narrative, tracked across windows
# under a stable id. Analysts promote it to the narrative library or dismiss it (audited).
narrative_clusters = Table(
    "narrative_clusters",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(12), nullable=False),  # candidate | promoted | dismissed
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("centroid", LargeBinary, nullable=False),  # float32 unit vector
    Column("terms", JSON, nullable=False),
    Column("excerpts", JSON, nullable=False),  # short, with mentions and links removed
    Column("reviewed_by", String(120)),
    Column("reviewed_at", UTCDateTime()),
    Column("review_note", Text),
    Column("narrative_id", String(120)),  # the library entry it was promoted to
)

# One cluster in one window: size, places and platforms (counts only, never authors).
cluster_windows = Table(
    "cluster_windows",
    metadata,
    Column("cluster_id", String(32), ForeignKey("narrative_clusters.id", ondelete="CASCADE"),
           primary_key=True),
    Column("start", UTCDateTime(), primary_key=True),
    Column("window", String(8), nullable=False),
    Column("size", Integer, nullable=False),
    Column("authors", Integer, nullable=False),  # distinct pseudonymous authors: a count only
    Column("flagged", Float, nullable=False),  # share flagged by a head or tense (0-1)
    Column("reportable", Boolean, nullable=False),  # above the reporting threshold
    Column("localities", JSON, nullable=False),
    Column("platforms", JSON, nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
)

# A burst of near-identical text from many distinct pseudonymous authors in a short time.
# Counts, timing and an excerpt only: never the accounts.
amplification_bursts = Table(
    "amplification_bursts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("signature", String(64), nullable=False),  # content hash of the first post seen
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=False),
    Column("posts", Integer, nullable=False),
    Column("authors", Integer, nullable=False),
    Column("new_authors", Integer, nullable=False),  # authors first seen within the burst's day
    Column("excerpt", Text, nullable=False),
    Column("localities", JSON, nullable=False),
    Column("platforms", JSON, nullable=False),
    Column("detected_at", UTCDateTime(), nullable=False),
    UniqueConstraint("signature", "started_at", name="uq_amplification_bursts_signature_start"),
    Index("ix_amplification_bursts_ended_at", "ended_at"),
)

# -- alerts (alerts.*) -----------------------------------------------------------------------

# One row per alert fingerprint (hash of its labels): its current state.
alerts = Table(
    "alerts",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("rule_id", String(64), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("state", String(12), nullable=False),  # pending | firing | resolved
    Column("value", Float),
    Column("active_since", UTCDateTime()),  # condition first true (start of pending)
    Column("fired_at", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    Column("last_true_at", UTCDateTime()),  # for keep_firing_for
    Column("evaluated_at", UTCDateTime(), nullable=False),
    Column("acknowledged_by", String(120)),
    Column("acknowledged_at", UTCDateTime()),
    Column("ack_comment", Text),
    Index("ix_alerts_state", "state"),
)

# Full history: every state change of every alert.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("from_state", String(12)),
    Column("to_state", String(12), nullable=False),
    Column("value", Float),
    Column("detail", JSON, nullable=False),
    Index("ix_alert_events_fingerprint", "fingerprint"),
    Index("ix_alert_events_at", "at"),
)

silences = Table(
    "silences",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("matchers", JSON, nullable=False),  # [{"label", "value", "op": "=" | "!=" | "=~"}]
    Column("reason", Text, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("expired_at", UTCDateTime()),  # set when ended early by hand
)

# Dispatch state of each notification group (route + group_by label values).
notification_groups = Table(
    "notification_groups",
    metadata,
    Column("group_key", String(200), primary_key=True),
    Column("route", String(120), nullable=False),
    Column("receiver", String(64), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_sent_at", UTCDateTime()),
    Column("last_sent_alerts", JSON, nullable=False),  # {fingerprint: state} as last notified
    Column("next_flush_at", UTCDateTime()),
)

# Durable outbox: written in the same transaction as the dispatch state change, delivered by
# a worker with retries. The idempotency key travels in the message so a receiver can dedupe.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("receiver", String(64), nullable=False),
    Column("group_key", String(200)),
    Column("kind", String(16), nullable=False),  # alert | briefing
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(12), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

# -- community reports (monitor.reports) -----------------------------------------------------

# A reporter's contact, Fernet-encrypted, kept apart from the report (a row of ``posts`` with
# platform "report") so the post never holds it. Deleted by the retention purge of its post.
report_contacts = Table(
    "report_contacts",
    metadata,
    Column("post_id", Id, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("ciphertext", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# -- weekly briefing (monitor.briefing) ------------------------------------------------------

# Each generated briefing, kept as rendered (HTML, Markdown, PDF) with the figures behind it.
# The key judgement is a draft until an analyst approves it; edits and approval are audited.
briefings = Table(
    "briefings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("period_start", UTCDateTime(), nullable=False),
    Column("period_end", UTCDateTime(), nullable=False),  # exclusive
    Column("version", Integer, nullable=False),  # 1, 2, ... per period
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(12), nullable=False),  # draft | approved
    Column("key_judgement", Text, nullable=False),
    Column("judgement_edited_by", String(120)),
    Column("judgement_edited_at", UTCDateTime()),
    Column("approved_by", String(120)),
    Column("approved_at", UTCDateTime()),
    Column("html", Text, nullable=False),
    Column("markdown", Text, nullable=False),
    Column("pdf", LargeBinary),
    Column("data", JSON, nullable=False),  # the figures the briefing was rendered from
    UniqueConstraint("period_start", "period_end", "version", name="uq_briefings_period_version"),
)

# -- threshold tuning (alerts.backtest, alerts.incidents, alerts.rule_versions) ----------------

# Real incidents marked by analysts, so a backtest can say which alerts came before them.
incidents = Table(
    "incidents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("locality_id", String(64), nullable=False),  # a locality, or the area id
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_incidents_occurred_at", "occurred_at"),
)

# Every saved version of config/rules.yaml, verbatim (comments included), so a change can be
# diffed and reverted; who saved it and why is also in the audit log.
rule_versions = Table(
    "rule_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("yaml", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
)

# -- web access and analyst feedback (monitor.web) ---------------------------------------------

# Local accounts. Roles, each including the ones before: viewer < officer < analyst < admin.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("disabled_at", UTCDateTime()),
)

# Tokens for the JSON API, stored as their SHA-256 (the token itself is shown once).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(120), nullable=False),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

# An analyst's verdict on one head's label for one post: training data for the heads.
post_feedback = Table(
    "post_feedback",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("post_id", Id, ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    Column("head", String(32), nullable=False),  # hate | offensive | conspiracy | mobilisation
    Column("label", Boolean, nullable=False),  # the correct answer: does the head's label apply?
    Column("model_version", String(200), nullable=False),
    Column("score", Float),  # the head's score when the analyst judged it
    Column("text", Text),  # kept for training until the post's retention; blanked with it
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("post_id", "head", name="uq_post_feedback_post_head"),
)

"""Handoff to human advisors: tickets, their messages and events, advisors' presence.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-28

Its own branch from 0001; it needs the desk's accounts (0002) for its foreign keys.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("handoff",)
depends_on = "0002"

STATUSES = ("waiting", "active", "closing", "closed")
REASONS = ("asked", "unsure", "safety")
ROLES = ("person", "bot", "advisor", "note", "system")
DELIVERIES = ("pending", "sending", "held", "sent", "failed")
OPEN = "status IN ('waiting', 'active', 'closing')"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(160), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(10), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("line", sa.String(20), nullable=True),
        sa.Column("country", sa.String(40), nullable=True),
        sa.Column("topic", sa.String(120), nullable=True),
        sa.Column("article_id", sa.String(160), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("advisor_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_person_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_advisor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waiting_notice_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(10), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("messages_since_compaction", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rating", sa.Integer, nullable=True),
        sa.Column("rating_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_one_of("status", STATUSES), name="ck_handoff_tickets_status"),
        sa.CheckConstraint(_one_of("reason", REASONS), name="ck_handoff_tickets_reason"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_handoff_tickets_rating"),
    )
    op.create_index("ix_handoff_tickets_sender_id", "handoff_tickets", ["sender_id"])
    op.create_index("ix_handoff_tickets_advisor_id", "handoff_tickets", ["advisor_id"])
    op.create_index("ix_handoff_tickets_status_queue", "handoff_tickets", ["status", "priority", "created_at"])
    op.create_index("uq_handoff_tickets_open_sender", "handoff_tickets", ["sender_id"], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))

    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("article_id", sa.String(160), nullable=True),
        sa.Column("attachments", sa.JSON, nullable=True),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("author_name", sa.String(120), nullable=True),
        sa.Column("source_key", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery", sa.String(10), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("kind", sa.String(20), nullable=True),
        sa.CheckConstraint(_one_of("role", ROLES), name="ck_handoff_messages_role"),
        sa.CheckConstraint(f"delivery IS NULL OR {_one_of('delivery', DELIVERIES)}", name="ck_handoff_messages_delivery"),
        sa.UniqueConstraint("ticket_id", "source_key", name="uq_handoff_messages_source"),
    )
    op.create_index("ix_handoff_messages_ticket_id", "handoff_messages", ["ticket_id"])
    op.create_index("ix_handoff_messages_delivery", "handoff_messages", ["delivery", "next_attempt_at"])

    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("detail", sa.String(300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handoff_events_ticket_id", "handoff_events", ["ticket_id"])

    op.create_table(
        "handoff_presence",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("handoff_presence")
    op.drop_table("handoff_events")
    op.drop_table("handoff_messages")
    op.drop_table("handoff_tickets")

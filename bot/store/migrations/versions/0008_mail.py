"""The e-mail door: threads and their messages (bot/mail/schema.py).

Revision ID: mail_0001
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "mail_0001"
down_revision = "0004"
branch_labels = ("mail",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_threads",
        sa.Column("sender_id", sa.String(160), primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("name", sa.String(120), nullable=True),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("last_message_id", sa.String(250), nullable=True),
        sa.Column("message_ids", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mail_threads_address", "mail_threads", ["address"])
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(250), nullable=False, unique=True),
        sa.Column("sender_id", sa.String(160), nullable=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("handoff_tickets.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mail_messages_sender_id", "mail_messages", ["sender_id"])


def downgrade() -> None:
    op.drop_table("mail_messages")
    op.drop_table("mail_threads")

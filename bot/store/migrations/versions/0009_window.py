"""The in-person window: walk-in consultations and the sending of their articles (bot/window/schema.py).

Revision ID: window_0001
Revises: 0001
Create Date: 2026-12-05

Its own branch from 0001; it needs the desk's accounts (0002) for its foreign keys.
"""

import sqlalchemy as sa
from alembic import op

revision = "window_0001"
down_revision = "0001"
branch_labels = ("window",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "window_visits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("advisor_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("office", sa.String(80), nullable=True),
        sa.Column("line", sa.String(20), nullable=False),
        sa.Column("country", sa.String(40), nullable=True),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("articles", sa.JSON, nullable=False),
        sa.Column("referred", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("referred_to", sa.String(160), nullable=True),
        sa.Column("contact_email", sa.String(254), nullable=True),
        sa.Column("contact_whatsapp", sa.String(20), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        # a contact only with the person's consent, at the database too
        sa.CheckConstraint("(contact_email IS NULL AND contact_whatsapp IS NULL) OR consent_at IS NOT NULL",
                           name="ck_window_visits_contact_consent"),
    )
    op.create_index("ix_window_visits_created_at", "window_visits", ["created_at"])
    op.create_index("ix_window_visits_advisor_id", "window_visits", ["advisor_id"])
    op.create_index("ix_window_visits_contact_email", "window_visits", ["contact_email"])
    op.create_table(
        "window_sends",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("visit_id", sa.Integer, sa.ForeignKey("window_visits.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("detail", sa.String(300), nullable=True),
        sa.Column("advisor_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_window_sends_visit_id", "window_sends", ["visit_id"])


def downgrade() -> None:
    op.drop_table("window_sends")
    op.drop_table("window_visits")

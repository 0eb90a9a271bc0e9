"""The in-person window sends its articles to WhatsApp: when they were delivered, and since when an
approved template waits for the person to write back before the articles go out (bot/window/whatsapp.py).

Revision ID: window_whatsapp_0001
Revises: window_0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "window_whatsapp_0001"
down_revision = "window_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("window_visits") as batch:
        batch.add_column(sa.Column("whatsapp_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("whatsapp_waiting_since", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_window_visits_whatsapp_waiting_since", ["whatsapp_waiting_since"])


def downgrade() -> None:
    with op.batch_alter_table("window_visits") as batch:
        batch.drop_index("ix_window_visits_whatsapp_waiting_since")
        batch.drop_column("whatsapp_waiting_since")
        batch.drop_column("whatsapp_sent_at")

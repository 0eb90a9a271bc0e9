"""The handoff: a claim on giving a conversation back to the assistant, so that two desk processes (an
advisor's close in one, the worker's round in another) do it once (handoff_tickets.resume_claimed_at).

Revision ID: handoff_resume_0001
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "handoff_resume_0001"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_tickets") as batch:
        batch.add_column(sa.Column("resume_claimed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_tickets") as batch:
        batch.drop_column("resume_claimed_at")

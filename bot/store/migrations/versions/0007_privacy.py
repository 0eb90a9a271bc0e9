"""Privacy: the retention job's daily lock and the audit of erasures.

Revision ID: privacy_0001
Revises: 0001
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "privacy_0001"
down_revision = "0001"
branch_labels = ("privacy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_runs",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
    )
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(10), nullable=False),
        sa.Column("staff_id", sa.String(64), nullable=True),
        sa.Column("staff_email", sa.String(254), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
    )
    op.create_index("ix_privacy_erasures_at", "privacy_erasures", ["at"])


def downgrade() -> None:
    op.drop_table("privacy_erasures")
    op.drop_table("privacy_runs")

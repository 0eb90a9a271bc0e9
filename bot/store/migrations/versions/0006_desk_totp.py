"""Advisor desk: a TOTP second factor per account and the half-done logins that wait for its code.

Revision ID: 0006_desk_totp
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_desk_totp"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "desk_login_challenges",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("secret", sa.String(64), nullable=True),
        sa.Column("next_path", sa.String(500), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_desk_login_challenges_user_id", "desk_login_challenges", ["user_id"])
    op.create_index("ix_desk_login_challenges_expires_at", "desk_login_challenges", ["expires_at"])
    # Failed logins are now counted per (address, account) and per address: the old per-account
    # records mean nothing under the new keys.
    op.execute("DELETE FROM desk_login_failures")


def downgrade() -> None:
    op.drop_table("desk_login_challenges")
    with op.batch_alter_table("desk_users") as batch:
        batch.drop_column("totp_enrolled_at")
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")

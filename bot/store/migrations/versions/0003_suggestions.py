"""La voz del migrante: suggestions and their history of events.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("suggestions",)
depends_on = None

KINDS = ("sugerencia", "inquietud", "queja", "reconocimiento")
STATUSES = ("new", "in_review", "forwarded", "answered", "archived")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("client_key", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("sender_id", sa.String(160), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("country", sa.String(40), nullable=False),
        sa.Column("city", sa.String(80), nullable=True),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("contact", sa.String(254), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_one_of("kind", KINDS), name="ck_suggestions_kind"),
        sa.CheckConstraint(_one_of("status", STATUSES), name="ck_suggestions_status"),
    )
    for column in ("sender_id", "kind", "country", "topic", "status", "created_at"):
        op.create_index(f"ix_suggestions_{column}", "suggestions", [column])
    op.create_table(
        "suggestion_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suggestion_id", sa.Integer, sa.ForeignKey("suggestions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("staff_id", sa.String(64), nullable=True),
        sa.Column("staff_email", sa.String(254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_suggestion_events_suggestion_id", "suggestion_events", ["suggestion_id"])


def downgrade() -> None:
    op.drop_table("suggestion_events")
    op.drop_table("suggestions")

"""Answer feedback: "¿Te sirvió?" ratings of the knowledge base's answers.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("feedback",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_ratings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.String(160), nullable=False),
        sa.Column("last_reviewed", sa.Date, nullable=False),
        sa.Column("useful", sa.Boolean, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("sender_id", sa.String(160), nullable=True),
        sa.Column("conversation", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sender_id", "conversation", "article_id", name="uq_answer_ratings_once"),
    )
    op.create_index("ix_answer_ratings_article_id", "answer_ratings", ["article_id"])
    op.create_index("ix_answer_ratings_sender_id", "answer_ratings", ["sender_id"])
    op.create_index("ix_answer_ratings_created_at", "answer_ratings", ["created_at"])


def downgrade() -> None:
    op.drop_table("answer_ratings")

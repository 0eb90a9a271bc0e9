"""The table of answer ratings (on the shared metadata). Change it only with a new migration (this
package's first one is bot/store/migrations/versions/0005_feedback.py)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Integer, String, Table, UniqueConstraint

from bot.store.schema import metadata

# One row per rated article per conversation. `last_reviewed` is the article's date when it was
# rated, so that ratings of an older version can be told apart after an edit. `sender_id` and
# `conversation` (the start of the Rasa session) exist only to keep one rating per article per
# conversation: they are cleared after a day (bot.feedback.store.SENDER_KEPT) and on erasure,
# leaving an anonymous rating.
answer_ratings = Table(
    "answer_ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(160), nullable=False, index=True),
    Column("last_reviewed", Date, nullable=False),
    Column("useful", Boolean, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("sender_id", String(160), nullable=True, index=True),
    Column("conversation", String(32), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("sender_id", "conversation", "article_id", name="uq_answer_ratings_once"),
)

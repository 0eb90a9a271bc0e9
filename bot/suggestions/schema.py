"""Tables of "la voz del migrante" (on the shared metadata). Change them only with a new migration
(this package's first one is bot/store/migrations/versions/0003_suggestions.py)."""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Table, Text

from bot.store.schema import metadata

KINDS: tuple[str, ...] = ("sugerencia", "inquietud", "queja", "reconocimiento")
STATUSES: tuple[str, ...] = ("new", "in_review", "forwarded", "answered", "archived")

TEXT_MAX = 2000
CITY_MAX = 80
TOPIC_MAX = 120
CONTACT_MAX = 254


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# One row per suggestion. `client_key` is the SHA-256 of the key the caller sends with a submit
# (so that a retried submit finds the same row without storing anything personal); `sender_id`,
# `contact` and `city` are personal data and become NULL on erasure, when `text` and `notes`
# are scrubbed and `personal_data_erased_at` is set.
suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("client_key", String(64), nullable=False, unique=True),
    Column("channel", String(20), nullable=False),
    Column("sender_id", String(160), nullable=True, index=True),
    Column("kind", String(20), nullable=False, index=True),
    Column("country", String(40), nullable=False, index=True),
    Column("city", String(CITY_MAX), nullable=True),
    Column("topic", String(TOPIC_MAX), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("contact", String(CONTACT_MAX), nullable=True),
    Column("consent_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("tags", JSON, nullable=False),  # sorted list of strings
    Column("notes", JSON, nullable=False),  # list of {"at", "staff_id", "staff_email", "text"}
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("personal_data_erased_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(_one_of("kind", KINDS), name="ck_suggestions_kind"),
    CheckConstraint(_one_of("status", STATUSES), name="ck_suggestions_status"),
)

# What happened to a suggestion, oldest first: created, status, tag_added, tag_removed,
# note_added, erased. `staff_id`/`staff_email` are NULL for what the person or the system did.
suggestion_events = Table(
    "suggestion_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("suggestion_id", Integer, ForeignKey("suggestions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("from_status", String(20), nullable=True),
    Column("to_status", String(20), nullable=True),
    Column("detail", Text, nullable=True),
    Column("staff_id", String(64), nullable=True),
    Column("staff_email", String(254), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
